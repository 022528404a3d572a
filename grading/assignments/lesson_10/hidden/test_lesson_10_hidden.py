"""Lesson 10, hidden tests: sessions apart, ids in any spelling, gone sessions, no TTL refresh,
and the trimmer's budget and edge cases."""

import pytest

from grading.assignments.lesson_10.helpers import conversation, pairs, tokens
from grading.remote import message


@pytest.mark.hidden
@pytest.mark.feedback(
    "GET /sessions/messages must return the messages of the session in X-Session-ID and of "
    "no other session."
)
@pytest.mark.points(1)
@pytest.mark.requirement("history")
def test_each_session_reads_only_its_own(service, model):
    alex = service.chat("Hi, I'm Alex")["session_id"]
    sam = service.chat("Hi, I'm Sam")["session_id"]
    service.chat("I live in Paris", alex)
    assert alex != sam
    status, body = service.read(sam)
    assert status == 200, f"a live session should be readable; got {status} {body}"
    assert body == {
        "messages": [
            {"type": "human", "content": "Hi, I'm Sam"},
            {"type": "ai", "content": model.reply_to(1)},
        ]
    }, "Sam's session should hold Sam's turn only"
    status, body = service.read(alex)
    assert status == 200, f"a live session should be readable; got {status} {body}"
    said = [m["content"] for m in body["messages"]][::2]
    assert said == ["Hi, I'm Alex", "I live in Paris"], "Alex's session should hold Alex's turns"


@pytest.mark.hidden
@pytest.mark.feedback(
    "Every spelling of the session id that parse_session_id accepts (upper case, spaces "
    "around it, no hyphens) must read the same session: use the id it returns."
)
@pytest.mark.points(1)
@pytest.mark.requirement("history")
def test_any_spelling_of_the_id_reads_the_session(service, model):
    session = service.chat("Hi, I'm Alex")["session_id"]
    expected = service.read(session)
    assert expected[0] == 200, f"a live session should be readable; got {expected}"
    for spelling in (session.upper(), f"  {session}  ", session.replace("-", "")):
        assert service.read(spelling) == expected, f"{spelling!r} should read session {session}"


@pytest.mark.hidden
@pytest.mark.feedback(
    "A session that was deleted (DELETE /sessions) or has expired must get 404, like one "
    "that was never issued."
)
@pytest.mark.points(1)
@pytest.mark.requirement("history")
def test_deleted_and_expired_sessions_are_gone(service, redis_store):
    deleted = service.chat("Hi, I'm Alex")["session_id"]
    assert service.read(deleted)[0] == 200, "a live session should be readable"
    assert service.delete(deleted) == 204
    assert service.read(deleted)[0] == 404, "a deleted session should get 404"
    expired = service.chat("Hi, I'm Sam")["session_id"]
    assert service.read(expired)[0] == 200, "a live session should be readable"
    redis_store.advance(601)  # the service's sessions live 600 s after their last turn
    assert redis_store.keys_mentioning(expired) == [], "the fake Redis should have expired it"
    assert service.read(expired)[0] == 404, "an expired session should get 404"


@pytest.mark.hidden
@pytest.mark.feedback(
    "Reading a session must change nothing: no model call, nothing stored, and its TTL is "
    "not refreshed, so a session only read expires on time."
)
@pytest.mark.points(1)
@pytest.mark.requirement("history")
def test_reading_leaves_the_session_as_it_was(service, model, redis_store):
    session = service.chat("Hi, I'm Alex")["session_id"]
    stored = [(key.name, key.text) for key in redis_store.dump()]
    redis_store.advance(300)
    for _ in range(3):
        assert service.read(session)[0] == 200, "a live session should be readable"
    assert len(model.prompts) == 1, "reading should not call the model"
    after = [(key.name, key.text) for key in redis_store.dump()]
    assert after == stored, "reading should store nothing"
    [key] = redis_store.keys_mentioning(session)
    assert 0 < key.ttl <= 300, f"reading should not refresh the TTL: 300 s were left, now {key.ttl}"
    redis_store.advance(301)
    assert service.read(session)[0] == 404, "a session only read should expire on time"


@pytest.mark.hidden
@pytest.mark.feedback(
    "The recent part must fill what the pinned part leaves of max_tokens: the longest run "
    "of the latest messages that fits and starts on a human message (with or without a "
    "system message, and for a ChatPromptValue as for a list)."
)
@pytest.mark.points(1)
@pytest.mark.requirement("pinned")
def test_recent_part_fills_what_the_pin_leaves(trimmer):
    for system in (True, False):
        sent = conversation(12, system=system)
        pin = 3 if system else 2
        rest = sent[pin:]
        for budget in (90, 117, 160, 230):
            room = budget - tokens(sent[:pin])
            starts = [
                i
                for i, m in enumerate(rest)
                if m["$message"] == "human" and tokens(rest[i:]) <= room
            ]
            expected = pairs(sent[:pin] + rest[min(starts) :])
            where = f"max_tokens={budget}, {'with' if system else 'without'} a system message"
            kept = trimmer.trim(sent, budget)
            assert pairs(kept) == expected, f"{where}: the pin, then the longest run that fits"
            as_value = trimmer.trim_prompt_value(sent, budget)
            assert pairs(as_value) == expected, f"{where}: a ChatPromptValue trims like a list"


@pytest.mark.hidden
@pytest.mark.feedback(
    "With nothing to pin (no reply yet, or nothing after it), a conversation that fits must "
    "come back unchanged."
)
@pytest.mark.points(1)
@pytest.mark.requirement("pinned")
def test_conversations_with_nothing_to_pin_stay_whole(trimmer):
    cases = [
        conversation(1),
        conversation(0)[:2],  # the system message and the first question
        conversation(0)[:3],  # the first exchange, nothing after it
        [message("human", "Hi, I'm Alex")],
    ]
    for sent in cases:
        assert pairs(trimmer.trim(sent, 1000)) == pairs(sent), (
            "a conversation that fits stays whole"
        )


@pytest.mark.hidden
@pytest.mark.feedback(
    "When the pinned part leaves no room for the latest question, trim by recency alone "
    "(system message kept): the question must still reach the model, within max_tokens."
)
@pytest.mark.points(1)
@pytest.mark.requirement("pinned")
def test_the_question_survives_when_the_pin_leaves_no_room(trimmer):
    sent = conversation(3)
    budget = tokens(sent[:3]) + 2
    kept = pairs(trimmer.trim(sent, budget))
    assert kept, "the result should not be empty"
    assert kept[0] == pairs(sent)[0], "the system message should stay"
    assert kept[-1] == ("human", "What's my name?"), "the question should reach the model"
    assert len(kept) > 1 and kept[1][0] == "human", "after it, the recent part starts on a human"
    assert kept[1:] == pairs(sent)[len(sent) - len(kept) + 1 :], "the recent part is the latest"
    size = tokens([message(kind, content) for kind, content in kept])
    assert size <= budget, f"the result should fit in {budget} tokens; it counts {size}"
