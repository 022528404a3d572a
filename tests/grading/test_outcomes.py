"""The grader's verdicts on known submissions: the reference, the stub, partial and hostile ones.

One batch (two workers, both cores) grades every fixture of tests/fixtures/submissions
plus the reference (zipped, inside a folder) and the exercise stub; each test below
checks one submission's outcome exactly: which tests passed, hence its score.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import psutil
import pytest

from grading import defaults
from grading.batch import BatchSummary
from grading.release import hidden_fingerprints
from grading.score import PASSED, GradingResult
from tests.submission_patches import patched_submissions

# The shared batch is built inside the first test's setup: allow for a loaded machine.
pytestmark = pytest.mark.timeout(900)

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "submissions"
ATTACKS = REPO / "tests" / "fixtures" / "attacks"
DAEMON_MARKER = "grading-fixture-daemon-3f9c1e"
# The instructor's environment when grading: no byte of it may reach a submission.
SECRET_NAME, SECRET_VALUE = "GRADER_FIXTURE_API_KEY", "sk-fixture-7d1f0c2b9e"
# Attacks graded twice, at the same time, to attack each other.
PAIRED_ATTACKS = {"neighbour"}
# Submissions that attack files or processes with the grader's own uid when they are
# not confined: graded only where the grader runs them under a uid of their own.
NEEDS_ROOT = {"tamper", "import_solution"}

GRADESCOPE_SCHEMA = {
    "type": "object",
    "required": ["score", "execution_time", "tests"],
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "stdout_visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "score", "max_score", "status", "output", "visibility"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "score": {"type": "number", "minimum": 0},
                    "max_score": {"type": "number", "minimum": 0},
                    "status": {"enum": ["passed", "failed"]},
                    "output": {"type": "string"},
                    "visibility": {
                        "enum": ["hidden", "after_due_date", "after_published", "visible"]
                    },
                },
            },
        },
    },
}


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


def _survivors(results) -> list[dict]:
    """Processes of the graded submissions still alive: under their dedicated uids when
    the grader had them (other grading runs on the machine have other uids), else the
    daemon fixture's marked processes."""
    uids = {
        int(p.rsplit(" ", 1)[1])
        for r in results
        for p in r.protections
        if p.startswith("dedicated uid")
    }
    found = []
    for proc in psutil.process_iter(["cmdline", "uids", "pid"]):
        marked = DAEMON_MARKER in " ".join(proc.info.get("cmdline") or [])
        uid = proc.info["uids"].real if proc.info.get("uids") else None
        if (uids and uid in uids) or (not uids and marked):
            found.append(proc.info)
    return found


def _fixture_dirs() -> list[Path]:
    """The fixture submissions this machine can grade safely (see NEEDS_ROOT)."""
    return [
        path
        for path in sorted(FIXTURES.iterdir())
        if path.is_dir()
        and not path.name.startswith(".")
        and (os.geteuid() == 0 or path.name not in NEEDS_ROOT)
    ]


@pytest.fixture(scope="session")
def batch(tmp_path_factory):
    """Every known submission graded once, in parallel; plus what the run left behind."""
    root = tmp_path_factory.mktemp("submissions")
    for fixture in _fixture_dirs():
        shutil.copytree(fixture, root / fixture.name)
    for name, text in patched_submissions().items():  # partial ones: NAME.patch of complete/
        (root / name).mkdir()
        (root / name / "chat_application.py").write_text(text)
    (root / "stub").mkdir()
    shutil.copyfile(
        REPO / "exercises" / "chat_application.py", root / "stub" / "chat_application.py"
    )
    with zipfile.ZipFile(root / "reference.zip", "w") as archive:
        archive.write(
            REPO / "solutions" / "chat_application.py", "alex-capstone/chat_application.py"
        )
    _add_attacks(root)
    _add_corrupt_zip(root / "corrupt.zip")
    grader_before = _tree_digest(REPO / "grading")
    out = tmp_path_factory.mktemp("batch-out")
    scratch = tmp_path_factory.mktemp("batch-tmp")  # the batch's own TMPDIR
    summary = _batch_in_fresh_process(root, out, scratch)
    return {
        "summary": summary,
        "results": {r.submission: r for r in summary.results},
        "out": out,
        "grader_changed": _tree_digest(REPO / "grading") != grader_before,
        "survivors": _survivors(summary.results),
        "scratch_left": sorted(p.name for p in scratch.iterdir()),
    }


