"""Lesson 11, hidden tests: the system message and the checkpointer of the trimmed graph,
users whose ids share a prefix, whole Store namespaces, repeated edits, missing messages."""

import pytest

from grading.assignments.lesson_11.helpers import pairs, prompt_pairs, tokens
from grading.remote import RemoteError, message


@pytest.mark.hidden
@pytest.mark.feedback(
    "A system message must stay at the start of every window the model is sent, within "
    "max_tokens (include_system=True)."
)
@pytest.mark.points(1)
@pytest.mark.requirement("trim")
def test_the_system_message_opens_every_window(trimmed_graph, model):
    graph = trimmed_graph(60)
    system = "You are an expert in gardening."
    graph.send("s", [message("system", system), message("human", "Hi")])
    for turn in range(8):
        graph.say("s", f"Another fairly long message, number {turn}, about tomatoes.")
    assert len(pairs(graph.stored("s"))) == 19, "the state should keep every message"
    for turn, prompt in enumerate(model.prompts):
        sent = prompt_pairs(prompt)
        assert sent[0] == ("system", system), f"prompt {turn} should start with the system message"
        assert tokens(sent) <= 60, f"prompt {turn} counts {tokens(sent)} tokens, over 60"
        assert len(sent) > 1 and sent[1][0] == "human", f"prompt {turn}: a human message next"
    assert len(model.prompts[-1]) < 19, "the last prompt should be trimmed"


@pytest.mark.hidden
@pytest.mark.feedback(
    "The graph must be compiled with the checkpointer it is given: a second graph built on "
    "the same checkpointer continues the same threads."
)
@pytest.mark.points(1)
@pytest.mark.requirement("trim")
def test_a_new_graph_on_the_same_checkpointer_continues(trimmed_graph, model):
    graph = trimmed_graph(1000)
    graph.say("t", "Hi, I'm Alex")
    reply = graph.say_through_a_new_graph("t", "What's my name?")
    assert ("human", "Hi, I'm Alex") in prompt_pairs(model.prompts[-1]), (
        "the new graph's model call should see the earlier turn"
    )
    assert reply == "Your name is Alex."


@pytest.mark.hidden
@pytest.mark.feedback(
    "forget_user('alex') must delete only threads whose id starts with 'alex:' (conversation "
    "ids may contain ':'): user 'alexander' keeps every thread and Store item, and a user "
    "with no threads gets []."
)
@pytest.mark.points(1)
@pytest.mark.requirement("forget")
def test_a_user_whose_id_extends_another_keeps_everything(forget_scene):
    for thread in ["alex:a", "alex:b:c", "alexander:a", "alexa", "sam:alex"]:
        forget_scene.chat(thread, "Hi")
    forget_scene.put(["users", "alexander"], "profile", {"expertise": "chess"})
    assert forget_scene.forget("nobody") == [], "a user without threads: []"
    assert len(forget_scene.threads()) == 5, "forgetting an unknown user deletes nothing"
    assert forget_scene.forget("alex") == ["alex:a", "alex:b:c"]
    assert forget_scene.threads() == ["alexa", "alexander:a", "sam:alex"]
    assert forget_scene.contents("alexander:a") == ["Hi", "Noted: Hi"]
    assert forget_scene.items(["users", "alexander"]) == ["users/alexander/profile"]


@pytest.mark.hidden
@pytest.mark.feedback(
    "forget_user must delete every Store item under ('users', user_id), sub-namespaces "
    "included, however many there are: store.search returns one page (10 items by default) "
    "per call."
)
@pytest.mark.points(1)
@pytest.mark.requirement("forget")
def test_every_item_under_the_namespace_goes(forget_scene):
    forget_scene.chat("alex:a", "Hi")
    forget_scene.put(["users", "alex"], "profile", {"expertise": "cooking"})
    forget_scene.put_many(["users", "alex", "notes"], 150)
    forget_scene.put_many(["users", "sam", "notes"], 12)
    forget_scene.put(["shared", "alex"], "poster", {"title": "gardens"})
    assert forget_scene.forget("alex") == ["alex:a"]
    assert forget_scene.items(["users", "alex"]) == [], "every item of alex should be gone"
    assert len(forget_scene.items(["users", "sam"])) == 12, "sam's items should stay"
    assert forget_scene.items(["shared"]) == ["shared/alex/poster"], "other namespaces stay"


@pytest.mark.hidden
@pytest.mark.feedback(
    "A second edit must fork from the thread's current branch (walk back from get_state "
    "through parent_config): after editing the first message and chatting on, editing again "
    "keeps the messages of the new branch, never the old one's."
)
@pytest.mark.points(1)
@pytest.mark.requirement("edit")
def test_a_second_edit_forks_from_the_current_branch(edit_scene, model):
    for text in ["Hi, I'm Alex", "What's my name?"]:
        edit_scene.say("f", text)
    edit_scene.say("other", "Hi, I'm Alex")
    first = edit_scene.edit("f", 0, "Hi, I'm Sam")
    assert prompt_pairs(model.prompts[-1]) == [("human", "Hi, I'm Sam")]
    assert first == model.reply_to(-1)
    assert edit_scene.contents("f") == ["Hi, I'm Sam", first]
    assert edit_scene.say("f", "What's my name?") == "Your name is Sam."
    second = edit_scene.edit("f", 1, "Who am I?")
    assert prompt_pairs(model.prompts[-1]) == [
        ("human", "Hi, I'm Sam"),
        ("ai", first),
        ("human", "Who am I?"),
    ], "the second edit should fork from Sam's branch"
    assert second == "Your name is Sam."
    assert edit_scene.contents("f") == ["Hi, I'm Sam", first, "Who am I?", second]
    assert edit_scene.contents("other")[0] == "Hi, I'm Alex", "other threads are untouched"
    assert any(
        len(held) == 4 and held[2] == "What's my name?" and held[0] == "Hi, I'm Alex"
        for held in edit_scene.checkpoint_contents("f")
    ), "the first branch should remain in the thread's history"


@pytest.mark.hidden
@pytest.mark.feedback(
    "An index with no human message behind it (negative, or not below the number of human "
    "messages, or any index of an empty thread) must raise IndexError without running the "
    "graph."
)
@pytest.mark.points(1)
@pytest.mark.requirement("edit")
def test_a_missing_message_raises_index_error(edit_scene, model):
    edit_scene.say("g", "Hi, I'm Alex")
    checkpoints = edit_scene.checkpoint_count("g")
    for thread, index in [("empty", 0), ("g", 1), ("g", -1), ("g", 5)]:
        with pytest.raises(RemoteError) as caught:
            edit_scene.edit(thread, index, "Hello")
        assert "IndexError" in caught.value.mro_names, f"index {index} of thread {thread!r}"
    assert len(model.prompts) == 1, "a refused edit should not call the model"
    assert edit_scene.checkpoint_count("g") == checkpoints, "a refused edit writes no checkpoint"
    assert edit_scene.checkpoint_count("empty") == 0
