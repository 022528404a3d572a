"""Lesson 4's harness: the scenes the graded tests drive, built in the student's process.

It runs once the student's `lesson_04` is imported, and imports it by that name.
Every method returns plain values (configs, keys, messages, reply texts); verdicts are
the grader's. The chats run on the grader's fake model, so the prompts it received are
observed by the grader itself.
"""

import inspect

import lesson_04 as submission  # the student's module, imported first by the grader
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import ConfigurableFieldSpec
from langchain_core.runnables.history import RunnableWithMessageHistory


def _prompt():
    return ChatPromptTemplate.from_messages(
        [("system", "Be helpful."), MessagesPlaceholder("history"), ("human", "{input}")]
    )


def _key_of(key):
    """A store key as the grader sees it: a tuple becomes a list, anything else its repr."""
    return list(key) if isinstance(key, tuple) else repr(key)


class DefaultsScene:
    """A chat on the grader's model whose history fields are `fields`, for Exercise 1.

    `fields` is a list of `[id, default]` pairs (two or more); the chat's store is keyed
    by the tuple of the fields' values, in that order.
    """

    def __init__(self, fields, llm):
        ids = [str(field_id) for field_id, _ in fields]
        self.store = {}

        def get_session_history(**values):
            key = tuple(values[field_id] for field_id in ids)
            if key not in self.store:
                self.store[key] = InMemoryChatMessageHistory()
            return self.store[key]

        # The wrapper passes each field by its id: the factory declares exactly those.
        keyword = inspect.Parameter.KEYWORD_ONLY
        get_session_history.__signature__ = inspect.Signature(
            [inspect.Parameter(field_id, keyword) for field_id in ids]
        )
        self.chat = RunnableWithMessageHistory(
            _prompt() | llm,
            get_session_history,
            input_messages_key="input",
            history_messages_key="history",
            history_factory_config=[
                ConfigurableFieldSpec(id=field_id, annotation=str, default=default, is_shared=True)
                for field_id, default in fields
            ],
        )

    def fill(self, config):
        """`with_spec_defaults` on `config`, and `config` itself as it is afterwards."""
        result = submission.with_spec_defaults(self.chat, config)
        return {"result": result, "given_after": config}

    def say(self, config, text):
        """One turn with the config `with_spec_defaults` completed; the reply's text."""
        filled = submission.with_spec_defaults(self.chat, config)
        return self.chat.invoke({"input": text}, filled).content

    def store_keys(self):
        return sorted((_key_of(key) for key in self.store), key=repr)


class TenantScene:
    """The student's `build_tenant_chat` on the grader's model, over a store the grader reads."""

    def __init__(self, llm):
        self.store = {}
        self.chat = submission.build_tenant_chat(llm, self.store)

    def say(self, tenant_id, user_id, conversation_id, text):
        ids = {"tenant_id": tenant_id, "user_id": user_id, "conversation_id": conversation_id}
        return self.say_with(ids, text)

    def say_with(self, configurable, text):
        """One turn with exactly these configurable values; the reply's text."""
        reply = self.chat.invoke({"input": text}, {"configurable": configurable})
        return reply.content if hasattr(reply, "content") else reply

    def store_keys(self):
        """The store's keys: tuples as lists, any other key as its repr (sorted by repr)."""
        return sorted((_key_of(key) for key in self.store), key=repr)

    def stored(self, tenant_id, user_id, conversation_id):
        """The messages the store holds under the triple, or None without such a key."""
        history = self.store.get((tenant_id, user_id, conversation_id))
        return None if history is None else list(history.messages)
