"""Lesson 5, hidden tests: UUIDs across processes and odd ids; how a copy writes."""

import uuid
from functools import partial

import pytest

from grading.assignments.lesson_05.helpers import contents, pairs
from grading.remote import expect_error, message

TURNS = [
    message("system", "You are terse."),
    message("human", "Hi, I'm Alex"),
    message("ai", "Nice to meet you, Alex!"),
    message("human", "My favorite color is green."),
    message("ai", "Green it is."),
]
EXPECTED = [(turn["$message"], turn["content"]) for turn in TURNS]

# Pairs that a separator, a concatenation or a quote-unaware encoding would merge.
TRICKY_PAIRS = [
    ["a:b", "c"],
    ["a", "b:c"],
    ["ab", "c"],
    ["a", "bc"],
    ["a", ""],
    ["", "a"],
    ["", ""],
    ['a", "b', "c"],
    ["a", 'b", "c'],
    ["a|b", "c"],
    ["a", "b|c"],
    ["a/b", "c"],
    ["a", "b/c"],
    ["a\x00b", "c"],
    ["a", "b\x00c"],
    ["a\x1fb", "c"],
    ["a", "b\x1fc"],
    ["a\tb", "c"],
    ["a", "b\tc"],
    ["a\nb", "c"],
    ["a", "b\nc"],
    ["a\\", "b"],
    ["a", "\\b"],
    ["zoë", "ü"],
    ["zoe", "u"],
    ["alex", "trip"],
    ["trip", "alex"],
]


def _version(value):
    """The UUID version of the string `value`; None if it is not a UUID string."""
    try:
        return uuid.UUID(value).version
    except (TypeError, ValueError, AttributeError):
        return None


@pytest.mark.hidden
@pytest.mark.feedback(
    "The UUID must depend on the pair alone: the same pair gets the same UUID in another "
    "process too (no random UUID, nothing that changes between runs)."
)
@pytest.mark.points(1)
@pytest.mark.requirement("uuid")
def test_same_pair_same_uuid_in_every_process(uuid_scene, other_uuid_scene):
    pairs = [["alex", "trip"], ["zoë", "ü"], ["a:b", "c"], ["", ""]]
    here = uuid_scene.uuids(pairs)
    assert other_uuid_scene.uuids(pairs) == here, "another process should give the same UUIDs"


@pytest.mark.hidden
@pytest.mark.feedback(
    "Different pairs must get different version-5 UUIDs whatever the ids contain: "
    "separators, quotes, backslashes, control characters, empty ids, non-ASCII text, "
    "and the same two ids swapped."
)
@pytest.mark.points(1)
@pytest.mark.requirement("uuid")
def test_tricky_pairs_never_collide(uuid_scene):
    values = uuid_scene.uuids(TRICKY_PAIRS)
    for pair, value in zip(TRICKY_PAIRS, values, strict=True):
        assert _version(value) == 5, f"{tuple(pair)} should get a version-5 UUID, got {value!r}"
    by_value = {}
    for pair, value in zip(TRICKY_PAIRS, values, strict=True):
        by_value.setdefault(value, []).append(tuple(pair))
    collisions = [pairs for pairs in by_value.values() if len(pairs) > 1]
    assert collisions == [], "these pairs should not share a UUID"


@pytest.mark.hidden
@pytest.mark.feedback("An id that is not a str must raise TypeError.")
@pytest.mark.points(1)
@pytest.mark.requirement("uuid")
def test_non_string_ids_are_refused(uuid_scene):
    for user_id, conversation_id in [("alex", 3), (None, "trip"), (["alex"], "trip")]:
        expect_error(
            partial(uuid_scene.uuid, user_id, conversation_id),
            f"pair_session_uuid({user_id!r}, {conversation_id!r}) should raise TypeError",
            kind="TypeError",
        )


@pytest.mark.hidden
@pytest.mark.feedback(
    "copy_history must write every message with a single target.add_messages call, not "
    "one call per message."
)
@pytest.mark.points(1)
@pytest.mark.requirement("copy")
def test_copy_is_a_single_add_messages_call(copy_scene):
    copy_scene.seed("memory", "alex", TURNS)
    assert copy_scene.copy(["memory", "alex"], ["memory", "copy"]) == 5
    assert copy_scene.writes("copy") == [5], "one add_messages call with all 5 messages"
    assert contents(copy_scene.messages("memory", "copy")) == contents(EXPECTED)


@pytest.mark.hidden
@pytest.mark.feedback(
    "The source must be left as it was, and a copy between two persistent histories "
    "(SQLite to SQLite) must keep every message's order, type and content."
)
@pytest.mark.points(1)
@pytest.mark.requirement("copy")
def test_source_is_unchanged_and_sqlite_to_sqlite_works(copy_scene):
    copy_scene.seed("memory", "alex", TURNS)
    assert copy_scene.copy(["memory", "alex"], ["sqlite", "alex"]) == 5
    assert pairs(copy_scene.messages("memory", "alex")) == EXPECTED, "the source changed"
    assert copy_scene.copy(["sqlite", "alex"], ["sqlite", "alex-archive"]) == 5
    assert pairs(copy_scene.messages("sqlite", "alex")) == EXPECTED, "the source changed"
    assert pairs(copy_scene.messages("sqlite", "alex-archive")) == EXPECTED


@pytest.mark.hidden
@pytest.mark.feedback(
    "An empty source copies nothing and returns 0; replace=True clears the target first, "
    "so afterwards it holds exactly the source's messages (none, for an empty source)."
)
@pytest.mark.points(1)
@pytest.mark.requirement("copy")
def test_empty_sources_and_replacing(copy_scene):
    assert copy_scene.copy(["memory", "empty"], ["sqlite", "fresh"]) == 0
    assert copy_scene.messages("sqlite", "fresh") == []
    assert copy_scene.copy(["memory", "empty"], ["memory", "target"], replace=True) == 0
    copy_scene.seed("sqlite", "old", [message("human", "old"), message("ai", "stale")])
    copy_scene.seed("memory", "new", TURNS[:2])
    assert copy_scene.copy(["memory", "new"], ["sqlite", "old"], replace=True) == 2
    assert contents(copy_scene.messages("sqlite", "old")) == contents(EXPECTED[:2]), (
        "replace=True should leave exactly the source's messages in the target"
    )
    assert copy_scene.copy(["memory", "empty"], ["sqlite", "old"], replace=True) == 0
    assert copy_scene.messages("sqlite", "old") == [], "replacing with an empty source clears"
