"""A chat history that keeps recent messages and a running summary of the rest (lesson 9).

`SummaryBufferChatMessageHistory` is the modern counterpart of the legacy
`ConversationSummaryBufferMemory`: recent turns stay verbatim, older turns are folded
into a summary written by a chat model, so the prompt stops growing with the
conversation while what was said early on is still represented.

A fold removes messages, so it must never lose them: the summary is written first and
the old messages are dropped only once it exists. If the summariser fails, every message
is kept, the failure is recorded (`last_error`, `failed_folds`) and logged as a warning,
and the next `add_messages` tries again. The error is not raised: under
`RunnableWithMessageHistory` the history is saved by an `on_end` listener, whose
exceptions the callback manager only logs, so a raise would not reach the caller anyway,
and the turn itself was stored.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable

__all__ = ["DEFAULT_INSTRUCTIONS", "SUMMARY_PREFIX", "SummaryBufferChatMessageHistory"]

DEFAULT_INSTRUCTIONS = (
    "You keep a running summary of a conversation. Extend the summary so far with the "
    "messages that follow. Keep every fact the user stated about themselves."
)
SUMMARY_PREFIX = "Summary of the earlier conversation: "
SUMMARIZE_REQUEST = "Summarize the conversation so far."

logger = logging.getLogger(__name__)


class SummaryBufferChatMessageHistory(BaseChatMessageHistory):
    """Recent messages verbatim plus a model-written summary of everything older.

    Contract:
    - `messages` is `[SystemMessage(SUMMARY_PREFIX + summary), *recent]` once a summary
      exists, otherwise just `recent`.
    - `add_messages` appends to `recent`. When more than `max_messages` are held, the
      oldest are folded into the summary so that at most `keep_last` remain; the kept
      part always starts at a human message, so a turn is never split.
    - Folding is one call to `model` with
      `[SystemMessage(instructions + summary so far), *folded, HumanMessage(SUMMARIZE_REQUEST)]`;
      the reply's text replaces the summary and only then are the folded messages
      dropped. `folds` counts the successful folds.
    - If the summariser raises, nothing is dropped: the summary and every message stay
      as they were, `failed_folds` goes up, `last_error` holds the exception, a warning is
      logged, and the next `add_messages` folds again. A successful fold resets
      `last_error` to None. `add_messages` itself does not raise for it.
    - `clear` forgets the summary and the recent messages.
    """

    def __init__(
        self,
        model: Runnable,
        *,
        max_messages: int = 6,
        keep_last: int = 2,
        instructions: str = DEFAULT_INSTRUCTIONS,
    ) -> None:
        if not 0 <= keep_last < max_messages:
            raise ValueError("need 0 <= keep_last < max_messages")
        self.model = model
        self.max_messages = max_messages
        self.keep_last = keep_last
        self.instructions = instructions
        self.summary: str = ""
        self.recent: list[BaseMessage] = []
        self.folds = 0
        self.failed_folds = 0
        self.last_error: Exception | None = None
        self._lock = threading.Lock()

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]  # the base allows a property
        with self._lock:
            head = [SystemMessage(SUMMARY_PREFIX + self.summary)] if self.summary else []
            return head + list(self.recent)

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        with self._lock:
            self.recent.extend(messages)
            if len(self.recent) > self.max_messages:
                self._fold()

    def _fold(self) -> None:
        cut = len(self.recent) - self.keep_last
        while cut < len(self.recent) and not isinstance(self.recent[cut], HumanMessage):
            cut += 1  # keep whole turns: the kept part starts with the user
        folded = self.recent[:cut]
        so_far = self.summary or "(nothing yet)"
        prompt = [
            SystemMessage(f"{self.instructions}\n\nSummary so far: {so_far}"),
            *folded,
            HumanMessage(SUMMARIZE_REQUEST),
        ]
        try:
            reply = self.model.invoke(prompt)
            summary = reply if isinstance(reply, str) else reply.text
        except Exception as error:  # keep every message; the next add tries again
            self.failed_folds += 1
            self.last_error = error
            logger.warning(
                "summary fold failed, keeping all %d messages: %s: %s",
                len(self.recent),
                type(error).__name__,
                error,
            )
            return
        # The summary exists: only now may the folded messages go.
        self.summary = summary
        self.recent = self.recent[cut:]
        self.folds += 1
        self.last_error = None

    def clear(self) -> None:
        with self._lock:
            self.summary = ""
            self.recent = []
