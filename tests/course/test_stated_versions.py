"""Versions the course's prose states are the lock's: moving a pin means rereading them.

The README ("A word on deprecation", "Supported versions") and the lessons' text name the
versions they describe ("In the pinned LangChain (langchain-core 1.7.2)"). Each such
mention must be the version in `requirements.lock`; a version a deprecation started in
("deprecated since langchain-core 1.3.3") is history, not a pin, and is left alone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.course.test_environment import lock_pins

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {
    "langchain-core": "langchain-core",
    "langchain-community": "langchain-community",
    "langchain-openai": "langchain-openai",
    "langchain-classic": "langchain-classic",
    "langgraph": "langgraph",
    "langgraph-checkpoint": "langgraph-checkpoint",
    "langgraph-checkpoint-sqlite": "langgraph-checkpoint-sqlite",
    "langgraph-checkpoint-postgres": "langgraph-checkpoint-postgres",
    "redis": "redis",
    "fakeredis": "fakeredis",
    "JupyterLab": "jupyterlab",
}
# "langchain-core 1.7.2", "`langchain-core` (1.7.2)", "langgraph\n1.2.22"; not after "since".
MENTION = re.compile(
    r"(?P<since>since\s+)?(?<![\w-])`?(?P<name>"
    + "|".join(sorted((re.escape(n) for n in PACKAGES), key=len, reverse=True))
    + r")`?(?![\w-])\s+\(?(?P<version>\d+\.\d+\.\d+)\b"
)


def stated_versions(text: str) -> list[tuple[str, str]]:
    """(lock name, version) of every current-version mention in a text."""
    return [(PACKAGES[m["name"]], m["version"]) for m in MENTION.finditer(text) if not m["since"]]


def _texts() -> dict[str, str]:
    """The README's text, and each lesson's markdown cells joined."""
    texts = {"README.md": (REPO / "README.md").read_text(encoding="utf-8")}
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = [c for c in notebook["cells"] if c["cell_type"] == "markdown"]
        texts[path.name] = "\n\n".join("".join(cell["source"]) for cell in cells)
    return texts


def test_mentions_are_found_and_history_is_skipped():
    text = (
        "In the pinned LangChain (langchain-core 1.7.2), the class is deprecated since\n"
        "langchain-core 1.3.3; `langchain-core` (1.7.2) and langchain-community 0.4.2,\n"
        "langgraph\n1.2.22, JupyterLab 4.6.6, langgraph-checkpoint (4.3.2)."
    )
    assert stated_versions(text) == [
        ("langchain-core", "1.7.2"),
        ("langchain-core", "1.7.2"),
        ("langchain-community", "0.4.2"),
        ("langgraph", "1.2.22"),
        ("jupyterlab", "4.6.6"),
        ("langgraph-checkpoint", "4.3.2"),
    ]


def test_the_deprecation_word_and_lesson_1_state_the_pinned_versions():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A word on deprecation", 1)[1].split("\n## ", 1)[0]
    assert ("langchain-core", lock_pins()["langchain-core"]) in stated_versions(section)
    (lesson_1,) = (text for name, text in _texts().items() if name.startswith("01_"))
    stated = set(stated_versions(lesson_1))
    assert ("langchain-core", lock_pins()["langchain-core"]) in stated
    assert ("langchain-community", lock_pins()["langchain-community"]) in stated


@pytest.mark.parametrize("where", sorted(_texts()))
def test_every_stated_version_is_the_locked_one(where):
    locked = lock_pins()
    stated = stated_versions(_texts()[where])
    wrong = [(name, v, locked.get(name)) for name, v in stated if locked.get(name) != v]
    assert not wrong, f"{where} states versions other than requirements.lock's: {wrong}"
