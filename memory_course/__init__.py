"""Support code for the LangChain conversation-memory course.

The lessons import the modules at the top level, one job per module:

- `factories`: the model, Redis and database chosen from environment variables;
- `deprecations`: the one documented switch for the known deprecation warnings;
- `notebook_setup`: the Setup cell every lesson opens with;
- `sessions`, `clock`: lesson 3's multi-session manager and an injectable clock;
- `file_history`: lesson 6's hardened file-backed history;
- `resilient_history`, `summary_history`: lessons 8 and 9;
- `checked_history`: lesson 8's check that a turn was saved (a failed save is otherwise silent);
- `chat_service`, `live_server`: lesson 10's FastAPI app and a uvicorn thread to serve it;
- `redis_metrics`: Redis round trips and bytes per operation; `redis_costs`: what a turn
  costs per storage design, against `naive_redis_history` (the lesson's first attempt);
- `cluster_slots`: what Redis Cluster's slots mean for the course's keys (lesson 10):
  slots and hash tags computed offline, and a cross-slot transaction tried on a real cluster;
- `subprocess_demo`: child Python processes for lessons that need a second process.

Two subpackages hold the rest:

- `offline`: the stand-ins that let the course run with no key, server or network
  (`offline_model`, `openai_stub`, `fake_redis_server`, `offline_guard`) and the
  faults the lessons inject (`lost_replies`);
- `tooling`: maintainers' tools the lessons never import (`navigation`,
  `notebook_runner`, `canary`).

The names below are imported on first use, so a child process that needs one small
module (say `file_history`) does not pay for importing LangChain's model stack.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FakeRedisServer": "memory_course.offline.fake_redis_server",
    "LoseNext": "memory_course.offline.lost_replies",
    "ReplyLosingConnection": "memory_course.offline.lost_replies",
    "OfflineChatModel": "memory_course.offline.offline_model",
    "RecordingChatModel": "memory_course.offline.offline_model",
    "describe_backends": "memory_course.factories",
    "get_chat_model": "memory_course.factories",
    "get_database_url": "memory_course.factories",
    "get_redis_client": "memory_course.factories",
    "silence_known_deprecations": "memory_course.deprecations",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'memory_course' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
