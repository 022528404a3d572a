"""The drift canary's report (`make canary`): versions and per-lesson results."""

from __future__ import annotations

from xml.sax.saxutils import escape

from memory_course.tooling import canary

# As nbval writes it into the JUnit XML (colour codes spelled #x1B[...m), full diff.
SETUP_DIFF = """#x1B[91mNotebook cell execution failed#x1B[0m
#x1B[94mCell 2: Cell outputs differ

Input:
#x1B[0mfrom memory_course.notebook_setup import show_setup

show_setup()

#x1B[94mTraceback:#x1B[0m
#x1B[94m mismatch 'stdout'#x1B[91m

 assert reference_output == test_output failed:

  'Python 3.11\\nlangchain-core       1.7.2\\n' == 'Python 3.11\\nlangchain-core       1.9.0\\n'

    Python 3.11
  - langchain-core       1.9.0
  ?                        ^ ^
  + langchain-core       1.7.2
  ?                        ^ ^
    langchain-community  0.4.2
  - Not the course's versions: langchain-core 1.9.0 (course lock: 1.7.2). Run `make lab` to fix.
    chat model           OfflineChatModel (deterministic, no network)
#x1B[0m
"""
# The Setup cell again, but a backend line changed too: not only the banner.
SETUP_AND_MORE = SETUP_DIFF.replace(
    "    chat model           OfflineChatModel",
    "  - chat model           ChatOpenAI\n  + chat model           OfflineChatModel",
)
OUTPUT_DIFF = """Notebook cell execution failed
Cell 5: Cell outputs differ

Input:
print(history.messages)

Traceback:
 mismatch 'stdout'
 assert reference_output == test_output failed:
  - [HumanMessage(content='hi')]
  + [HumanMessage(content='hi', id='...')]
"""
EXCEPTION = """Notebook cell execution failed
Cell 7: Cell execution caused an exception

Input:
chain.invoke({"input": "hi"})

Traceback:
AttributeError: 'RunnableWithMessageHistory' object has no attribute 'history_factory_config'
"""
SETUP_EXCEPTION = """Notebook cell execution failed
Cell 2: Cell execution caused an exception

Input:
from memory_course.notebook_setup import show_setup

show_setup()

Traceback:
ImportError: cannot import name 'LangChainDeprecationWarning' from 'langchain_core._api'
"""


def _case(notebook: str, cell: int, failure: str | None = None) -> str:
    body = ""
    if failure is not None:
        body = f'<failure message="{escape(failure.splitlines()[1])}">{escape(failure)}</failure>'
    return (
        f'<testcase classname="notebooks.{notebook}.ipynb" name="Cell {cell}" time="0.1">'
        f"{body}</testcase>"
    )


def _junit(*cases: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">'
        + "".join(cases)
        + "</testsuite></testsuites>"
    )


def test_a_failing_lesson_reports_its_first_differing_cell_and_error():
    xml = _junit(
        _case("01_runnable_with_message_history", 0),
        _case("01_runnable_with_message_history", 2, SETUP_DIFF),
        _case("01_runnable_with_message_history", 5),
        _case("05_persistence_backends", 0),
        _case("05_persistence_backends", 2, SETUP_DIFF),
        _case("05_persistence_backends", 7, EXCEPTION),
        _case("05_persistence_backends", 5, OUTPUT_DIFF),
        '<testcase classname="tests.lessons.test_sessions" name="test_ok" time="0.1"/>',
    )
    result = canary.parse_junit(xml)

    first, fifth = result.lessons.values()
    assert first.lesson == "01_runnable_with_message_history"
    assert first.passed and first.banner_only and first.failed_cells == [2]
    assert fifth.lesson == "05_persistence_backends"
    assert not fifth.passed and not fifth.banner_only
    assert fifth.failed_cells == [2, 5, 7]
    assert fifth.first_cell == 5  # the banner is expected; the first real difference is cell 5
    assert "Cell outputs differ" in fifth.error and "id='...'" in fifth.error
    assert not result.passed and result.other_failures == [] and result.tests == 8

    report = canary.format_report([], result)
    assert report.startswith("# Drift canary: FAIL")
    assert "| 01_runnable_with_message_history | pass (Setup banner only) | | |" in report
    assert "| 05_persistence_backends | FAIL | Cell 5 | Cell 5: Cell outputs differ" in report


