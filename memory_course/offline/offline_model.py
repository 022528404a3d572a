"""An offline, deterministic chat model whose replies depend only on the prompt.

`OfflineChatModel` is a real `BaseChatModel`: it supports invoke, ainvoke, stream and
astream, reports usage metadata and counts tokens without downloading a tokenizer.
It has no memory of its own. Whatever it "remembers" it reads from the messages it is
given, so a memory demo built on it is honest: tell it "Hi, I'm Alex" earlier in the
same prompt and it answers "What's my name?" with Alex; without that history it says
it does not know.

Facts come from what the user said (human messages), with one narrow exception: a
summary the model wrote itself. Asked to summarise, it ends its reply with
"Known facts: name is Alex; home is Lisbon." When such a summary comes back inside a
*system* message (as lesson 9's summarising history and a LangGraph summary node hand
it back), the model reads that list, so facts survive a fold. It reads nothing else from
system messages except the persona ("good at ..."). Messages are read in order, so a
later statement by the user wins over the summary.

`RecordingChatModel` also keeps every prompt it received, so a test or a lesson can
show exactly what history reached the model.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import LangSmithParams
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    UsageMetadata,
)
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field, PrivateAttr

__all__ = ["OfflineChatModel", "RecordingChatModel", "compose_reply"]

_NAME = re.compile(r"\b(?:[Mm]y name is|I am|I'm|[Cc]all me)\s+([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)?)")
_FAVOURITE = re.compile(r"\bmy favou?rite ([a-z ]+?) is ([^.,!?;]+)", re.IGNORECASE)
_LIVES = re.compile(r"\bI live in ([^.,!?;]+)", re.IGNORECASE)
_TOPIC = re.compile(r"\b(?:good at|expert in|specialis(?:e|ing) in)\s+([^.,!?;]+)", re.IGNORECASE)
# The fact list ending a summary written by `_summary`, e.g. "Known facts: name is Alex."
_KNOWN_FACTS = re.compile(r"\bKnown facts: ([^.]+)\.")
_KNOWN_FACT = re.compile(r"^(name|home|favorite [a-z ]+?) is (.+)$")
_NOT_NAMES = {"A", "An", "The", "I", "Not", "So", "Very", "Just", "Here", "Back", "Fine", "Good"}


def _text(message: BaseMessage) -> str:
    return message.text if isinstance(message.text, str) else str(message.content)


def _summary_facts(text: str) -> dict[str, str]:
    """The "Known facts: key is value; ..." list of a summary written by `_summary`."""
    facts: dict[str, str] = {}
    for listed in _KNOWN_FACTS.finditer(text):
        for item in listed.group(1).split("; "):
            fact = _KNOWN_FACT.match(item.strip())
            if fact:
                facts[fact.group(1)] = fact.group(2).strip()
    return facts


def _facts(history: Sequence[BaseMessage]) -> dict[str, str]:
    """What the user has said about themselves; later statements win.

    Human messages are read with the patterns above. System messages contribute only
    the "Known facts:" list of a summary this model wrote (see the module docstring).
    """
    facts: dict[str, str] = {}
    for message in history:
        if isinstance(message, SystemMessage):
            facts.update(_summary_facts(_text(message)))
            continue
        if not isinstance(message, HumanMessage):
            continue
        text = _text(message)
        for match in _NAME.finditer(text):
            if match.group(1).split()[0] not in _NOT_NAMES:
                facts["name"] = match.group(1)
        for match in _FAVOURITE.finditer(text):
            facts[f"favorite {match.group(1).strip().lower()}"] = match.group(2).strip()
        for match in _LIVES.finditer(text):
            facts["home"] = match.group(1).strip()
    return facts


def _summary(history: Sequence[BaseMessage]) -> str:
    said = [_text(m) for m in history if isinstance(m, HumanMessage)]
    facts = _facts(history)
    parts = [f"{key} is {value}" for key, value in facts.items()]
    known = f" Known facts: {'; '.join(parts)}." if parts else ""
    if not said:
        return f"Summary: nothing has been said yet.{known}"
    return f"Summary: the user sent {len(said)} messages, most recently {said[-1]!r}.{known}"


def compose_reply(messages: Sequence[BaseMessage]) -> str:
    """Compute the reply to `messages` from their content alone (no hidden state)."""
    if not messages:
        return "I received no messages."
    last_human = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
    question = _text(last_human) if last_human else _text(messages[-1])
    history = list(messages[: messages.index(last_human)]) if last_human else list(messages[:-1])
    earlier = [m for m in history if not isinstance(m, SystemMessage)]
    facts = _facts(history)
    name = facts.get("name")
    q = question.lower()

    if re.search(r"summari[sz]e|summary", q):
        return _summary(history)
    if re.search(r"what(?:'s| is) my name|who am i|do you (?:know|remember) my name", q):
        if name:
            return f"Your name is {name}."
        return "I don't know your name yet. You haven't told me in this conversation."
    favourite = re.search(r"what(?:'s| is) my favou?rite ([a-z ]+?)\??$", q.strip())
    if favourite:
        key = f"favorite {favourite.group(1).strip()}"
        if key in facts:
            return f"Your {key} is {facts[key]}."
        return f"I don't know your {key}. You haven't told me."
    if re.search(r"where do i live", q):
        if "home" in facts:
            return f"You live in {facts['home']}."
        return "I don't know where you live. You haven't told me."
    if re.search(r"how many messages", q):
        return f"I can see {len(earlier)} earlier messages in this conversation."
    if re.search(r"what (?:did|was) (?:i|my) (?:just )?(?:say|ask|tell|first|last|previous)", q):
        said = [_text(m) for m in earlier if isinstance(m, HumanMessage)]
        if not said:
            return "You haven't said anything before this message."
        first = "first" in q
        return f"You said: {said[0] if first else said[-1]!r}."

    greeting = ""
    new_name = _facts([last_human]).get("name") if last_human else None
    if new_name:
        greeting = f"Nice to meet you, {new_name}! "
    elif re.match(r"\s*(hi|hello|hey)\b", q):
        greeting = f"Hello{', ' + name if name else ''}! "
    if re.search(r"\bthank", q):
        return f"You're welcome{', ' + name if name else ''}!"
    topic = next(
        (
            t.group(1).strip()
            for m in messages
            if isinstance(m, SystemMessage)
            for t in [_TOPIC.search(_text(m))]
            if t
        ),
        None,
    )
    persona = f"As your {topic} assistant: " if topic else ""
    memory = (
        f"I can see {len(earlier)} earlier messages."
        if earlier
        else "This is the start of our conversation."
    )
    echo = question.strip()
    if len(echo) > 80:
        echo = echo[:77] + "..."
    return f'{greeting}{persona}You said "{echo}". {memory}'


def _apply_stop(text: str, stop: list[str] | None) -> str:
    for word in stop or []:
        if word and word in text:
            text = text[: text.index(word)]
    return text


class OfflineChatModel(BaseChatModel):
    """A deterministic, network-free chat model for lessons and tests.

    Replies come from `compose_reply(messages)`: the same messages always give the
    same reply. Streaming yields the reply word by word; the last chunk carries usage
    metadata. Token counts use `count_tokens_approximately` (no download).
    """

    model_name: str = Field(default="offline-memory-model", alias="model")
    temperature: float | None = None  # accepted for compatibility; replies are deterministic
    max_tokens: int | None = None  # replies are cut to this many (approximate) tokens
    stop: list[str] | None = None  # default stop sequences
    timeout: float | None = None  # accepted for compatibility; nothing waits on a network
    max_retries: int = 0  # accepted for compatibility; nothing can fail transiently

    model_config = ConfigDict(populate_by_name=True)

    @property
    def _llm_type(self) -> str:
        return "offline-memory-model"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="offline",
            ls_model_name=kwargs.get("model", self.model_name),
            ls_model_type="chat",
        )
        if self.temperature is not None:
            params["ls_temperature"] = self.temperature
        if self.max_tokens is not None:
            params["ls_max_tokens"] = self.max_tokens
        if stop or self.stop:
            params["ls_stop"] = stop or self.stop
        return params

    def _reply(
        self, messages: list[BaseMessage], stop: list[str] | None
    ) -> tuple[str, UsageMetadata]:
        text = _apply_stop(compose_reply(messages), stop or self.stop)
        if self.max_tokens is not None:
            text = text[: self.max_tokens * 4]
        input_tokens = count_tokens_approximately(messages)
        output_tokens = self.get_num_tokens(text)
        usage: UsageMetadata = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        }
        return text, usage

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text, usage = self._reply(messages, stop)
        message = AIMessage(
            content=text,
            usage_metadata=usage,
            response_metadata={"model_name": self.model_name, "model_provider": "offline"},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        text, usage = self._reply(messages, stop)
        pieces = re.findall(r"\S+\s*|\s+", text) or [""]
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            chunk = ChatGenerationChunk(
                message=AIMessageChunk(
                    content=piece,
                    usage_metadata=usage if last else None,
                    response_metadata=(
                        {"model_name": self.model_name, "model_provider": "offline"} if last else {}
                    ),
                    chunk_position="last" if last else None,
                )
            )
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk

    def get_num_tokens(self, text: str) -> int:
        """About four characters a token, as `count_tokens_approximately` assumes."""
        return math.ceil(len(text) / 4)

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence | None = None
    ) -> int:
        return count_tokens_approximately(messages)


class RecordingChatModel(OfflineChatModel):
    """An `OfflineChatModel` that keeps a copy of every prompt it received.

    `prompts[i]` is the list of messages of the i-th call, so a test can prove that
    history was injected: `model.last_prompt` after turn 2 holds turn 1's messages.
    """

    _prompts: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _reply(
        self, messages: list[BaseMessage], stop: list[str] | None
    ) -> tuple[str, UsageMetadata]:
        with self._lock:
            self._prompts.append(list(messages))
        return super()._reply(messages, stop)

    @property
    def prompts(self) -> list[list[BaseMessage]]:
        with self._lock:
            return list(self._prompts)

    @property
    def last_prompt(self) -> list[BaseMessage]:
        """The messages of the most recent call; `IndexError` if there was none."""
        with self._lock:
            return list(self._prompts[-1])

    def reset(self) -> None:
        with self._lock:
            self._prompts.clear()