def _add_attacks(root: Path) -> None:
    """Each attack of tests/fixtures/attacks on top of the reference (see its README)."""
    reference = (REPO / "solutions" / "chat_application.py").read_text()
    for attack in sorted(ATTACKS.glob("*.py")):
        names = (
            [f"{attack.stem}_a", f"{attack.stem}_b"]
            if attack.stem in PAIRED_ATTACKS
            else [attack.stem]
        )
        for name in names:
            (root / name).mkdir()
            (root / name / "chat_application.py").write_text(
                reference + "\n\n" + attack.read_text()
            )


def _add_corrupt_zip(path: Path) -> None:
    """A zip whose only member fails its CRC check."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("chat_application.py", "VALUE = 1  # an intact line\n")
    data = bytearray(path.read_bytes())
    offset = data.index(b"VALUE = 1")
    data[offset] = ord("W")  # same length, different bytes: the stored CRC no longer matches
    path.write_bytes(bytes(data))


BATCH_SCRIPT = """
import json, os, sys
from pathlib import Path
from grading.batch import grade_batch
from grading.runner import GradingOptions

options = GradingOptions(
    test_timeout=3.0, run_timeout=120.0, allow_weak_isolation=os.geteuid() != 0
)
summary = grade_batch(Path(sys.argv[1]), Path(sys.argv[2]), options, workers=2, progress=False)
Path(sys.argv[3]).write_text(json.dumps({
    "results": [r.to_dict() for r in summary.results],
    "wall_time": summary.wall_time,
    "worker_pids": summary.worker_pids,
}))
"""


def _batch_in_fresh_process(root: Path, out: Path, scratch: Path) -> BatchSummary:
    """Grade as an instructor does, from a process of its own.

    Forking the grader out of this test process would hand every worker whatever the
    tests before this one left in memory; the command line never carries that.
    """
    record = out.parent / f"{out.name}-summary.json"
    subprocess.run(
        [sys.executable, "-c", BATCH_SCRIPT, str(root), str(out), str(record)],
        cwd=REPO,
        check=True,
        timeout=900,
        env={**os.environ, SECRET_NAME: SECRET_VALUE, "TMPDIR": str(scratch)},
    )
    data = json.loads(record.read_text())
    return BatchSummary(
        results=[GradingResult.from_dict(r) for r in data["results"]],
        out=out,
        wall_time=data["wall_time"],
        worker_pids=data["worker_pids"],
    )


def result_of(batch, name):
    if name not in batch["results"]:
        pytest.skip(f"{name} is graded only when the grader runs as root (uid isolation)")
    return batch["results"][name]


def passed(result) -> set[str]:
    return {o.spec.name for o in result.outcomes if o.status == PASSED}


def failed(result) -> set[str]:
    return {o.spec.name for o in result.outcomes if o.status != PASSED}


def points(result, names) -> float:
    return sum(o.spec.points for o in result.outcomes if o.spec.name in names)


def test_reference_earns_full_marks_including_bonus(batch):
    result = result_of(batch, "reference")
    assert failed(result) == set(), [o.message for o in result.outcomes if o.status != PASSED]
    assert result.max_score == 50 and result.bonus_max == 11
    assert result.score == 61
    assert len(result.outcomes) == 52


def test_independent_complete_implementation_earns_full_marks(batch):
    result = result_of(batch, "complete")
    assert failed(result) == set(), [o.message for o in result.outcomes if o.status != PASSED]
    assert result.score == 61


def test_exercise_stub_scores_zero(batch):
    result = result_of(batch, "stub")
    assert passed(result) == set()
    assert result.score == 0
    assert all("NotImplementedError" in o.message for o in result.outcomes if not o.spec.hidden)


SESSIONS_PUBLIC = {
    "test_create_session_returns_new_uuid4",
    "test_list_sessions_returns_only_that_users_sessions",
    "test_delete_session_removes_it",
}


def test_only_sessions_working_earns_exactly_the_session_tests(batch):
    result = result_of(batch, "sessions_only")
    expected = SESSIONS_PUBLIC | {"test_sessions_are_visible_from_another_process"}
    assert passed(result) == expected
    assert result.score == points(result, expected) == 6


def test_memory_not_injected_loses_exactly_the_prompt_tests(batch):
    result = result_of(batch, "no_memory")
    # The limit test reads the prompt too: it holds none of the newest earlier messages.
    expected = {
        "test_model_sees_earlier_turns",
        "test_sessions_do_not_share_memory",
        "test_model_sees_at_most_max_messages",
        "test_another_process_continues_the_conversation",
        "test_given_redis_client_and_default_model_are_used",
    }
    assert failed(result) == expected
    assert result.score == 61 - points(result, expected) == 53


def test_no_message_limit_loses_exactly_the_limit_tests(batch):
    result = result_of(batch, "no_limit")
    expected = {
        "test_model_sees_at_most_max_messages",
        "test_old_messages_are_dropped_from_redis",
        "test_history_class_keeps_the_newest_messages",
        "test_long_conversation_stays_at_the_limit",
    }
    assert {o.spec.requirement for o in result.outcomes if o.spec.name in expected} == {"limit"}
    assert failed(result) == expected
    assert result.score == 61 - points(result, expected) == 55


def test_no_ttl_loses_exactly_the_expiry_tests(batch):
    result = result_of(batch, "no_ttl")
    expected = {
        o.spec.name
        for o in result.outcomes
        if o.spec.requirement == "ttl" and o.spec.name != "test_busy_session_keeps_its_memory"
    }
    assert len(expected) == 6
    assert failed(result) == expected
    assert result.score == 61 - points(result, expected) == 53


def _loses_exactly(result, requirement: str, expected: set[str], score: float) -> None:
    """`expected` failed, nothing else did, and all of it grades `requirement`."""
    assert failed(result) == expected, sorted(failed(result) ^ expected)
    assert {o.spec.requirement for o in result.outcomes if o.spec.name in expected} == {requirement}
    assert result.score == 61 - points(result, expected) == score


def test_session_info_as_plain_dicts_loses_only_info_points(batch):
    """get_session_info and list_sessions return dicts: sessions, sharing and the rest read
    ids and owners robustly, so only the tests of SessionInfo itself fail."""
    expected = {
        "test_session_info_after_create_and_chat",
        "test_session_info_is_a_mapping_and_serializable",
        "test_message_count_counts_stored_messages",
        "test_session_info_datetimes_are_utc",
        "test_session_info_is_the_documented_dataclass",
    }
    _loses_exactly(result_of(batch, "dict_info"), "info", expected, 55)


def test_wrong_exception_type_loses_only_errors_points(batch):
    """KeyError where SessionNotFoundError is due: the TTL, sessions and bonus tests only
    ask that something is raised."""
    expected = {
        "test_chat_on_unknown_session_raises",
        "test_deleted_or_expired_session_raises_session_not_found",
    }
    _loses_exactly(result_of(batch, "wrong_exception"), "errors", expected, 59)


def test_naive_datetimes_lose_exactly_the_utc_test(batch):
    expected = {"test_session_info_datetimes_are_utc"}
    _loses_exactly(result_of(batch, "naive_datetimes"), "info", expected, 60)


def test_hanging_methods_fail_only_the_tests_that_call_them(batch):
    result = result_of(batch, "hang")
    timed_out = {
        o.spec.name
        for o in result.outcomes
        if not o.spec.hidden and "no answer in time" in o.message
    }
    assert timed_out == {
        "test_delete_session_removes_it",
        "test_session_info_after_create_and_chat",
    }
    assert passed(result) == {
        "test_create_session_returns_new_uuid4",
        "test_list_sessions_returns_only_that_users_sessions",
        "test_sessions_are_visible_from_another_process",
    }
    assert result.score == 4
    timeouts = [o for o in result.outcomes if o.kind == "timeout"]
    twice = [o for o in timeouts if "run twice: out of time both times" in o.message]
    assert len(twice) == min(defaults.TIMEOUT_RETRIES, len(timeouts)), len(timeouts)


@pytest.mark.parametrize(
    ("name", "note"),
    [
        ("exit_at_import", "could not be imported: SystemExit"),
        ("syntax_error", "could not be imported: SyntaxError"),
        (
            "missing_class",
            "missing from chat_application.py: ChatApplication, LimitedRedisChatHistory",
        ),
    ],
)
def test_submission_that_does_not_import_scores_zero_with_a_clear_note(batch, name, note):
    result = result_of(batch, name)
    assert result.score == 0 and passed(result) == set()
    assert any(note in n for n in result.notes), result.notes
    feedback = (batch["out"] / "students" / name / "feedback.md").read_text()
    assert note in feedback


@pytest.mark.parametrize(
    "name",
    ["exit_in_methods", "fake_output", "tamper", "daemon", "import_solution"],
)
def test_hostile_submission_earns_nothing(batch, name):
    result = result_of(batch, name)
    assert passed(result) == set(), sorted(passed(result))
    assert result.score == 0
    written = json.loads((batch["out"] / "students" / name / "results.json").read_text())
    assert written["score"] == 0 and all(t["score"] == 0 for t in written["tests"])


def test_exiting_with_status_zero_is_reported_as_an_ended_process(batch):
    result = result_of(batch, "exit_in_methods")
    public = [o for o in result.outcomes if not o.spec.hidden]
    assert all("process ended" in o.message for o in public), [o.message for o in public]


def test_fake_results_on_stdout_are_never_read(batch):
    result = result_of(batch, "fake_output")
    row = next(
        r
        for r in csv.DictReader(io.StringIO((batch["out"] / "gradebook.csv").read_text()))
        if r["student"] == "fake_output"
    )
    assert (row["score"], row["bonus"]) == ("0", "0")
    assert result.score == 0


def test_tampering_leaves_the_grader_untouched(batch):
    result_of(batch, "tamper")
    assert not batch["grader_changed"], "a submission modified files of the grader"


def test_no_process_survives_its_grading(batch):
    result = result_of(batch, "daemon")
    started = next(
        o for o in result.outcomes if o.spec.name == "test_create_session_returns_new_uuid4"
    )
    assert "daemons-running:" in started.message and "daemons-running:0" not in started.message
    assert batch["survivors"] == []


def test_solution_is_out_of_reach_of_submissions(batch):
    result = result_of(batch, "import_solution")
    if not any(p.startswith("allowlist root") for p in result.protections):
        pytest.skip("without a mount namespace a submission can read files the grader can read")
    assert result.score == 0


def test_resource_hog_is_contained_and_only_its_honest_part_scores(batch):
    result = result_of(batch, "resource_hog")
    assert passed(result) == {"test_create_session_returns_new_uuid4"}
    assert result.score == 1
    by_name = {o.spec.name: o.message for o in result.outcomes}
    flood = by_name["test_list_sessions_returns_only_that_users_sessions"]
    assert "File too large" in flood, "the output cap refused the flood"
    hog = by_name["test_session_info_after_create_and_chat"]
    assert "MemoryError" in hog, "the memory cap refused the allocation"
    assert all(len(message) < 3000 for message in by_name.values()), "messages are truncated"
    attacks = len(list(ATTACKS.glob("*.py"))) + len(PAIRED_ATTACKS)
    fixtures = len(_fixture_dirs()) + len(patched_submissions())
    expected = fixtures + attacks + 3  # + stub, reference, corrupt zip
    assert len(batch["results"]) == expected, "every submission was graded"


def test_every_results_json_follows_the_gradescope_schema(batch):
    for name in batch["results"]:
        data = json.loads((batch["out"] / "students" / name / "results.json").read_text())
        jsonschema.validate(data, GRADESCOPE_SCHEMA)
        assert data["score"] == batch["results"][name].score


def test_hidden_tests_show_only_their_feedback(batch):
    secrets = [text for text in hidden_fingerprints(REPO) if text.startswith("test_")]
    stub = batch["out"] / "students" / "stub"
    for path in (stub / "results.json", stub / "feedback.md", stub / "junit.xml"):
        text = path.read_text()
        assert not [s for s in secrets if s in text], path.name
        assert "assert " not in text, f"{path.name} shows assertion text"
    hidden = [
        t
        for t in json.loads((stub / "results.json").read_text())["tests"]
        if t["name"].startswith("Hidden")
    ]
    feedback = {o.spec.feedback for o in batch["results"]["stub"].outcomes if o.spec.hidden}
    assert len(hidden) == 30
    assert {t["output"] for t in hidden} == feedback
    assert {t["visibility"] for t in hidden} == {"after_published"}


def test_gradebook_and_class_statistics(batch):
    rows = list(csv.DictReader(io.StringIO((batch["out"] / "gradebook.csv").read_text())))
    assert {r["student"] for r in rows} == set(batch["results"])
    by_name = {r["student"]: r for r in rows}
    assert (by_name["reference"]["score"], by_name["reference"]["bonus"]) == ("50", "11")
    assert by_name["no_ttl"]["points:ttl"] == "1"
    stats = json.loads((batch["out"] / "statistics.json").read_text())
    assert stats["submissions"] == len(rows)
    assert len(stats["tests"]) == 52
    create = next(t for t in stats["tests"] if t["name"] == "test_create_session_returns_new_uuid4")
    expected = sum(
        o.status == PASSED
        for r in batch["results"].values()
        for o in r.outcomes
        if o.spec.name == create["name"]
    )
    assert create["passed"] == expected and create["graded"] == len(rows)


def test_batch_used_both_cores(batch):
    summary = batch["summary"]
    assert len(summary.worker_pids) == 2, summary.worker_pids


# ---------------------------------------------------------------- attacks on the grader

EXPORT_TESTS = {
    "test_export_json_round_trips",
    "test_export_markdown_shows_roles_and_text",
    "test_export_follows_the_contract",
}


def _tests_calling(method: str) -> set[str]:
    """Graded tests whose own source calls `method` (public and hidden)."""
    import ast

    names = set()
    for path in (REPO / "grading" / "assignments" / "chat_application").glob("*/test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.FunctionDef)
                and node.name.startswith("test_")
                and f".{method}(" in ast.unparse(node)
            ):
                names.add(node.name)
    return names


def _message(result, name: str) -> str:
    return next(o.message for o in result.outcomes if o.spec.name == name)


def _honest_except_export(result) -> None:
    """The reference's score minus exactly the export tests, which carry the evidence."""
    assert failed(result) == EXPORT_TESTS, sorted(failed(result))
    assert result.score == 61 - points(result, EXPORT_TESTS) == 58


