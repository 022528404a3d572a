"""Lesson 7, public tests: concurrent sessions with ordered turns, and a stream that saves."""

import pytest

from grading.assignments.lesson_07.helpers import check_conversations

CONVERSATIONS = {
    "ana": ["Hi, I'm Ana", "My favorite color is red", "What's my favorite color?"],
    "ben": ["Hi, I'm Ben", "What's my name?"],
    "cy": ["Do you know my name?"],
}


@pytest.mark.points(2)
@pytest.mark.requirement("ask_all")
def test_each_session_is_answered_from_its_own_history_in_order(ask_scene, model):
    """Every question is asked once, after its session's earlier turns, and answered."""
    chat = ask_scene()
    replies = chat.ask(CONVERSATIONS)
    check_conversations(model, CONVERSATIONS, replies)
    assert chat.stored("ana")[-1] == ["ai", replies["ana"][-1]], "every turn is saved"


@pytest.mark.points(1)
@pytest.mark.requirement("ask_all")
def test_sessions_run_concurrently(ask_scene):
    """The three sessions' turns are in flight at the same time."""
    chat = ask_scene()
    chat.ask(CONVERSATIONS)
    assert chat.most_at_once() == 3, (
        "the 3 sessions should be in flight at once (await them together, e.g. with "
        "asyncio.gather); here at most this many were"
    )


@pytest.mark.points(2)
@pytest.mark.requirement("stream")
def test_a_complete_turn_is_streamed_returned_and_saved(stream_scene, model):
    """Chunks reach on_chunk, the reply is returned and saved, and the next turn sees it."""
    first = stream_scene.turn("Hi, I'm Alex")
    assert first["raised"] is None, "a complete turn should raise nothing"
    assert len(model.prompts) == 1, "the chain should have asked the model once"
    reply = model.reply_to(-1)
    assert len(first["chunks"]) > 1 and "".join(first["chunks"]) == reply, (
        f"on_chunk should receive every chunk of the reply {reply!r}, one at a time; "
        f"it received {first['chunks']}"
    )
    assert first["returned"] == reply
    second = stream_scene.turn("What's my name?", send=False)
    assert second["returned"] == model.reply_to(-1), "without on_chunk, the reply is returned"
    assert model.prompts[-1].history == [("user", "Hi, I'm Alex"), ("assistant", reply)], (
        "the chain should get the messages the history held before the turn"
    )
    stored = stream_scene.stored()
    assert [[kind, content] for kind, content, _ in stored] == [
        ["human", "Hi, I'm Alex"],
        ["ai", reply],
        ["human", "What's my name?"],
        ["ai", second["returned"]],
    ], "each turn should be saved as the question and the whole reply"
    assert [meta.get("interrupted") for _, _, meta in stored[1::2]] == [None, None], (
        "a reply that streamed to the end carries no interrupted flag"
    )


@pytest.mark.points(2)
@pytest.mark.requirement("stream")
def test_a_cancelled_turn_keeps_its_partial_reply(stream_scene, model):
    """Cancelled after two chunks: the question and the two chunks are saved, flagged."""
    outcome = stream_scene.turn("Hi, I'm Alex", cancel_after=2)
    assert "CancelledError" in (outcome["raised"] or []), (
        "the cancellation should propagate out of stream_and_save"
    )
    partial = "".join(outcome["chunks"])
    stored = stream_scene.stored()
    assert [[kind, content] for kind, content, _ in stored] == [
        ["human", "Hi, I'm Alex"],
        ["ai", partial],
    ], "a cancelled turn should still be saved: the question and the chunks received so far"
    assert stored[1][2].get("interrupted") is True, (
        'the partial reply should carry response_metadata={"interrupted": True}'
    )
    stream_scene.turn("What's my name?")
    assert model.prompts[-1].history == [("user", "Hi, I'm Alex"), ("assistant", partial)], (
        "the next turn should see the interrupted turn in its history"
    )
