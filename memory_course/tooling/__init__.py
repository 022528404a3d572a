"""Maintainers' tooling, never imported by the lessons.

- `navigation`: the lessons' navigation cells and the README's course map (`make nav`);
- `notebook_runner`: executes the lessons and stores their outputs (`make notebooks`);
- `canary`: the course against the newest LangChain (`make canary`; standard library only);
- `stubgen`: exercise stubs generated from their marked reference solutions (`make stub`).
"""
