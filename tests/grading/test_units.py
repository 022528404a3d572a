"""Units of the grader: framing, unpacking, remote errors, fakes, reports."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest

from grading import codec
from grading.codec import (
    FrameTooLarge,
    Op,
    ProtocolError,
    RemoteError,
    RemoteObject,
    decode_value,
    describe_exception,
    encode_value,
    read_frame,
    remote_error,
    write_frame,
)
from grading.collect import find_submissions, prepare
from grading.report import feedback_markdown, gradebook_csv, junit_xml, results_json, safe_text
from grading.score import FAILED, NOT_RUN, PASSED, GradingResult, TestOutcome, TestSpec
from tests.grading.test_outcomes import GRADESCOPE_SCHEMA

JUNIT_SCHEMA = Path(__file__).parents[1] / "fixtures" / "schemas" / "junit.xsd"


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


def test_frames_nested_too_deeply_are_refused():
    left, right = socket.socketpair()
    with left, right:
        write_frame(left, {"ok": json.loads("[" * 100 + "]" * 100)})
        with pytest.raises(ProtocolError, match="deeper"):
            read_frame(right, 100_000, max_depth=64)


def test_a_trickled_frame_ends_at_the_deadline_not_per_byte():
    """One byte every 50 ms never starves a per-read timeout; the deadline still holds."""
    left, right = socket.socketpair()
    payload = json.dumps({"ok": "late"}).encode()
    frame = len(payload).to_bytes(4, "big") + payload
    stop = threading.Event()

    def trickle():
        for byte in frame:
            if stop.is_set():
                return
            left.send(bytes([byte]))
            time.sleep(0.05)

    sender = threading.Thread(target=trickle)
    sender.start()
    try:
        with pytest.raises(TimeoutError):
            read_frame(right, 1000, deadline=time.monotonic() + 0.3)
    finally:
        stop.set()
        sender.join()
        left.close()
        right.close()


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


def test_remote_errors_of_any_builtin_are_rebuilt_with_their_cause():
    """UnicodeEncodeError needs five arguments: its nearest base that takes a message
    stands in, and `raise ... from` survives as the cause's class names."""
    try:
        try:
            "\ud800".encode()
        except UnicodeEncodeError as cause:
            raise RuntimeError("cannot store it") from cause
    except RuntimeError as exc:
        chained = remote_error(describe_exception(exc))
    assert chained.cause_names[:2] == ("UnicodeEncodeError", "UnicodeError")
    try:
        "\ud800".encode()
    except UnicodeEncodeError as exc:
        unicode_error = remote_error(describe_exception(exc))
    assert isinstance(unicode_error, UnicodeError) and isinstance(unicode_error, ValueError)
    assert unicode_error.type_name == "UnicodeEncodeError" and unicode_error.cause_names == ()


@dataclass
class _Info:
    session_id: str
    user_id: str
    created_at: datetime
    last_active: datetime
    message_count: int


def test_datetimes_keep_their_utc_offset_through_the_codec(monkeypatch):
    """The info tests judge time zones on decoded values: an offset survives, naive stays naive."""
    # The fields an assignment declares (`described_fields`), as a student process sets them.
    monkeypatch.setattr(codec, "DESCRIBED_FIELDS", tuple(_Info.__dataclass_fields__))
    aware = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    naive = aware.replace(tzinfo=None)
    shifted = aware.astimezone(timezone(timedelta(hours=2)))
    for value in (aware, naive, shifted):
        decoded = decode_value(json.loads(json.dumps(encode_value(value))))
        assert decoded == value and decoded.utcoffset() == value.utcoffset()
    described = decode_value(encode_value(_Info("s", "alice", aware, naive, 2)))
    assert isinstance(described, RemoteObject)
    assert described.created_at.utcoffset() == timedelta(0)
    assert described.last_active.tzinfo is None


def test_zip_submissions_are_unpacked_safely(tmp_path):
    archive = tmp_path / "alice.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        opened.writestr("alice/chat_application.py", "VALUE = 1\n")
        opened.writestr("alice/helper.py", "HELPER = 2\n")
        opened.writestr("../escape.py", "bad\n")
        opened.writestr("/abs.py", "bad\n")
    prepared = prepare(archive, tmp_path / "out", "chat_application.py")
    assert prepared.problem is None
    assert prepared.folder == tmp_path / "out" / "alice"
    assert (prepared.folder / "helper.py").is_file()
    assert not (tmp_path / "escape.py").exists() and not (tmp_path / "out" / "abs.py").exists()


