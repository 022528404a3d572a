"""Lesson 2's harness: the scenes the graded tests drive, built in the student's process.

It runs once the student's `lesson_02` is imported, and imports it by that name.
Every method returns plain values (replies, outputs, stored messages); verdicts are the
grader's. The model of both scenes is the grader's fake model, so the prompts it
received are observed by the grader itself.

`MessagesScene` drives the student's `build_messages_key_chat` with a history factory of
ours. `CheckScene` hands the student's `invoke_and_check_saved` chats the grader built:
one that forgets (a dict output and no `output_messages_key`), one that remembers, one
whose history refuses every write with an exception, and one whose history drops every
write without a word.
"""

from operator import itemgetter

import lesson_02 as submission  # the student's module, imported first by the grader
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import RunnableParallel
from langchain_core.runnables.history import RunnableWithMessageHistory


def _session(session_id):
    return {"configurable": {"session_id": session_id}}


class MessagesScene:
    """The student's messages-key chat on the grader's model, with histories of ours."""

    def __init__(self, llm):
        self.histories = {}
        self.chat = submission.build_messages_key_chat(llm, self._history)

    def _history(self, session_id):
        return self.histories.setdefault(session_id, InMemoryChatMessageHistory())

    def say(self, session_id, messages, topic):
        """One call: `messages` is a str or a list of messages. What `invoke` returned."""
        return self.chat.invoke({"messages": messages, "topic": topic}, _session(session_id))

    def stored(self, session_id):
        """The session's stored messages, in order (none if it has no history)."""
        history = self.histories.get(session_id)
        return [] if history is None else list(history.messages)

    def keys(self):
        """The three `*_messages_key` settings of the wrapper the student built."""
        names = ("input_messages_key", "history_messages_key", "output_messages_key")
        return {name: getattr(self.chat, name, "(not set)") for name in names}


class DiskFullHistory(InMemoryChatMessageHistory):
    """A history whose every write fails, as a full disk would make it."""

    def add_messages(self, messages):
        raise OSError("the disk is full")


class DroppingHistory(InMemoryChatMessageHistory):
    """A history that silently drops every write: nothing fails, nothing is logged."""

    def add_messages(self, messages):
        return None


class CheckScene:
    """Chats the grader built, for the student's `invoke_and_check_saved`."""

    def __init__(self, llm):
        self.histories = {}
        prompt = ChatPromptTemplate.from_messages(
            [("system", "You tutor {topic}."), MessagesPlaceholder("history"), ("human", "{input}")]
        )
        reply_and_topic = RunnableParallel(output_message=prompt | llm, topic=itemgetter("topic"))
        keys = {"input_messages_key": "input", "history_messages_key": "history"}
        self.chats = {
            "forgetful": RunnableWithMessageHistory(reply_and_topic, self._history, **keys),
            "remembering": RunnableWithMessageHistory(
                reply_and_topic, self._history, output_messages_key="output_message", **keys
            ),
            "disk_full": RunnableWithMessageHistory(
                prompt | llm, self._broken_history(DiskFullHistory), **keys
            ),
            "dropping": RunnableWithMessageHistory(
                prompt | llm, self._broken_history(DroppingHistory), **keys
            ),
        }

    def _history(self, session_id):
        return self.histories.setdefault(session_id, InMemoryChatMessageHistory())

    def _broken_history(self, kind):
        def history(session_id):
            found = self.histories.get(session_id)
            if not isinstance(found, kind):
                found = self.histories[session_id] = kind()
            return found

        return history

    def check(self, chat, session_id, text, topic="math"):
        """What the student's `invoke_and_check_saved` returned for chat `chat`."""
        inputs = {"input": text, "topic": topic}
        return submission.invoke_and_check_saved(self.chats[chat], inputs, _session(session_id))

    def stored(self, session_id):
        """The session's stored messages, in order (none if it has no history)."""
        history = self.histories.get(session_id)
        return [] if history is None else list(history.messages)
