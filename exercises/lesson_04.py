"""Lesson 4 · Your turn: real defaults for history keys, and a three-key chat.

Write the two exercises of notebook 4's "Your turn" here, then check them from the
notebook's check cell or with `python -m grading check lesson_04`.
"""

from __future__ import annotations

from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import ConfigurableFieldSpec, RunnableConfig
from langchain_core.runnables.history import RunnableWithMessageHistory

__all__ = ["TENANT_KEYS", "build_tenant_chat", "with_spec_defaults"]


def with_spec_defaults(chat: RunnableWithMessageHistory, config: RunnableConfig) -> RunnableConfig:
    """Exercise 1: `config` with missing history fields filled from their specs' defaults.

    The history fields are `chat.history_factory_config`, whatever their ids. The result
    is a new config: every key of `config` is kept (`tags`, `metadata`, ...), and its
    `"configurable"` (empty when `config` has none) keeps every value the caller gave,
    other keys included; a history field the caller did not give gets its spec's
    `default`. A value the caller gave is never replaced by a default. The input is not
    modified: neither `config` nor its `"configurable"` dict.

    A missing field whose default is empty (`""` or `None`) raises `ValueError` whose
    message names the field's id: an empty key would put unrelated callers into one
    shared conversation.
    """
    raise NotImplementedError


def _key(id_: str, name: str, description: str) -> ConfigurableFieldSpec:
    return ConfigurableFieldSpec(
        id=id_, annotation=str, name=name, description=description, default="", is_shared=True
    )


TENANT_KEYS = [
    _key("tenant_id", "Tenant ID", "Which customer organisation."),
    _key("user_id", "User ID", "Who is talking, within the tenant."),
    _key("conversation_id", "Conversation ID", "Which of the user's conversations."),
]


def build_tenant_chat(
    llm: BaseChatModel, store: dict[tuple[str, str, str], InMemoryChatMessageHistory]
) -> RunnableWithMessageHistory:
    """Exercise 2: one conversation per `(tenant_id, user_id, conversation_id)`.

    Returns a `RunnableWithMessageHistory` over `llm` whose history fields are
    `TENANT_KEYS`. Invoke it with `{"input": text}` and all three ids in
    `config["configurable"]`; it returns the model's message. A call missing any of
    the three ids raises `ValueError` (the wrapper's own check) and creates no history.

    Each conversation's history is an `InMemoryChatMessageHistory` kept in `store`, the
    dict the caller passes, under the tuple `(tenant_id, user_id, conversation_id)`:
    created on first use, reused afterwards, and holding each turn (the user's input,
    then the model's reply). The model's prompt carries the conversation's earlier
    turns before the new input. So the same user and conversation ids under two tenants
    are two separate conversations, and so are two users, or two conversations, of one
    tenant.
    """
    raise NotImplementedError