def test_folders_skip_symlinks_and_report_a_missing_entry_file(tmp_path):
    source = tmp_path / "bob"
    source.mkdir()
    (source / "notes.txt").write_text("no code\n")
    (source / "chat_application.py").symlink_to("/etc/hostname")
    prepared = prepare(source, tmp_path / "out", "chat_application.py")
    assert prepared.problem == "no chat_application.py found in the submission"
    assert not (tmp_path / "out" / "chat_application.py").exists()
    (tmp_path / "batch" / "carol").mkdir(parents=True)
    (tmp_path / "batch" / "dave.zip").write_bytes(b"")
    (tmp_path / "batch" / "readme.txt").write_text("")
    assert [s.name for s in find_submissions(tmp_path / "batch")] == ["carol", "dave"]


def test_corrupt_zip_is_one_clear_problem(tmp_path):
    from tests.grading.test_outcomes import _add_corrupt_zip

    _add_corrupt_zip(tmp_path / "eve.zip")
    prepared = prepare(tmp_path / "eve.zip", tmp_path / "out", "chat_application.py")
    assert prepared.problem is not None
    assert "damaged" in prepared.problem and "chat_application.py" in prepared.problem
    assert "CRC" not in prepared.problem and "BadZipFile" not in prepared.problem


def _listener(path: Path) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(8)
    return listener


def test_fakes_dump_and_clock(tmp_path):
    import redis

    from grading.services import Fakes

    fakes = Fakes(_listener(tmp_path / "redis.sock"), _listener(tmp_path / "model.sock"))
    client = redis.Redis(unix_socket_path=str(tmp_path / "redis.sock"))
    try:
        client.set("chat:abc", "hello mk1x")
        client.expire("chat:abc", 60)
        client.sadd("index:alice", "abc")
        dump = {key["name"]: key for key in fakes.handle({"op": Op.DUMP.value})}
        assert set(dump) == {"chat:abc", "index:alice"}
        assert dump["chat:abc"]["ttl"] == 60 and "mk1x" in dump["chat:abc"]["text"]
        fakes.handle({"op": Op.ADVANCE.value, "seconds": 30})
        assert client.ttl("chat:abc") == 30
        fakes.handle({"op": Op.ADVANCE.value, "seconds": 31})
        assert [k["name"] for k in fakes.handle({"op": Op.DUMP.value})] == ["index:alice"]
        with pytest.raises(redis.ConnectionError):  # a command over the size cap ends it
            client.set("huge", b"x" * (5 << 20))
    finally:
        client.close()
        fakes.stop()


LUA_PROBE = """
import fakeredis
from grading.services import harden_lua

harden_lua()
client = fakeredis.FakeRedis()
escapes = {
    "python": "return python.builtins.exec('x = 1')",
    "io": "return io.open('/etc/hostname'):read('*a')",
    "os.execute": "return os.execute('true')",
    "require": "return require('os') ~= nil",
    "load": "return load('return 1')()",
    "loadstring": "return loadstring('return 1')()",
    "attribute": "return tostring(redis.call.__globals__)",
}
escaped = []
for name, script in escapes.items():
    try:
        client.eval(script, 0)
        escaped.append(name)
    except Exception:
        pass
print("escaped:", escaped)
honest = "redis.call('RPUSH', KEYS[1], ARGV[1]); redis.call('LTRIM', KEYS[1], -2, -1); return redis.call('LLEN', KEYS[1])"
print("honest:", [client.eval(honest, 1, "k", str(i)) for i in range(3)])
print("clock:", client.eval("return type(os.clock())", 0))
"""


