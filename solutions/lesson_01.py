# BEGIN SOLUTION NO PROMPT
"""Lesson 1 · worked solutions: a chat with memory, and a reset command."""
# END SOLUTION
# BEGIN PROMPT
# """Lesson 1 · Your turn: a chat with memory, and a reset command.
#
# Write the two exercises of notebook 1's "Your turn" here, then check them with
# `python -m grading check lesson_01`.
# """
# END PROMPT

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

    The prompt is a system message (instructions of your choice), then the session's
    earlier messages (`MessagesPlaceholder("history")`), then the new human message
    `"{input}"`. Invoke the result with `{"input": text}` and
    `{"configurable": {"session_id": ...}}`: the model sees the system message, every
    earlier message of that session in order, then `text`; the call returns the
    model's reply (an `AIMessage`), and the human message and the reply are added to
    the session's history. Sessions never see each other's messages.

    `store` maps a session id to its history: a history already in `store[session_id]`
    is used as it is; otherwise an empty `InMemoryChatMessageHistory` is put there on
    the session's first call.
    """
    # BEGIN SOLUTION
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
    # END SOLUTION


def reply_or_reset(chat: RunnableWithMessageHistory, session_id: str, text: str) -> str:
    """Exercise 2: `"/reset"` clears the session (no model call); anything else is a turn.

    `chat` is a chat like exercise 1's. If `text` is `RESET_COMMAND` (surrounding
    whitespace ignored), clear that session's history (the wrapper keeps its factory
    as `chat.get_session_history`) and return `"History cleared."` without calling the
    model; other sessions keep their histories. Any other text, one that merely
    mentions the command included, is an ordinary turn of `session_id`: return the
    model's reply text (a `str`).
    """
    # BEGIN SOLUTION
    if text.strip() == RESET_COMMAND:
        chat.get_session_history(session_id).clear()
        return "History cleared."
    reply = chat.invoke({"input": text}, {"configurable": {"session_id": session_id}})
    return reply.content
    # END SOLUTION
