"""Fixtures of the capstone's graded tests: its objects, built in the student's process.

- `app`: the submission's `ChatApplication` with the fake Redis and fake model injected;
- `make_app(**options)`: another one (`new_process=True`: in a new process);
- `make_history(session_id, **options)`: a `LimitedRedisChatHistory` on the fake Redis.

The engine's own fixtures (`redis_store`, `model`, `submission`, `submission_mro`)
come from `grading.plugin`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from grading.remote import Message, RemoteInstance, SubmissionCrashed


def _redis(decode_responses: bool) -> str:
    return "redis-decoded" if decode_responses else "redis"


class RemoteHistory(RemoteInstance):
    """A `LimitedRedisChatHistory` in the student's process."""

    @property
    def messages(self) -> list[Message]:
        value = self._get("messages")
        if not isinstance(value, list):
            raise SubmissionCrashed(f"messages returned {type(value).__name__}, not a list")
        return value

    def add_messages(self, messages: list[dict[str, str]]) -> Any:
        return self._call("add_messages", messages)

    def clear(self) -> Any:
        return self._call("clear")


@pytest.fixture
def make_app(submission: Any) -> Callable[..., RemoteInstance]:
    """`make_app(new_process=False, redis_client=True, llm=True, **options)`.

    `options` go to `ChatApplication(...)` (max_messages, session_ttl, system_prompt,
    redis_url); `redis_client`/`llm` inject the grader's fake Redis and fake model.
    """

    def make(
        *,
        new_process: bool = False,
        redis_client: bool = True,
        llm: bool = True,
        decode_responses: bool = False,
        **options: Any,
    ) -> RemoteInstance:
        process = submission.new_process() if new_process else submission.default()
        inject = {}
        if redis_client:
            inject["redis_client"] = _redis(decode_responses)
        if llm:
            inject["llm"] = "model"
        return RemoteInstance(process, "ChatApplication", inject=inject, label="app", **options)

    return make


@pytest.fixture
def app(make_app: Callable[..., RemoteInstance]) -> RemoteInstance:
    return make_app()


@pytest.fixture
def make_history(submission: Any) -> Callable[..., RemoteHistory]:
    """`make_history(session_id, **options)`: a LimitedRedisChatHistory on the fake Redis
    (`unreachable=True`: on a client whose every command fails)."""

    def make(
        session_id: str,
        *,
        decode_responses: bool = False,
        unreachable: bool = False,
        **options: Any,
    ) -> RemoteHistory:
        resource = "redis-unreachable" if unreachable else _redis(decode_responses)
        return RemoteHistory(
            submission.default(),
            "LimitedRedisChatHistory",
            session_id,
            inject={"redis_client": resource},
            label="history",
            **options,
        )

    return make