def test_lua_in_the_fakes_has_no_bridge_out_and_honest_scripts_still_run():
    done = subprocess.run(
        [sys.executable, "-c", LUA_PROBE], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "escaped: []" in done.stdout
    assert "honest: [1, 2, 2]" in done.stdout  # append then trim to two, atomically
    assert "clock: b'number'" in done.stdout


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
    assert (
        "1 hidden test worth 2 points is shown, with your total, once grades are published"
        in data["output"]
    )


def test_batch_workers_start_from_a_fresh_process():
    from grading.batch import _pool_context
    from grading.runner import share_zygote

    context, initializer = _pool_context()
    assert context.get_start_method() == "forkserver"
    assert initializer is share_zygote


HOSTILE = "\x00\x1b[2J\x07 ]]> <x/> \ud800 =SUM(A1)"


def _mixed_result() -> GradingResult:
    return GradingResult(
        "=alice",
        [
            TestOutcome(_spec("test_passes"), PASSED),
            TestOutcome(
                _spec("test_asserts"), FAILED, "AssertionError: " + HOSTILE, kind="failure"
            ),
            TestOutcome(_spec("test_raises"), FAILED, "ValueError: " + HOSTILE, kind="error"),
            TestOutcome(_spec("test_hangs"), FAILED, "no answer in time (killed)", kind="error"),
        ],
        notes=["chat_application.py could not be imported: " + HOSTILE],
        isolation="weak",
        isolation_gaps=["network: the submission can open connections"],
    )


@pytest.mark.skipif(
    shutil.which("xmllint") is None and os.environ.get("CI") != "true",
    reason="xmllint (Debian's libxml2-utils) is not installed",
)
def test_junit_xml_validates_and_tells_errors_from_failures(tmp_path):
    from xml.etree import ElementTree

    path = tmp_path / "junit.xml"
    path.write_text(junit_xml(_mixed_result()))
    done = subprocess.run(
        ["xmllint", "--noout", "--schema", str(JUNIT_SCHEMA), str(path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    suite = ElementTree.parse(path).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "2")
    cases = {case.get("name").split(":")[0]: case for case in suite.iter("testcase")}
    assert cases["test_asserts"].find("failure") is not None
    assert cases["test_raises"].find("error") is not None
    assert cases["test_hangs"].find("error") is not None


def test_hostile_text_is_made_safe_for_every_reader():
    assert safe_text("a\x1b[2Jb\x00c\ud800d\te\nf") == "a\ufffd[2Jb\ufffdc\ufffdd\te\nf"
    result = _mixed_result()
    feedback = feedback_markdown(result)
    assert "\x1b" not in feedback and "\x00" not in feedback
    for line in feedback.splitlines():
        if "<x/>" in line:  # student text only ever sits in an indented code block
            assert line.startswith("    "), line
    assert "isolation: weak" in feedback and "not protected: network" in feedback
    rows = list(csv.reader(io.StringIO(gradebook_csv([result]))))
    header, row = rows[0], rows[1]
    assert row[0] == "'=alice"  # a spreadsheet shows it as text, never runs it
    assert row[header.index("isolation")] == "weak"
    assert all(not cell.startswith(("=", "+", "@")) for cell in row)
    output = results_json(result)["output"]
    assert "isolation: weak" in output and "\x1b" not in output


WORLD_PROBE = """
import os, sys
from grading import confine
from grading.plan import IsolationPlan
from grading.runtime import isolation_level, runtime_paths

plan = IsolationPlan(role="student", root_dir=sys.argv[1], runtime_paths=runtime_paths(),
                     work_dir=sys.argv[2])
namespaces = confine.enter_namespaces()
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    protections = confine.confine_process(plan, namespaces)
    os.write(write, ("|".join(protections) + "\\n" + isolation_level(protections)).encode())
    os._exit(0)
os.close(write)
os.waitpid(pid, 0)
print(os.read(read, 65536).decode())
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for namespaces and mounts")
def test_an_allowlist_root_that_cannot_be_built_means_weak_isolation_not_a_crash(tmp_path):
    def probe(root: Path) -> str:
        done = subprocess.run(
            [sys.executable, "-c", WORLD_PROBE, str(root), str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    (tmp_path / "root").mkdir()
    built = probe(tmp_path / "root")
    assert "allowlist root (" in built and built.strip().endswith("strong")
    missing = probe(tmp_path / "no-such-folder")
    assert "no allowlist root (" in missing and missing.strip().endswith("weak")


class _ScriptedShard:
    """A shard as `grading.shards.drive` sees it, played by a thread: it asks for tests
    and answers each run of a test with the next kind its script gives ("" = passed)."""

    def __init__(self, selected: list[str], script: dict[str, list[str]], collect: bool):
        from grading.shards import Shard

        events_read, self._events = os.pipe()
        self._queue, queue_write = os.pipe()
        process = subprocess.Popen([sys.executable, "-c", "pass"])
        process.wait()
        self.shard = Shard(process, events_read, queue_write)
        self.ran: list[str] = []
        self._selected, self._script, self._collect = selected, script, collect
        self.thread = threading.Thread(target=self._play, daemon=True)
        self.thread.start()

    def _emit(self, event: dict) -> None:
        os.write(self._events, (json.dumps(event) + "\n").encode())

    def _play(self) -> None:
        if self._collect:
            self._emit({"event": "collected", "selected": self._selected, "tests": []})
        with open(self._queue, "rb", buffering=0) as queue:
            while True:
                self._emit({"event": "next"})
                node = queue.readline().decode().strip()
                if not node:
                    break
                self.ran.append(node)
                kind = self._script[node].pop(0)
                status = PASSED if not kind else FAILED
                message = "no answer in time while calling chat() (killed)" if kind else ""
                self._emit(
                    {
                        "event": "result",
                        "node_id": node,
                        "status": status,
                        "message": message,
                        "kind": kind,
                        "duration": 0.0,
                    }
                )
        os.close(self._events)


def _drive_scripted(script: dict[str, list[str]], retries: int, shards: int = 1):
    from grading.shards import drive

    selected = list(script)
    played = [_ScriptedShard(selected, script, collect=i == 0) for i in range(shards)]
    events, timed_out = drive(
        [p.shard for p in played], lambda: None, time.monotonic() + 30, retries=retries
    )
    for p in played:
        p.thread.join(5)
        p.shard.close()
    last = {e["node_id"]: e for e in events if e["event"] == "result"}
    return [n for p in played for n in p.ran], last, timed_out


def test_a_test_that_ran_out_of_time_runs_again_at_the_end_and_its_second_result_counts():
    runs, last, timed_out = _drive_scripted(
        {"slow_once": ["timeout", ""], "quick": [""]}, retries=4
    )
    assert not timed_out
    assert runs == ["slow_once", "quick", "slow_once"]
    assert last["slow_once"]["status"] == PASSED and last["quick"]["status"] == PASSED


def test_time_outs_are_run_again_at_most_retries_times_and_say_so_when_they_repeat():
    script = {f"hangs_{i}": ["timeout", "timeout"] for i in range(4)}
    runs, last, _ = _drive_scripted(script, retries=2)
    assert runs == [*script, "hangs_0", "hangs_1"]
    for name, event in last.items():
        assert event["status"] == FAILED and "no answer in time" in event["message"]
        assert ("run twice" in event["message"]) == (name in {"hangs_0", "hangs_1"})


def test_a_failed_assertion_is_never_run_again():
    runs, last, _ = _drive_scripted({"wrong": ["failure"], "right": [""]}, retries=4)
    assert runs == ["wrong", "right"] and last["wrong"]["status"] == FAILED


def test_the_hardened_fake_redis_refuses_lua_escapes_and_keeps_serving(tmp_path):
    """The service process's Redis: each escape is an error reply, honest Lua still runs
    on the same client afterwards (a refused attribute walk costs its connection only)."""
    import redis

    from grading.services import harden_lua
    from memory_course import FakeRedisServer

    if not harden_lua():
        pytest.skip("lupa is not installed: fakeredis has no Lua here")
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(tmp_path / "redis.sock"))
    listening.listen(8)
    server = FakeRedisServer(listening=listening, max_command_bytes=1 << 20).start()
    client = redis.Redis(unix_socket_path=str(tmp_path / "redis.sock"), socket_timeout=2)
    try:
        for script in (
            "return python.eval('1+1')",
            "return io.open('/etc/hostname'):read('*a')",
            "return load('return 1')()",
            "return tostring(redis.call.__globals__)",
        ):
            with pytest.raises(redis.ResponseError):
                client.eval(script, 0)
            honest = "redis.call('RPUSH', KEYS[1], ARGV[1]); return redis.call('LLEN', KEYS[1])"
            assert client.eval(honest, 1, "probe", "x") >= 1
        assert client.eval("return type(os.clock())", 0) == b"number"
    finally:
        client.close()
        server.stop()
