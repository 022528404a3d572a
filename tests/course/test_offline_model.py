"""The offline model: a real chat model that passes LangChain's standard suites, and
whose memory comes only from the prompt it receives."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from memory_course.offline.offline_model import OfflineChatModel, RecordingChatModel


class OfflineModelUnderTest:
    """The model both standard suites build."""

    @property
    def chat_model_class(self) -> type[OfflineChatModel]:
        return OfflineChatModel

    @property
    def chat_model_params(self) -> dict:
        return {"model": "offline-memory-model"}


class TestOfflineChatModelUnit(OfflineModelUnderTest, ChatModelUnitTests):
    pass


class TestOfflineChatModelIntegration(OfflineModelUnderTest, ChatModelIntegrationTests):
    """The applicable integration tests: no tools, structured output or multimodal input."""

    @property
    def has_tool_calling(self) -> bool:
        return False

    @property
    def has_structured_output(self) -> bool:
        return False


def test_remembers_only_what_the_prompt_contains():
    model = OfflineChatModel()
    with_history = [
        HumanMessage("Hi, I'm Alex"),
        AIMessage("Nice to meet you, Alex!"),
        HumanMessage("What's my name?"),
    ]
    assert "Alex" in model.invoke(with_history).content
    assert "don't know your name" in model.invoke("What's my name?").content


def test_replies_are_deterministic_and_differ_by_prompt():
    model = OfflineChatModel()
    first = model.invoke("Tell me about Redis").content
    assert first == OfflineChatModel().invoke("Tell me about Redis").content
    assert first != model.invoke("Tell me about SQLite").content


def test_later_statements_win_and_other_facts_are_recalled():
    model = OfflineChatModel()
    prompt = [
        HumanMessage("My name is Alex. My favorite color is green. I live in Lisbon."),
        AIMessage("ok"),
        HumanMessage("Actually, call me Sam."),
        AIMessage("ok"),
    ]
    assert "Sam" in model.invoke([*prompt, HumanMessage("What's my name?")]).content
    assert "green" in model.invoke([*prompt, HumanMessage("What's my favorite color?")]).content
    assert "Lisbon" in model.invoke([*prompt, HumanMessage("Where do I live?")]).content


def test_persona_comes_from_the_system_message():
    reply = OfflineChatModel().invoke(
        [SystemMessage("You're an assistant who's good at astronomy."), HumanMessage("hello")]
    )
    assert "astronomy" in reply.content


def test_reads_the_facts_of_its_own_summary_in_a_system_message():
    model = OfflineChatModel()
    summary = model.invoke(
        [
            HumanMessage("Hi, I'm Alex. My favorite color is blue. I live in Lisbon."),
            AIMessage("ok"),
            HumanMessage("Summarize the conversation so far."),
        ]
    ).content
    assert summary.endswith("Known facts: name is Alex; favorite color is blue; home is Lisbon.")
    head = SystemMessage("Summary of the earlier conversation: " + summary)
    ask = model.invoke
    assert ask([head, HumanMessage("What's my name?")]).content == "Your name is Alex."
    assert ask([head, HumanMessage("What's my favorite color?")]).content.endswith("blue.")
    assert ask([head, HumanMessage("Where do I live?")]).content == "You live in Lisbon."
    # A later statement by the user wins over the summary.
    renamed = [head, HumanMessage("Call me Sam"), AIMessage("ok"), HumanMessage("What's my name?")]
    assert ask(renamed).content == "Your name is Sam."
    # A summary of a summary keeps its facts.
    again = ask([SystemMessage("Summary so far: " + summary), HumanMessage("Summarize.")]).content
    assert "Known facts: name is Alex; favorite color is blue; home is Lisbon." in again


def test_other_system_text_is_not_read_as_facts():
    model = OfflineChatModel()
    for system in ("I'm Alex. My favorite color is blue.", "The user's name is Alex."):
        reply = model.invoke([SystemMessage(system), HumanMessage("What's my name?")]).content
        assert "don't know your name" in reply
    # A "Known facts" list in a human or AI message is not a summary handed back.
    listed = AIMessage("Known facts: name is Alex.")
    assert "don't know" in model.invoke([listed, HumanMessage("What's my name?")]).content


def test_stream_concatenates_to_invoke_and_ends_with_usage():
    model = OfflineChatModel()
    prompt = [HumanMessage("Hi, I'm Alex"), AIMessage("hello"), HumanMessage("What's my name?")]
    chunks = list(model.stream(prompt))
    assert len(chunks) > 1
    assert "".join(c.content for c in chunks) == model.invoke(prompt).content
    assert chunks[-1].usage_metadata["input_tokens"] == count_tokens_approximately(prompt)
    assert all(c.usage_metadata is None for c in chunks[:-1])


def test_counts_tokens_without_a_tokenizer_download(monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("token counting must not touch the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    model = OfflineChatModel()
    messages = [HumanMessage("one two three four"), AIMessage("five six")]
    assert model.get_num_tokens_from_messages(messages) == count_tokens_approximately(messages)
    assert model.get_num_tokens("abcdefgh") == 2


def test_stop_and_max_tokens_cut_the_reply():
    model = OfflineChatModel(max_tokens=3)
    assert len(model.invoke("Tell me a long story about the sea").content) <= 12
    cut = OfflineChatModel().invoke("hello there", stop=["said"]).content
    assert "said" not in cut and cut


@pytest.mark.parametrize("turns", [1, 3])
def test_recording_model_keeps_every_prompt(turns):
    model = RecordingChatModel()
    for turn in range(turns):
        model.invoke([HumanMessage(f"message {turn}")])
    assert len(model.prompts) == turns
    assert model.last_prompt[-1].content == f"message {turns - 1}"
    model.reset()
    assert model.prompts == []
    with pytest.raises(IndexError):
        model.last_prompt  # noqa: B018


async def test_async_paths_match_sync():
    model = OfflineChatModel()
    assert (await model.ainvoke("hello")).content == model.invoke("hello").content
    chunks = [c async for c in model.astream("hello")]
    assert "".join(c.content for c in chunks) == model.invoke("hello").content