def _strong(result) -> None:
    if result.isolation != "strong":
        pytest.skip("needs the strong isolation of a root grader on Linux")


def test_lua_in_the_fake_redis_has_no_way_out(batch):
    result = result_of(batch, "lua_escape")
    _honest_except_export(result)
    message = _message(result, "test_export_json_round_trips")
    # Every escape refused, honest Lua (append and trim, os.clock) still working.
    assert "lua: escaped=[] honest=1 clock=" in message, message


def test_memory_of_a_student_process_holds_nothing_of_the_grader(batch):
    result = result_of(batch, "memory_walk")
    _honest_except_export(result)
    message = _message(result, "test_export_json_round_trips")
    assert "memory walk found 0: []" in message, message
    secrets = [t for t in hidden_fingerprints(REPO) if t.startswith("test_")]
    written = (batch["out"] / "students" / "memory_walk" / "results.json").read_text()
    assert not [s for s in secrets if s in written]


def test_grader_environment_never_reaches_student_code(batch):
    result = result_of(batch, "env_scrape")
    _honest_except_export(result)
    message = _message(result, "test_export_json_round_trips")
    listed = message.split("environment names: ", 1)[1].split(" (raised by", 1)[0]
    names = set(listed.split(","))
    assert SECRET_NAME not in names and "PYTEST_DISABLE_PLUGIN_AUTOLOAD" not in names
    assert names <= {
        "PATH",
        "LANG",
        "HOME",
        "TMPDIR",
        "MEMORY_COURSE_OFFLINE",
        "PYTHONDONTWRITEBYTECODE",
    }, names
    for folder in (batch["out"] / "students").iterdir():
        for path in folder.iterdir():
            assert SECRET_VALUE not in path.read_text(errors="replace"), path


