"""Lesson 5, public tests: a stable UUID per pair, and copying a conversation."""

import uuid

import pytest

from grading.assignments.lesson_05.helpers import contents, pairs
from grading.remote import expect_error, message

TURNS = [
    message("system", "You are terse."),
    message("human", "Hi, I'm Alex"),
    message("ai", "Nice to meet you, Alex!"),
    message("human", "My favorite color is green."),
]
EXPECTED = [(turn["$message"], turn["content"]) for turn in TURNS]


@pytest.mark.points(1)
@pytest.mark.requirement("uuid")
def test_pair_uuid_is_a_stable_version_5_uuid(uuid_scene):
    """The same pair gives the same canonical version-5 UUID string on every call."""
    value = uuid_scene.uuid("alex", "trip")
    try:
        parsed = uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        raise AssertionError(
            f"pair_session_uuid should return a UUID string, got {value!r}"
        ) from None
    assert str(parsed) == value, "the UUID should be in its canonical form (str(uuid.UUID(...)))"
    assert parsed.version == 5, "the UUID should be a version-5 UUID (uuid.uuid5)"
    assert uuid_scene.uuid("alex", "trip") == value, "the same pair should give the same UUID"


@pytest.mark.points(2)
@pytest.mark.requirement("uuid")
def test_glued_pairs_get_different_uuids(uuid_scene):
    """Pairs that glue into the same text, ("a:b", "c") and ("a", "b:c"), still differ."""
    for first, second in [(["a:b", "c"], ["a", "b:c"]), (["ab", "c"], ["a", "bc"])]:
        one, other = uuid_scene.uuids([first, second])
        assert one != other, f"{tuple(first)} and {tuple(second)} should get different UUIDs"


@pytest.mark.points(2)
@pytest.mark.requirement("copy")
def test_copy_keeps_order_types_and_content(copy_scene):
    """Four messages copied from memory to SQLite: same order, types and content."""
    copy_scene.seed("memory", "alex", TURNS)
    copied = copy_scene.copy(["memory", "alex"], ["sqlite", "alex"])
    assert copied == 4, "copy_history should return how many messages it copied"
    assert pairs(copy_scene.messages("sqlite", "alex")) == EXPECTED, (
        "the SQLite history should hold the four messages, in order, with their types"
    )


@pytest.mark.points(1)
@pytest.mark.requirement("copy")
def test_copy_refuses_a_non_empty_target_unless_replacing(copy_scene):
    """A target with messages raises ValueError and is kept; replace=True overwrites it."""
    copy_scene.seed("memory", "alex", TURNS)
    copy_scene.seed("memory", "taken", [message("human", "someone else's conversation")])
    expect_error(
        lambda: copy_scene.copy(["memory", "alex"], ["memory", "taken"]),
        "copying into a target that has messages should raise ValueError",
        kind="ValueError",
    )
    assert contents(copy_scene.messages("memory", "taken")) == ["someone else's conversation"], (
        "a refused target should keep its messages"
    )
    assert copy_scene.copy(["memory", "alex"], ["memory", "taken"], replace=True) == 4
    assert contents(copy_scene.messages("memory", "taken")) == contents(EXPECTED), (
        "with replace=True the target should hold exactly the source's messages"
    )
