"""Units of the grader: framing, unpacking, remote errors, fakes, reports."""

from __future__ import annotations

import json
import socket
import zipfile

import jsonschema
import pytest

from grading.collect import find_submissions, prepare
from grading.fakes import FakeRedisService
from grading.protocol import FrameTooLarge, ProtocolError, read_frame, write_frame
from grading.remote import RemoteError, remote_error
from grading.report import feedback_markdown, junit_xml, results_json
from grading.score import FAILED, NOT_RUN, PASSED, GradingResult, TestOutcome, TestSpec
from tests.test_grading_outcomes import GRADESCOPE_SCHEMA


def test_frames_round_trip_and_oversized_frames_are_refused():
    left, right = socket.socketpair()
    with left, right:
        write_frame(left, {"ok": ["é", 1, None]})
        assert read_frame(right, 1000) == {"ok": ["é", 1, None]}
        write_frame(left, {"ok": "x" * 100})
        with pytest.raises(FrameTooLarge):
            read_frame(right, 50)
        left.sendall(b"\x00\x00\x00\x03abc")
        with pytest.raises(ProtocolError):
            read_frame(right, 1000)


def test_remote_errors_keep_their_builtin_base_and_ancestry():
    error = remote_error(
        {
            "type": "SessionNotFoundError",
            "mro": ["SessionNotFoundError", "ValueError", "Exception"],
            "message": "gone",
        },
        "calling chat()",
    )
    assert isinstance(error, ValueError) and isinstance(error, RemoteError)
    assert "SessionNotFoundError" in error.mro_names and "gone" in str(error)
    denied = remote_error(
        {"type": "PermissionError", "mro": ["PermissionError", "OSError"], "message": ""}
    )
    assert isinstance(denied, PermissionError)
    plain = remote_error({"type": "Oops", "mro": ["Oops", "Exception"], "message": "x"})
    assert not isinstance(plain, ValueError)


def test_zip_submissions_are_unpacked_safely(tmp_path):
    archive = tmp_path / "alice.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        opened.writestr("alice/chat_application.py", "VALUE = 1\n")
        opened.writestr("alice/helper.py", "HELPER = 2\n")
        opened.writestr("../escape.py", "bad\n")
        opened.writestr("/abs.py", "bad\n")
    prepared = prepare(archive, tmp_path / "out")
    assert prepared.problem is None
    assert prepared.folder == tmp_path / "out" / "alice"
    assert (prepared.folder / "helper.py").is_file()
    assert not (tmp_path / "escape.py").exists() and not (tmp_path / "out" / "abs.py").exists()


def test_folders_skip_symlinks_and_report_a_missing_entry_file(tmp_path):
    source = tmp_path / "bob"
    source.mkdir()
    (source / "notes.txt").write_text("no code\n")
    (source / "chat_application.py").symlink_to("/etc/hostname")
    prepared = prepare(source, tmp_path / "out")
    assert prepared.problem == "no chat_application.py found in the submission"
    assert not (tmp_path / "out" / "chat_application.py").exists()
    (tmp_path / "batch" / "carol").mkdir(parents=True)
    (tmp_path / "batch" / "dave.zip").write_bytes(b"")
    (tmp_path / "batch" / "readme.txt").write_text("")
    assert [s.name for s in find_submissions(tmp_path / "batch")] == ["carol", "dave"]


def test_fake_redis_dump_and_clock(tmp_path):
    service = FakeRedisService(tmp_path / "redis.sock")
    try:
        service.client.set("chat:abc", "hello mk1x")
        service.client.expire("chat:abc", 60)
        service.client.sadd("index:alice", "abc")
        assert {s.name for s in service.keys_mentioning("abc")} == {"chat:abc", "index:alice"}
        assert [s.ttl for s in service.keys_named_with("abc")] == [60]
        service.advance(30)
        assert [s.ttl for s in service.keys_named_with("abc")] == [30]
        service.advance(31)
        assert service.keys_named_with("abc") == []
        assert "mk1x" not in service.stored_text()
    finally:
        service.stop()


def _spec(name, requirement="memory", points=2.0, hidden=False):
    feedback = "Your prompt lacks the history." if hidden else None
    return TestSpec(f"x::{name}", name, f"{name} title", requirement, points, hidden, feedback)


def test_reports_show_hidden_feedback_only_and_follow_the_schema():
    result = GradingResult(
        "alice",
        [
            TestOutcome(_spec("test_public"), PASSED),
            TestOutcome(
                _spec("test_secret_name", hidden=True), FAILED, "Your prompt lacks the history."
            ),
            TestOutcome(_spec("test_bonus", "bonus", 1.0), FAILED, "AssertionError: no export"),
            TestOutcome(_spec("test_other_secret", hidden=True), NOT_RUN, "hidden"),
        ],
        execution_time=2.4,
    )
    data = results_json(result)
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    assert data["score"] == 2.0 and len(data["tests"]) == 3
    texts = [json.dumps(data), junit_xml(result), feedback_markdown(result)]
    assert all("test_secret_name" not in text for text in texts)
    hidden = next(t for t in data["tests"] if t["visibility"] == "after_published")
    assert hidden["output"] == "Your prompt lacks the history."
    assert "1 hidden tests (2 points) not run" in data["output"]


def test_batch_workers_start_from_a_fresh_process():
    from grading.batch import _pool_context
    from grading.plugin import _warm_up

    context, initializer = _pool_context()
    assert context.get_start_method() == "forkserver"
    assert initializer is _warm_up
