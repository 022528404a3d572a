"""Lesson 1's harness: the scenes the graded tests drive, built in the student's process.

It runs once the student's `lesson_01` is imported, and imports it by that name.
Every method returns plain values (replies, stored messages); verdicts are the
grader's. The model of both scenes is the grader's fake model, so the prompts it
received are observed by the grader itself.

`MemoryScene` drives the student's `build_chat_with_memory`; `ResetScene` hands the
student's `reply_or_reset` a chat the grader built, so exercise 2 is graded on its own.
"""

import lesson_01 as submission  # the student's module, imported first by the grader
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory


def _session(session_id):
    return {"configurable": {"session_id": session_id}}


class MemoryScene:
    """The student's chat on the grader's model, keeping histories in a store of ours."""

    def __init__(self, llm):
        self.store = {}
        self.chat = submission.build_chat_with_memory(llm, self.store)

    def say(self, session_id, text):
        """One turn through the student's chat: what `invoke` returned."""
        return self.chat.invoke({"input": text}, _session(session_id))

    def stored(self):
        """Every history in the store, by session id: its messages in order."""
        return {str(key): list(history.messages) for key, history in self.store.items()}

    def prefill(self, session_id, said, answered):
        """Put a history holding one earlier turn in the store (as a restore would)."""
        self.store[session_id] = InMemoryChatMessageHistory(
            messages=[HumanMessage(said), AIMessage(answered)]
        )


class ResetScene:
    """The grader's own chat with memory, for the student's `reply_or_reset`."""

    def __init__(self, llm):
        self.histories = {}
        prompt = ChatPromptTemplate.from_messages(
            [
                ("system", "You are a patient tutor."),
                MessagesPlaceholder("history"),
                ("human", "{input}"),
            ]
        )
        self.chat = RunnableWithMessageHistory(
            prompt | llm,
            self._history,
            input_messages_key="input",
            history_messages_key="history",
        )

    def _history(self, session_id):
        return self.histories.setdefault(session_id, InMemoryChatMessageHistory())

    def turn(self, session_id, text):
        """What the student's `reply_or_reset` returned."""
        return submission.reply_or_reset(self.chat, session_id, text)

    def stored(self, session_id):
        """The session's messages, or None if it has no history yet."""
        history = self.histories.get(session_id)
        return None if history is None else list(history.messages)
