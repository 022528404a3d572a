"""Lesson 4 · worked solutions: real defaults for history keys, and a three-key chat."""

from __future__ import annotations

from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import ConfigurableFieldSpec, RunnableConfig
from langchain_core.runnables.history import RunnableWithMessageHistory

__all__ = ["TENANT_KEYS", "build_tenant_chat", "with_spec_defaults"]


def with_spec_defaults(chat: RunnableWithMessageHistory, config: RunnableConfig) -> RunnableConfig:
    """Exercise 1: `config` with missing history fields filled from their specs' defaults.

    The input is not modified. A missing field whose default is empty (`""` or `None`)
    raises `ValueError` naming it: an empty key would put unrelated callers into one
    shared conversation.
    """
    configurable = dict(config.get("configurable", {}))
    for spec in chat.history_factory_config:
        if spec.id in configurable:
            continue
        if spec.default in ("", None):
            raise ValueError(f"config['configurable'] needs {spec.id!r} (it has no default)")
        configurable[spec.id] = spec.default
    return {**config, "configurable": configurable}


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
    """Exercise 2: histories addressed by `(tenant_id, user_id, conversation_id)`.

    Invoke with `{"input": text}` and all three ids in `config["configurable"]`.
    """
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are a helpful assistant."),
            MessagesPlaceholder("history"),
            ("human", "{input}"),
        ]
    )

    def get_session_history(
        tenant_id: str, user_id: str, conversation_id: str
    ) -> InMemoryChatMessageHistory:
        key = (tenant_id, user_id, conversation_id)
        if key not in store:
            store[key] = InMemoryChatMessageHistory()
        return store[key]

    return RunnableWithMessageHistory(
        prompt | llm,
        get_session_history,
        input_messages_key="input",
        history_messages_key="history",
        history_factory_config=TENANT_KEYS,
    )
