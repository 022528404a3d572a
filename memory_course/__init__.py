"""Support code for the LangChain conversation-memory course.

One job per module:

- `offline_model`: the deterministic chat model (and its recording variant);
- `factories`: the model, Redis and database chosen from environment variables;
- `deprecations`: the one documented switch for the known deprecation warnings;
- `openai_stub`: a tiny OpenAI-compatible HTTP server backed by the offline model.
"""

from memory_course.deprecations import silence_known_deprecations
from memory_course.factories import (
    describe_backends,
    get_chat_model,
    get_database_url,
    get_redis_client,
)
from memory_course.offline_model import OfflineChatModel, RecordingChatModel

__all__ = [
    "OfflineChatModel",
    "RecordingChatModel",
    "describe_backends",
    "get_chat_model",
    "get_database_url",
    "get_redis_client",
    "silence_known_deprecations",
]
