"""Lesson 10, public tests: the history endpoint and the trimmer that pins the first exchange."""

import pytest

from grading.assignments.lesson_10.helpers import conversation, pairs, prompt_tokens, tokens

UNKNOWN = "3f2b8c1e-9d4a-4c6b-8e7f-2a1b3c4d5e6f"  # a well-formed id the service never issued


@pytest.mark.points(2)
@pytest.mark.requirement("history")
def test_history_returns_the_conversation(service, model):
    """GET /sessions/messages returns the session's messages, oldest first, as type and content."""
    first = service.chat("Hi, I'm Alex")
    assert first["status"] == 200, "POST /chat should start a session"
    session = first["session_id"]
    assert service.chat("What's my name?", session)["status"] == 200
    status, body = service.read(session)
    assert status == 200, (
        f"GET /sessions/messages of a live session should answer 200; it answered {status}: {body}"
    )
    expected = [
        {"type": "human", "content": "Hi, I'm Alex"},
        {"type": "ai", "content": model.reply_to(0)},
        {"type": "human", "content": "What's my name?"},
        {"type": "ai", "content": model.reply_to(1)},
    ]
    assert body == {"messages": expected}, (
        "the body should be the session's two turns, oldest first, each as type and content"
    )
    assert service.returned_the_app(), "add_history_endpoint(app) should return the app it got"


@pytest.mark.points(2)
@pytest.mark.requirement("history")
def test_history_refuses_bad_and_unknown_ids(service):
    """A missing or malformed X-Session-ID gets 400, an id the service never issued 404."""
    session = service.chat("Hi, I'm Alex")["session_id"]
    assert service.read(session)[0] == 200, "a live session should be readable (200)"
    assert service.read(None)[0] == 400, "a request without X-Session-ID should get 400"
    assert service.read("not-a-uuid")[0] == 400, "an X-Session-ID that is not a UUID: 400"
    status, body = service.read(UNKNOWN)
    assert status == 404, (
        f"a well-formed id the service never issued should get 404, not {status} {body}: "
        "an unknown session is not an empty one"
    )


@pytest.mark.points(2)
@pytest.mark.requirement("pinned")
def test_trim_pins_the_first_exchange_and_keeps_the_latest(trimmer):
    """The system message and the first exchange stay, then the latest messages, within budget."""
    sent = conversation(20)
    kept = trimmer.trim(sent, 100)
    assert pairs(kept[:3]) == pairs(sent[:3]), (
        "the result should start with the system message, 'Hi, I'm Alex' and its reply"
    )
    assert tokens(kept) <= 100, f"the result should fit in 100 tokens; it counts {tokens(kept)}"
    assert len(kept) < len(sent), "a conversation over the budget should be shortened"
    tail = pairs(kept[3:])
    assert tail and tail[-1] == ("human", "What's my name?"), (
        "the latest message (the question) should end the result"
    )
    assert tail == pairs(sent)[len(sent) - len(tail) :], (
        "after the first exchange come the most recent messages, in their order, none skipped"
    )
    assert tail[0][0] == "human", "the recent part should start on a human message"


@pytest.mark.points(2)
@pytest.mark.requirement("pinned")
def test_pinned_trimmer_remembers_the_name_after_twenty_turns(pinned_chat, model):
    """Through make_pinned_trimmer the model knows Alex's name after 20 turns, within budget."""
    chat = pinned_chat(200)
    chat.say("Hi, I'm Alex")
    for turn in range(18):
        chat.say(f"Let me tell you about my garden, part {turn:02d}.")
    reply = chat.say("What's my name?")
    prompts = model.prompts
    assert len(prompts) == 20, (
        f"each turn should call the model once; it was called {len(prompts)} times"
    )
    sizes = [prompt_tokens(prompt) for prompt in prompts]
    assert max(sizes) <= 200, f"every prompt should fit in 200 tokens; their sizes: {sizes}"
    first_exchange = [("user", "Hi, I'm Alex"), ("assistant", model.reply_to(0))]
    assert prompts[-1][1:3] == first_exchange, (
        "after the system prompt, the last prompt should carry the first exchange; it began "
        f"{prompts[-1][:3]}"
    )
    assert len(prompts[-1]) < chat.stored(), "the last prompt should be trimmed"
    assert reply == "Your name is Alex.", "the model should still know the name"
