"""What lesson 10's graded tests share: conversations, and token counts the grader makes."""

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately

from grading.remote import message

_KINDS = {"human": HumanMessage, "ai": AIMessage, "system": SystemMessage}
_ROLES = {"user": HumanMessage, "assistant": AIMessage, "system": SystemMessage}


def conversation(turns: int, system: bool = True) -> list[dict[str, str]]:
    """Messages to send: a system prompt, "Hi, I'm Alex" and its reply, `turns` more
    exchanges of one size, then the question "What's my name?"."""
    messages = [message("system", "You are a helpful assistant.")] if system else []
    messages += [message("human", "Hi, I'm Alex"), message("ai", "Nice to meet you, Alex!")]
    for turn in range(turns):
        messages.append(message("human", f"Here is a long remark number {turn:02d} on my garden."))
        messages.append(message("ai", f"Thanks for remark {turn:02d}."))
    messages.append(message("human", "What's my name?"))
    return messages


def pairs(messages: list) -> list[tuple[str, str]]:
    """(type, content) of sent messages (dicts) or returned ones (`Message`s)."""
    return [
        (m["$message"], m["content"]) if isinstance(m, dict) else (m.type, m.content)
        for m in messages
    ]


def tokens(messages: list) -> int:
    """`count_tokens_approximately` of sent or returned messages, counted by the grader."""
    return count_tokens_approximately([_KINDS[kind](content) for kind, content in pairs(messages)])


def prompt_tokens(prompt: list[tuple[str, str]]) -> int:
    """The same count for a prompt the fake model received, as (role, content) pairs."""
    converted: list[BaseMessage] = [_ROLES[role](content) for role, content in prompt]
    return count_tokens_approximately(converted)
