"""Lesson 11, public tests: the trimmed graph, forgetting a user, editing a message."""

import pytest

from grading.assignments.lesson_11.helpers import latest_that_fit, pairs, prompt_pairs, tokens
from grading.remote import RemoteError


@pytest.mark.points(2)
@pytest.mark.requirement("trim")
def test_graph_keeps_every_message_but_sends_a_window(trimmed_graph, model):
    """The state keeps all 40 messages of 20 turns; each model call gets the latest that fit."""
    graph = trimmed_graph(120)
    said = ["Hi, I'm Alex"] + [
        f"Here is remark number {turn:02d} about my vegetable garden." for turn in range(19)
    ]
    for text in said:
        graph.say("t", text)
    prompts = model.prompts
    assert len(prompts) == 20, (
        f"each run should call the model once; it was called {len(prompts)} times"
    )
    stored = pairs(graph.stored("t"))
    expected = [
        pair for i, text in enumerate(said) for pair in (("human", text), ("ai", model.reply_to(i)))
    ]
    assert stored == expected, "the thread's state should keep every message of the 20 turns"
    for turn, prompt in enumerate(prompts):
        sent = prompt_pairs(prompt)
        assert tokens(sent) <= 120, f"prompt {turn} counts {tokens(sent)} tokens, over 120"
        window = latest_that_fit(stored[: 2 * turn + 1], 120)
        assert sent == window, (
            f"prompt {turn} should be the longest run of the latest messages that fits in "
            "120 tokens and starts on a human message"
        )
    assert len(prompts[-1]) < 39, "the last prompt should be trimmed"


@pytest.mark.points(2)
@pytest.mark.requirement("forget")
def test_forget_user_deletes_their_threads_and_data(forget_scene):
    """forget_user deletes the user's threads and Store items, and returns the thread ids."""
    forget_scene.chat("alex:b", "Hi, I'm Alex", "I live in Paris")
    forget_scene.chat("alex:a", "Hi again")
    forget_scene.chat("sam:a", "Hi, I'm Sam")
    forget_scene.put(["users", "alex"], "profile", {"expertise": "cooking"})
    forget_scene.put(["users", "sam"], "profile", {"expertise": "chess"})
    deleted = forget_scene.forget("alex")
    assert deleted == ["alex:a", "alex:b"], (
        "forget_user should return alex's thread ids, sorted, each once"
    )
    assert forget_scene.threads() == ["sam:a"], "only sam's thread should have checkpoints left"
    assert forget_scene.contents("alex:b") == [], "a forgotten thread should have no state"
    assert forget_scene.items(["users", "alex"]) == [], "alex's Store items should be deleted"
    assert forget_scene.items(["users", "sam"]) == ["users/sam/profile"], (
        "sam's profile should stay"
    )
    assert forget_scene.contents("sam:a") == ["Hi, I'm Sam", "Noted: Hi, I'm Sam"]


@pytest.mark.points(1)
@pytest.mark.requirement("forget")
def test_thread_id_for_joins_and_refuses_ambiguous_ids(forget_scene):
    """thread_id_for joins with ':' and refuses an empty id or a user id containing ':'."""
    assert forget_scene.thread_id_for("alex", "monday") == "alex:monday"
    for user_id, conversation_id in [("a:b", "c"), ("", "a"), ("alex", "")]:
        with pytest.raises(RemoteError) as caught:
            forget_scene.thread_id_for(user_id, conversation_id)
        assert "ValueError" in caught.value.mro_names, (
            f"thread_id_for({user_id!r}, {conversation_id!r}) should raise ValueError"
        )


@pytest.mark.points(2)
@pytest.mark.requirement("edit")
def test_edit_forks_and_regenerates(edit_scene, model):
    """Editing the second message forks before it: the model sees the edit, the old branch stays."""
    for text in ["Hi, I'm Alex", "I live in Paris", "Where do I live?"]:
        edit_scene.say("e", text)
    old_tip = edit_scene.tip("e")
    reply = edit_scene.edit("e", 1, "I live in Lisbon")
    assert len(model.prompts) == 4, "editing should call the model once"
    assert prompt_pairs(model.prompts[-1]) == [
        ("human", "Hi, I'm Alex"),
        ("ai", model.reply_to(0)),
        ("human", "I live in Lisbon"),
    ], "the model should see the messages before the edited one, then the new text"
    assert reply == model.reply_to(-1), "edit_and_regenerate should return the new reply"
    assert edit_scene.contents("e") == [
        "Hi, I'm Alex",
        model.reply_to(0),
        "I live in Lisbon",
        reply,
    ], "the thread's latest state should end with the new message and its reply"
    assert edit_scene.say("e", "Where do I live?") == "You live in Lisbon."
    old = edit_scene.contents_at("e", old_tip)
    assert old[2::2] == ["I live in Paris", "Where do I live?"], "the old branch should stay"
