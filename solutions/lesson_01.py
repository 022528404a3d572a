"""Lesson 1 · worked solutions: a chat with memory, and a reset command."""

from __future__ import annotations

from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory

__all__ = ["RESET_COMMAND", "build_chat_with_memory", "reply_or_reset"]

RESET_COMMAND = "/reset"


def build_chat_with_memory(
    llm: BaseChatModel, store: dict[str, InMemoryChatMessageHistory]
) -> RunnableWithMessageHistory:
    """Exercise 1: `prompt | llm` wrapped so each session's turns are kept in `store`.

    Invoke it with `{"input": text}` and `{"configurable": {"session_id": ...}}`;
    `store[session_id]` is created on the session's first call.
    """
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are a helpful assistant."),
            MessagesPlaceholder("history"),
            ("human", "{input}"),
        ]
    )

    def get_session_history(session_id: str) -> InMemoryChatMessageHistory:
        if session_id not in store:
            store[session_id] = InMemoryChatMessageHistory()
        return store[session_id]

    return RunnableWithMessageHistory(
        prompt | llm,
        get_session_history,
        input_messages_key="input",
        history_messages_key="history",
    )


def reply_or_reset(chat: RunnableWithMessageHistory, session_id: str, text: str) -> str:
    """Exercise 2: `"/reset"` clears the session (no model call); anything else is a turn."""
    if text.strip() == RESET_COMMAND:
        chat.get_session_history(session_id).clear()
        return "History cleared."
    reply = chat.invoke({"input": text}, {"configurable": {"session_id": session_id}})
    return reply.content
