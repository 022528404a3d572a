"""The course's autograder: graded pytest tests run against untrusted student code.

One job per module:

- `collect`: find submissions (folders, zips) and unpack them safely;
- `plugin`: the pytest plugin of graded tests (markers, options, fixtures);
- `sandbox`: the grader's side of isolation (zygote, student processes, cleanup);
- `confine`: operating-system confinement (namespaces, limits, uid, capabilities);
- `child`: what runs inside a student's process (confinement, import, protocol loop);
- `protocol`: length-prefixed JSON frames between the two;
- `remote`: the grader's view of student objects (method calls, exceptions);
- `fakes`: the fake Redis and fake chat model tests inspect;
- `score`: points from markers; `runner`: one submission under a wall-clock cap;
- `report`: results.json, JUnit XML, feedback, gradebook, statistics;
- `batch`: many submissions in parallel; `release`, `gradescope`: what ships;
- `cli`: `python -m grading check|grade|batch|release|gradescope`.

See grading/README.md for the instructor guide.
"""
