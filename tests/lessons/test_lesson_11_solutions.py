"""The worked solutions of lesson 11 do what the exercises ask."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.store.memory import InMemoryStore

from memory_course import RecordingChatModel
from solutions.lesson_11 import (
    build_trimmed_graph,
    edit_and_regenerate,
    forget_user,
    thread_id_for,
    user_namespace,
)


def chat(graph, thread_id: str, text: str) -> str:
    result = graph.invoke(
        {"messages": [HumanMessage(text)]}, {"configurable": {"thread_id": thread_id}}
    )
    return result["messages"][-1].content


@pytest.fixture(params=["memory", "sqlite"])
def checkpointer(request, tmp_path):
    if request.param == "memory":
        yield InMemorySaver()
    else:
        with SqliteSaver.from_conn_string(str(tmp_path / "checkpoints.sqlite")) as saver:
            yield saver


def test_trimmed_graph_keeps_everything_but_sends_a_window(checkpointer):
    llm = RecordingChatModel()
    budget = 150
    graph = build_trimmed_graph(llm, checkpointer, max_tokens=budget)
    chat(graph, "t", "Hi, I'm Alex")
    for turn in range(29):
        chat(graph, "t", f"Here is remark number {turn} about my vegetable garden.")

    state = graph.get_state({"configurable": {"thread_id": "t"}})
    assert len(state.values["messages"]) == 60
    sizes = [count_tokens_approximately(prompt) for prompt in llm.prompts]
    assert max(sizes) <= budget
    assert len(llm.last_prompt) < 59
    assert all(isinstance(prompt[0], HumanMessage) for prompt in llm.prompts)
    # The window is the most recent part of the stored conversation.
    stored = state.values["messages"][:-1]
    window = llm.last_prompt
    assert [m.content for m in window] == [m.content for m in stored[-len(window) :]]
    # Recency trimming has dropped the name by now.
    assert chat(graph, "t", "What's my name?").startswith("I don't know your name")


def test_trimmed_graph_keeps_a_system_message(checkpointer):
    llm = RecordingChatModel()
    graph = build_trimmed_graph(llm, checkpointer, max_tokens=60)
    config = {"configurable": {"thread_id": "s"}}
    graph.invoke(
        {"messages": [SystemMessage("You are an expert in gardening."), HumanMessage("Hi")]},
        config,
    )
    for turn in range(10):
        chat(graph, "s", f"Another fairly long message, number {turn}, about tomatoes.")
    assert isinstance(llm.last_prompt[0], SystemMessage)
    assert count_tokens_approximately(llm.last_prompt) <= 60


def test_forget_user_removes_only_that_users_threads_and_data(checkpointer):
    llm = RecordingChatModel()
    graph = build_trimmed_graph(llm, checkpointer, max_tokens=1000)
    store = InMemoryStore()
    for user, conversation in [("alex", "a"), ("alex", "b"), ("alexander", "a"), ("sam", "a")]:
        chat(graph, thread_id_for(user, conversation), f"Hi, I'm {user.title()}")
    store.put(user_namespace("alex"), "profile", {"expertise": "cooking"})
    for index in range(150):  # more than one page of search results
        store.put((*user_namespace("alex"), "notes"), f"note-{index}", {"text": "x"})
    store.put(user_namespace("sam"), "profile", {"expertise": "chess"})

    deleted = forget_user(checkpointer, store, "alex")

    assert deleted == ["alex:a", "alex:b"]
    for thread_id in deleted:
        assert graph.get_state({"configurable": {"thread_id": thread_id}}).values == {}
    assert chat(graph, "alex:a", "What's my name?").startswith("I don't know your name")
    assert chat(graph, "alexander:a", "What's my name?") == "Your name is Alexander."
    assert chat(graph, "sam:a", "What's my name?") == "Your name is Sam."
    assert store.search(user_namespace("alex")) == []
    assert store.get(user_namespace("sam"), "profile").value == {"expertise": "chess"}
    assert forget_user(checkpointer, store, "nobody") == []


@pytest.mark.parametrize(("user_id", "conversation_id"), [("", "a"), ("a:b", "c"), ("alex", "")])
def test_thread_ids_reject_ambiguous_parts(user_id, conversation_id):
    with pytest.raises(ValueError):
        thread_id_for(user_id, conversation_id)


def _contents(graph, thread_id: str) -> list[str]:
    state = graph.get_state({"configurable": {"thread_id": thread_id}})
    return [m.content for m in state.values.get("messages", [])]


def test_edit_and_regenerate_forks_and_keeps_the_old_branch(checkpointer):
    graph = build_trimmed_graph(RecordingChatModel(), checkpointer, max_tokens=1000)
    config = {"configurable": {"thread_id": "e"}}
    for text in ["Hi, I'm Alex", "I live in Paris", "Where do I live?"]:
        chat(graph, "e", text)
    old_tip = graph.get_state(config).config

    reply = edit_and_regenerate(graph, config, 1, "I live in Lisbon")

    assert reply == 'You said "I live in Lisbon". I can see 2 earlier messages.'
    contents = _contents(graph, "e")
    assert contents[0] == "Hi, I'm Alex"
    assert contents[2:] == ["I live in Lisbon", reply]  # what followed is not on this branch
    assert chat(graph, "e", "Where do I live?") == "You live in Lisbon."
    # The old branch is intact and reachable.
    old = [m.content for m in graph.get_state(old_tip).values["messages"]]
    assert old[2::2] == ["I live in Paris", "Where do I live?"]
    assert old[-1] == "You live in Paris."
    assert any(
        len(c.values.get("messages", [])) == 6
        and c.values["messages"][2].content == "I live in Paris"
        for c in graph.get_state_history(config)
    )


def test_edit_and_regenerate_the_first_message_and_edit_again(checkpointer):
    graph = build_trimmed_graph(RecordingChatModel(), checkpointer, max_tokens=1000)
    config = {"configurable": {"thread_id": "f"}}
    for text in ["Hi, I'm Alex", "What's my name?"]:
        chat(graph, "f", text)
    chat(graph, "other", "Hi, I'm Alex")

    assert edit_and_regenerate(graph, config, 0, "Hi, I'm Sam").startswith("Nice to meet you, Sam!")
    assert len(_contents(graph, "f")) == 2
    assert chat(graph, "f", "What's my name?") == "Your name is Sam."
    # A second edit walks the current branch (Sam's), not the first one (Alex's).
    assert edit_and_regenerate(graph, config, 1, "Who am I?") == "Your name is Sam."
    assert _contents(graph, "f")[::2] == ["Hi, I'm Sam", "Who am I?"]
    assert _contents(graph, "other")[0] == "Hi, I'm Alex"  # other threads are untouched


def test_edit_and_regenerate_rejects_a_missing_message(checkpointer):
    graph = build_trimmed_graph(RecordingChatModel(), checkpointer, max_tokens=1000)
    config = {"configurable": {"thread_id": "g"}}
    with pytest.raises(IndexError):
        edit_and_regenerate(graph, config, 0, "Hello")
    chat(graph, "g", "Hi, I'm Alex")
    with pytest.raises(IndexError):
        edit_and_regenerate(graph, config, 1, "Hello")
    with pytest.raises(IndexError):
        edit_and_regenerate(graph, config, -1, "Hello")
