"""Lesson 10's harness: the scenes the graded tests drive, built in the student's process.

It runs once the student's `lesson_10` is imported, and imports it by that name.
`ServiceScene` is the course's chat service (`create_app`) on the grader's fake model
and fake Redis, with the student's endpoint added, called in-process through FastAPI's
`TestClient` (no network). `PinnedChatScene` chats through a chain whose trimmer is the
student's, on the grader's fake model: the grader reads what the model was sent from
the model's own records. Every method returns plain values (statuses, JSON bodies,
messages); verdicts are the grader's.
"""

import itertools
import uuid

import lesson_10 as submission  # the student's module, imported first by the grader
from fastapi.testclient import TestClient
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.prompt_values import ChatPromptValue
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory

from memory_course.chat_service import SESSION_HEADER, create_app


class ServiceScene:
    """`create_app(model, redis)` plus the student's `GET /sessions/messages`.

    Session ids are issued in order (UUID4s built from 1, 2, ...), so runs repeat.
    """

    def __init__(self, llm, redis, ttl_seconds=600):
        counter = itertools.count(1)
        self.app = create_app(
            llm,
            redis,
            ttl_seconds=ttl_seconds,
            new_session_id=lambda: uuid.UUID(int=next(counter), version=4),
        )
        self.returned = submission.add_history_endpoint(self.app)
        self.client = TestClient(self.app)

    def returned_the_app(self):
        return self.returned is self.app

    def chat(self, message, session_id=None):
        """One turn through `POST /chat`: its status, session id and reply."""
        headers = {} if session_id is None else {SESSION_HEADER: session_id}
        response = self.client.post("/chat", json={"message": message}, headers=headers)
        body = response.json()
        return {
            "status": response.status_code,
            "session_id": response.headers.get(SESSION_HEADER),
            "reply": body.get("reply") if isinstance(body, dict) else None,
        }

    def read(self, header=None):
        """`GET /sessions/messages` with `header` as `X-Session-ID` (None: no header).

        Returns `[status, body]`; a body that is not JSON comes back as its text.
        """
        headers = {} if header is None else {SESSION_HEADER: header}
        response = self.client.get("/sessions/messages", headers=headers)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return [response.status_code, body]

    def delete(self, session_id):
        return self.client.delete("/sessions", headers={SESSION_HEADER: session_id}).status_code


class TrimScene:
    """Calls `trim_keeping_first_exchange` on the messages the grader sends."""

    def trim(self, messages, max_tokens):
        return list(submission.trim_keeping_first_exchange(messages, max_tokens))

    def trim_prompt_value(self, messages, max_tokens):
        """The same, given the messages as a `ChatPromptValue` (what a prompt produces)."""
        value = ChatPromptValue(messages=messages)
        return list(submission.trim_keeping_first_exchange(value, max_tokens))


class PinnedChatScene:
    """system prompt, history, question → the student's pinned trimmer → the grader's model."""

    def __init__(self, max_tokens, llm):
        self.history = InMemoryChatMessageHistory()
        prompt = ChatPromptTemplate.from_messages(
            [
                ("system", "You are a helpful assistant."),
                MessagesPlaceholder("history"),
                ("human", "{message}"),
            ]
        )
        self.chain = RunnableWithMessageHistory(
            prompt | submission.make_pinned_trimmer(max_tokens) | llm,
            lambda session_id: self.history,
            input_messages_key="message",
            history_messages_key="history",
        )

    def say(self, text):
        reply = self.chain.invoke({"message": text}, {"configurable": {"session_id": "alex"}})
        return reply.text

    def stored(self):
        """How many messages the conversation holds (the trimmer must not shorten it)."""
        return len(self.history.messages)
