"""What lesson 11's graded tests share: messages and prompts as (type, content), counted."""

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately

_KINDS = {"human": HumanMessage, "ai": AIMessage, "system": SystemMessage}
_TYPES = {"user": "human", "assistant": "ai", "system": "system"}


def pairs(messages: list) -> list[tuple[str, str]]:
    """(type, content) of messages the student's process returned."""
    return [(m.type, m.content) for m in messages]


def prompt_pairs(prompt: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A prompt the fake model received, its (role, content) pairs as (type, content)."""
    return [(_TYPES.get(role, role), content) for role, content in prompt]


def tokens(typed: list[tuple[str, str]]) -> int:
    """`count_tokens_approximately` of (type, content) pairs, counted by the grader."""
    converted: list[BaseMessage] = [_KINDS[kind](content) for kind, content in typed]
    return count_tokens_approximately(converted)


def latest_that_fit(conversation: list[tuple[str, str]], budget: int) -> list[tuple[str, str]]:
    """The longest run of the latest messages that fits in `budget` and starts on a human
    message (the conversation has no system message)."""
    starts = [
        i
        for i, (kind, _) in enumerate(conversation)
        if kind == "human" and tokens(conversation[i:]) <= budget
    ]
    return conversation[min(starts) :] if starts else []