def test_two_runs_attacking_each_other_both_keep_their_honest_scores(batch):
    for name in ("neighbour_a", "neighbour_b"):
        result = result_of(batch, name)
        _strong(result)
        _honest_except_export(result)
        message = _message(result, "test_export_json_round_trips")
        assert "reached 0: []" in message, message


def test_memory_held_by_the_fakes_is_capped_in_their_own_process(batch):
    result = result_of(batch, "fake_memory_hog")
    _honest_except_export(result)
    message = _message(result, "test_export_json_round_trips")
    assert "accepted a 2 GiB body" not in message and "the flood was stored" not in message


def test_no_file_in_tmp_or_dev_shm_outlives_its_process(batch):
    result = result_of(batch, "leftovers")
    _strong(result)
    assert failed(result) == set(), [o.message for o in result.outcomes if o.status != PASSED]
    assert result.score == 61
    for path in ("/tmp/grading-fixture-leftover", "/dev/shm/grading-fixture-leftover"):
        assert not Path(path).exists(), f"{path} was left on the host"


def test_a_trickled_reply_is_cut_at_the_test_deadline(batch):
    result = result_of(batch, "trickle")
    calling = _tests_calling("delete_session")
    assert len(calling) >= 4
    assert failed(result) == calling, sorted(failed(result) ^ calling)
    for name in calling & {o.spec.name for o in result.outcomes if not o.spec.hidden}:
        assert "no answer in time" in _message(result, name)
    assert result.score == 61 - points(result, calling)


