"""Where the course reads its environment: the chat model, Redis and the SQL database.

Every lesson, test and the grader gets its model and clients from here, so one set of
environment variables switches the whole course from the embedded defaults to the real
thing:

| variable          | effect                                   | default                       |
|-------------------|------------------------------------------|-------------------------------|
| `OPENAI_API_KEY`  | use `ChatOpenAI`                         | the offline model             |
| `OPENAI_MODEL`    | which OpenAI model                       | `gpt-4o-mini`                 |
| `OPENAI_BASE_URL` | an OpenAI-compatible endpoint            | OpenAI's own                  |
| `REDIS_URL`       | a real Redis server                      | fakeredis, in this process    |
| `DATABASE_URL`    | a real PostgreSQL (`postgresql://...`)   | none: lessons use SQLite      |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from langchain_core.language_models import BaseChatModel

from memory_course.offline.offline_model import OfflineChatModel

__all__ = [
    "DEFAULT_OPENAI_MODEL",
    "describe_backends",
    "get_chat_model",
    "get_database_url",
    "get_redis_client",
    "shared_fake_redis_server",
]

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


def get_chat_model(env: Mapping[str, str] | None = None, **kwargs: Any) -> BaseChatModel:
    """`ChatOpenAI` when `OPENAI_API_KEY` is set, else an `OfflineChatModel`.

    `kwargs` go to `ChatOpenAI` (for example `temperature=0`); the offline model takes
    none. `env` defaults to `os.environ` and exists so tests can pass their own.
    """
    env = os.environ if env is None else env
    if not env.get("OPENAI_API_KEY"):
        return OfflineChatModel()
    from langchain_openai import ChatOpenAI

    options: dict[str, Any] = {
        "model": env.get("OPENAI_MODEL") or DEFAULT_OPENAI_MODEL,
        "api_key": env["OPENAI_API_KEY"],
        "stream_usage": True,
    }
    if env.get("OPENAI_BASE_URL"):
        options["base_url"] = env["OPENAI_BASE_URL"]
    options.update(kwargs)
    return ChatOpenAI(**options)


@lru_cache(maxsize=1)
def shared_fake_redis_server():
    """The one in-process fake Redis server, so every fake client sees the same data."""
    import fakeredis

    return fakeredis.FakeServer()


def get_redis_client(env: Mapping[str, str] | None = None, *, decode_responses: bool = False):
    """A `redis.Redis` for `REDIS_URL`, else a fakeredis client on the shared fake server.

    Real clients get bounded socket timeouts so an outage raises instead of hanging.
    """
    env = os.environ if env is None else env
    url = env.get("REDIS_URL")
    if url:
        import redis

        return redis.Redis.from_url(
            url,
            decode_responses=decode_responses,
            socket_connect_timeout=2,
            socket_timeout=5,
        )
    import fakeredis

    return fakeredis.FakeRedis(server=shared_fake_redis_server(), decode_responses=decode_responses)


def get_database_url(env: Mapping[str, str] | None = None) -> str | None:
    """`DATABASE_URL` if set (a PostgreSQL URL), else `None`: lessons then use SQLite."""
    env = os.environ if env is None else env
    return env.get("DATABASE_URL") or None


def describe_backends(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """What the course will use, in words fit to print (no secrets, no addresses)."""
    env = os.environ if env is None else env
    model = (
        f"ChatOpenAI ({env.get('OPENAI_MODEL') or DEFAULT_OPENAI_MODEL})"
        if env.get("OPENAI_API_KEY")
        else "OfflineChatModel (deterministic, no network)"
    )
    return {
        "chat model": model,
        "redis": "real Redis (REDIS_URL)" if env.get("REDIS_URL") else "fakeredis (in-process)",
        "sql": "PostgreSQL (DATABASE_URL)" if env.get("DATABASE_URL") else "SQLite (local file)",
    }
