"""`silence_known_deprecations()` hides exactly the known warnings and nothing else.

Each check runs in a fresh interpreter: warnings fire once per process and location,
and the import-time langchain-community notice can only be observed in a new process.
"""

from __future__ import annotations

import json
import subprocess
import sys

from memory_course.deprecations import KNOWN_DEPRECATIONS, filterwarnings_lines

TRIGGER = """
import json, warnings
warnings.simplefilter("default")
{silence}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    {silence_inside}
    import langchain_community  # sunset notice at import
    from langchain_core.chat_history import InMemoryChatMessageHistory
    from langchain_core.runnables import RunnableLambda
    from langchain_core.runnables.history import RunnableWithMessageHistory
    import langchain_classic  # its import re-enables LangChain deprecation warnings
    from langchain_classic.memory import ConversationBufferMemory
    ConversationBufferMemory()
    history = InMemoryChatMessageHistory()
    RunnableWithMessageHistory(RunnableLambda(lambda x: x), lambda session_id: history)
    warnings.warn("an unrelated deprecation", DeprecationWarning)
print(json.dumps([str(w.message) for w in caught]))
"""


def _warnings(silence: bool) -> list[str]:
    call = "from memory_course import silence_known_deprecations; silence_known_deprecations()"
    code = TRIGGER.format(silence="", silence_inside=call if silence else "pass")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_without_silencing_the_course_apis_warn():
    messages = _warnings(silence=False)
    assert any("RunnableWithMessageHistory is deprecated" in m for m in messages)
    assert any("InMemoryChatMessageHistory" in m and "1.6.4" in m for m in messages)
    assert any("`langchain-community` is being sunset" in m for m in messages)
    assert any("ConversationBufferMemory" in m for m in messages)


def test_silencing_hides_exactly_the_known_ones():
    assert _warnings(silence=True) == ["an unrelated deprecation"]


def test_pytest_uses_the_same_list():
    lines = filterwarnings_lines()
    assert len(lines) == len(KNOWN_DEPRECATIONS)
    for line, known in zip(lines, KNOWN_DEPRECATIONS, strict=True):
        assert line.startswith(f"ignore:{known.message}:")
