"""Lesson 6, hidden tests: atomic writes, concurrent writers, arguments, and what a
folder holds besides sessions."""

import pytest

from grading.remote import RemoteError

LONG = "x" * 2000  # a message long enough that the new file outgrows the old one


def _earlier(history_scene, limit=10):
    history_scene.make("alex", limit)
    earlier = [["human", "Hi, I'm Alex"], ["ai", "Nice to meet you, Alex."]]
    history_scene.add("alex", earlier)
    return earlier


@pytest.mark.hidden
@pytest.mark.feedback(
    "When a write fails part-way (here: the disk is full), add_messages must raise and the "
    "session file must keep its earlier messages intact: write the new content to a temporary "
    "file and replace the old one (the base class's update), never rewrite the file in place."
)
@pytest.mark.points(1)
@pytest.mark.requirement("bounded")
def test_a_write_that_fails_part_way_keeps_the_earlier_messages(history_scene):
    earlier = _earlier(history_scene)
    raised = history_scene.add_when_disk_full("alex", [["human", LONG], ["ai", LONG]])
    assert raised is not None, "add_messages should raise when the file cannot be written"
    assert history_scene.on_disk("alex") == earlier, (
        "after a write failed part-way, the file should still hold the earlier messages"
    )
    history_scene.add("alex", [["human", "Still there?"]])
    assert history_scene.on_disk("alex") == [*earlier, ["human", "Still there?"]], (
        "once the disk has room again, the history should work on as before"
    )


@pytest.mark.hidden
@pytest.mark.feedback(
    "A message JSON cannot store must make add_messages raise without touching the file: "
    "the earlier messages must stay readable (serialise before writing, and write atomically)."
)
@pytest.mark.points(1)
@pytest.mark.requirement("bounded")
def test_a_message_that_cannot_be_stored_leaves_the_file_intact(history_scene):
    earlier = _earlier(history_scene)
    raised = history_scene.add_unstorable("alex", "sent at a datetime")
    assert raised is not None, "add_messages should raise for a message JSON cannot store"
    assert history_scene.on_disk("alex") == earlier, (
        "a message that could not be stored should leave the earlier messages intact"
    )


@pytest.mark.hidden
@pytest.mark.feedback(
    "The limit counts every message in the file, and writers running at the same time must "
    "neither lose messages nor leave more than max_messages: append and trim in one locked "
    "read-modify-write (the base class's update)."
)
@pytest.mark.points(1)
@pytest.mark.requirement("bounded")
def test_the_limit_holds_for_the_whole_file_and_concurrent_writers(history_scene):
    history_scene.seed("alex", 8)  # written by a plain FileChatMessageHistory
    history_scene.make("alex", 5)
    history_scene.add("alex", [["human", "new"]])
    assert history_scene.on_disk("alex") == [
        *(["human", f"earlier {n}"] for n in range(4, 8)),
        ["human", "new"],
    ], "messages already in the file count towards the limit"

    assert history_scene.add_in_parallel("many", 100, 4, 15) == []
    stored = history_scene.on_disk("many")
    assert len(stored) == 60, "4 threads adding 15 messages each (limit 100) lost messages"
    for worker in range(4):
        mine = [content for _, content in stored if content.startswith(f"{worker}:")]
        assert mine == [f"{worker}:{n}" for n in range(15)], "each writer's messages in order"

    assert history_scene.add_in_parallel("few", 10, 3, 15) == []
    stored = history_scene.on_disk("few")
    assert len(stored) == 10, "3 concurrent writers with max_messages=10 left another count"
    assert any(content.endswith(":14") for _, content in stored), "the newest messages survive"


@pytest.mark.hidden
@pytest.mark.feedback(
    "max_messages below 1 must raise ValueError, and invalid session ids (such as '../x') "
    "must still raise ValueError."
)
@pytest.mark.points(1)
@pytest.mark.requirement("bounded")
def test_bad_arguments_are_rejected(history_scene):
    accepted = []
    for session_id, limit in [("alex", 0), ("alex", -1), ("../x", 5)]:
        try:
            history_scene.make(session_id, limit)
        except RemoteError as error:
            if "ValueError" in error.mro_names:
                continue
        accepted.append(f"({session_id!r}, max_messages={limit})")
    assert accepted == [], "these arguments should have raised ValueError"


@pytest.mark.hidden
@pytest.mark.feedback(
    "Temporary files a crash leaves behind (.<id>.json.<random>.tmp) are not sessions, also "
    "when the session has no <id>.json file yet."
)
@pytest.mark.points(1)
@pytest.mark.requirement("listing")
def test_crash_leftovers_are_not_sessions(listing_scene):
    listing_scene.store(["alex"])
    listing_scene.write(".alex.json.k3j2x9.tmp", "[")
    listing_scene.write(".bo.json.a81kq0.tmp", '[{"type": "hum')
    listing_scene.write("bo.json.lock")
    assert listing_scene.list_sessions() == ["alex"]


@pytest.mark.hidden
@pytest.mark.feedback(
    "Only <id>.json files whose <id> is a valid session id count: not Notes.json, "
    "con.json, readme.txt or a folder named like a session file; the folder may be given "
    "as a str."
)
@pytest.mark.points(1)
@pytest.mark.requirement("listing")
def test_foreign_files_are_not_sessions(listing_scene):
    listing_scene.store(["sam", "alex"])
    listing_scene.write("Notes.json", "{}")
    listing_scene.write("con.json", "[]")
    listing_scene.write("a.b.json", "[]")
    listing_scene.write("readme.txt", "not a session")
    listing_scene.make_folder("folder.json")
    assert listing_scene.list_sessions() == ["alex", "sam"]
    assert listing_scene.list_sessions(True) == ["alex", "sam"]