def test_a_corrupt_zip_gets_one_clear_note(batch):
    result = result_of(batch, "corrupt")
    assert result.score == 0
    notes = " ".join(result.notes)
    assert "damaged" in notes and "chat_application.py" in notes, result.notes
    assert not any("BadZipFile" in o.message or "CRC" in o.message for o in result.outcomes)


def test_hostile_text_is_escaped_for_every_reader(batch):
    import xml.etree.ElementTree as ElementTree

    result = result_of(batch, "control_chars")
    _honest_except_export(result)
    folder = batch["out"] / "students" / "control_chars"
    junit = (folder / "junit.xml").read_text()
    ElementTree.fromstring(junit)  # parses
    assert "forged" not in {case.get("name") for case in ElementTree.fromstring(junit).iter()}
    for name in ("junit.xml", "feedback.md", "results.json"):
        text = (folder / name).read_text()
        assert "\x1b" not in text and "\x00" not in text, name
    feedback = (folder / "feedback.md").read_text()
    for line in feedback.splitlines():
        if "<script>" in line:  # student text sits only in indented code blocks: literal
            assert line.startswith("    "), line


def test_isolated_runs_say_so_in_every_output(batch):
    result = result_of(batch, "reference")
    _strong(result)
    data = json.loads((batch["out"] / "students" / "reference" / "results.json").read_text())
    assert "isolation: strong" in data["output"]


