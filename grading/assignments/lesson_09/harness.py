"""Lesson 9's harness: the scenes the graded tests drive, built in the student's process.

It runs once the student's `lesson_09` is imported, and imports it by that name. The
windowed chat talks to the grader's fake model, so the prompts it sends are observed by
the grader itself; the legacy memories are built here (they cannot cross the protocol)
and only the messages the student's migration returns come back. Every method returns
plain values (texts, messages); verdicts are the grader's.
"""

import lesson_09 as submission  # the student's module, imported first by the grader
from langchain_classic.memory import (
    ConversationBufferMemory,
    ConversationBufferWindowMemory,
    ConversationSummaryBufferMemory,
    ConversationSummaryMemory,
)
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

from memory_course import OfflineChatModel

CUSTOM_PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "Answer in one short sentence."),
        MessagesPlaceholder("history"),
        ("human", "{input}"),
    ]
)


class WindowScene:
    """`build_windowed_chat(model, k, ...)` on the grader's model, with in-memory histories
    (and the custom prompt above when `custom_prompt`)."""

    def __init__(self, k, llm, custom_prompt=False):
        self.store = {}
        options = {"prompt": CUSTOM_PROMPT} if custom_prompt else {}
        self.chat = submission.build_windowed_chat(llm, k, self._history, **options)

    def _history(self, session_id):
        return self.store.setdefault(session_id, InMemoryChatMessageHistory())

    def say(self, session_id, text):
        config = {"configurable": {"session_id": session_id}}
        return self.chat.invoke({"input": text}, config).content

    def stored(self, session_id):
        """Every message the session's history holds."""
        history = self.store.get(session_id)
        return list(history.messages) if history is not None else []


def _save_turns(memory, turns):
    for question, answer in turns:
        memory.save_context({"input": question}, {"output": answer})
    return memory


def _messages(texts):
    """Messages alternating user, assistant: `texts[0]` is the user's."""
    kinds = (HumanMessage, AIMessage)
    return [kinds[i % 2](text) for i, text in enumerate(texts)]


class MigrateScene:
    """Legacy memories built from the grader's turns, carried over by `legacy_to_history`."""

    def _migrate(self, memory):
        return list(submission.legacy_to_history(memory).messages)

    def buffer(self, turns):
        return self._migrate(_save_turns(ConversationBufferMemory(), turns))

    def window(self, k, turns):
        return self._migrate(_save_turns(ConversationBufferWindowMemory(k=k), turns))

    def summary(self, summary, texts):
        """A `ConversationSummaryMemory` whose summary is `summary`, its log `texts`."""
        memory = ConversationSummaryMemory(llm=OfflineChatModel(), buffer=summary)
        memory.chat_memory.add_messages(_messages(texts))
        return self._migrate(memory)

    def summary_buffer(self, summary, texts):
        """A `ConversationSummaryBufferMemory` with `summary`, keeping the messages `texts`."""
        memory = ConversationSummaryBufferMemory(
            llm=OfflineChatModel(), max_token_limit=10_000, moving_summary_buffer=summary
        )
        memory.chat_memory.add_messages(_messages(texts))
        return self._migrate(memory)

    def not_a_memory(self):
        """An object that keeps no chat messages."""
        return self._migrate(object())