def test_only_the_setup_banner_is_forgiven():
    # The Setup cell raising is a failure like any other; so is a non-lesson test failing.
    xml = _junit(
        _case("02_input_output_keys", 2, SETUP_EXCEPTION),
        _case("02_input_output_keys", 3),
        '<testcase classname="tests.lessons.test_chat_service" name="test_history" time="0.2">'
        '<failure message="AssertionError: 3 != 2">AssertionError: 3 != 2</failure></testcase>',
    )
    result = canary.parse_junit(xml)
    (lesson,) = result.lessons.values()
    assert not lesson.passed and lesson.first_cell == 2
    assert "ImportError" in lesson.error
    (other,) = canary.parse_junit(_junit(_case("03_x", 2, SETUP_AND_MORE))).lessons.values()
    assert not other.passed and other.first_cell == 2
    truncated = SETUP_DIFF + "  ...Full output truncated, use '-vv' to show\n"
    (cut,) = canary.parse_junit(_junit(_case("03_x", 2, truncated))).lessons.values()
    assert not cut.passed
    assert result.other_failures == [
        ("tests.lessons.test_chat_service::test_history", "AssertionError: 3 != 2")
    ]
    assert not result.passed


def test_every_lesson_passing_with_only_banners_is_a_pass():
    xml = _junit(
        _case("03_multi_session_architecture", 2, SETUP_DIFF),
        _case("03_multi_session_architecture", 4),
        _case("04_multi_key_sessions", 1),
        '<testcase classname="tests.course.test_clock" name="test_skip" time="0.0">'
        '<skipped message="no Redis"/></testcase>',
    )
    result = canary.parse_junit(xml)
    assert result.passed and result.skipped == 1
    assert canary.format_report([], result).startswith("# Drift canary: PASS")


def test_version_table_lists_pins_newest_and_what_moved():
    lock = """# Every package of the course environment, pinned.
langchain-core==1.7.2
fakeredis==2.40.0
redis==8.1.0
certifi==2026.1.1
async-timeout==5.0.1 ; python_full_version < "3.11.3"
"""
    pinned = canary.read_pins(lock)
    assert pinned["async-timeout"] == "5.0.1" and pinned["langchain-core"] == "1.7.2"
    newest = {"langchain_core": "1.8.3", "fakeredis": "2.41.0", "redis": "8.1.0"}
    newest["certifi"] = "2026.10.19"
    newest["pip"] = "26.3"  # in every venv, not in the lock
    rows = canary.version_rows(
        pinned, newest, packages=("langchain-core", "fakeredis[lua]", "redis")
    )
    assert [(r.package, r.pinned, r.newest, r.moved) for r in rows] == [
        ("langchain-core", "1.7.2", "1.8.3", True),
        ("fakeredis", "2.40.0", "2.41.0", True),
        ("redis", "8.1.0", "8.1.0", False),
        # a dependency the upgrade moved; async-timeout is not installed here: not a move
        ("certifi", "2026.1.1", "2026.10.19", True),
    ]
    table = canary.format_version_table(rows)
    assert table.splitlines()[:3] == [
        "| package | pinned | newest | |",
        "| --- | --- | --- | --- |",
        "| langchain-core | 1.7.2 | 1.8.3 | moved |",
    ]
    assert "| redis | 8.1.0 | 8.1.0 |  |" in table


def test_every_canary_package_is_a_course_dependency():
    lock = canary.read_pins((canary.REPO / "requirements.lock").read_text(encoding="utf-8"))
    assert {canary.normal(p) for p in canary.CANARY_PACKAGES} <= set(lock)