@pytest.mark.skipif(
    shutil.which("xmllint") is None and os.environ.get("CI") != "true",
    reason="xmllint (Debian's libxml2-utils) is not installed",
)
@pytest.mark.parametrize("name", ["reference", "stub", "hang", "control_chars"])
def test_junit_xml_of_real_runs_validates(batch, name):
    """An honest, a failing, a hanging and a control-character submission."""
    result_of(batch, name)
    schema = REPO / "tests" / "fixtures" / "schemas" / "junit.xsd"
    junit = batch["out"] / "students" / name / "junit.xml"
    done = subprocess.run(
        ["xmllint", "--noout", "--schema", str(schema), str(junit)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_hanging_tests_are_errors_and_wrong_answers_failures_in_junit(batch):
    from xml.etree import ElementTree

    hang = ElementTree.parse(batch["out"] / "students" / "hang" / "junit.xml").getroot()
    timed_out = [
        case
        for case in hang.iter("testcase")
        if case.find("error") is not None and "no answer in time" in case.find("error").text
    ]
    assert timed_out, "a time-out is an <error>"
    no_ttl = ElementTree.parse(batch["out"] / "students" / "no_ttl" / "junit.xml").getroot()
    assert no_ttl.find(".//failure") is not None, "a failed assertion is a <failure>"


def test_no_run_folder_or_socket_is_left_behind(batch):
    """The batch's own temporary folder is empty once it ends (runs, sockets, logs)."""
    assert batch["scratch_left"] == []


def test_honest_code_using_the_sandbox_keeps_full_marks(batch):
    """Files in /tmp and /dev/shm, threads, a child Python, Lua, its own source file."""
    result = result_of(batch, "unusual_honest")
    assert failed(result) == set(), [o.message for o in result.outcomes if o.status != PASSED]
    assert result.score == 61
