"""A chat history that lets the caller check that a turn was saved (lesson 8).

`RunnableWithMessageHistory` saves a turn in a listener: the model's reply is computed,
then `on_end` calls the history's `add_messages` (`aadd_messages` with `ainvoke`). The
callback manager catches any exception a listener raises, logs a warning
(`Error in RootListenersTracer.on_llm_end callback: ...`) and carries on, so `invoke`
returns the reply even when nothing was stored. A failed *read* surfaces (it happens
before the model runs, in the chain itself); a failed *write* is silent.

`CheckedHistory` wraps the history the chain uses and records what happened to its
writes. After `invoke`/`ainvoke` returns, `raise_if_not_saved()` turns a lost save into
an exception the caller cannot miss::

    checked = CheckedHistory(store_history(session_id))
    chat = RunnableWithMessageHistory(model, lambda session_id: checked)
    reply = chat.invoke("Hi", {"configurable": {"session_id": session_id}})
    checked.raise_if_not_saved()  # SaveFailedError if the turn was not stored

Contract:

- Reads (`messages`, `aget_messages`) and `clear`/`aclear` are delegated unchanged; their
  errors propagate as they are.
- `add_messages`/`aadd_messages` delegate to the wrapped history, record the outcome
  (`saved` messages on success, `error` on failure) and re-raise any exception, so
  logging, tracing and the chain behave as before.
- `raise_if_not_saved()` raises `SaveFailedError` if a write failed (chained `from` the
  recorded error) or if no write happened at all (the listener failed before writing,
  for example while re-reading the history). Otherwise it returns the number of
  messages saved.
- One `CheckedHistory` per turn: the record covers every write since it was built or
  since `reset()`. Do not share one instance between concurrent turns.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage

__all__ = ["CheckedHistory", "SaveFailedError"]


class SaveFailedError(RuntimeError):
    """A chat turn was answered but not stored; `__cause__` is the store's error, if any."""


class CheckedHistory(BaseChatMessageHistory):
    """Wraps `inner`; records whether its writes succeeded, so a lost save can be raised.

    Attributes:
        inner: the wrapped history, which does the actual storing.
        writes: how many write calls were attempted since the start (or `reset()`).
        saved: how many messages those writes stored successfully.
        error: the first exception a write raised, or `None`.
    """

    def __init__(self, inner: BaseChatMessageHistory) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        self.writes = 0
        self.saved = 0
        self.error: BaseException | None = None

    # -- reads and clear: delegated ----------------------------------------------------

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]  # the base allows a property
        return self.inner.messages

    async def aget_messages(self) -> list[BaseMessage]:
        return await self.inner.aget_messages()

    def clear(self) -> None:
        self.inner.clear()

    async def aclear(self) -> None:
        await self.inner.aclear()

    # -- writes: delegated and recorded ------------------------------------------------

    def _record(self, count: int, error: BaseException | None) -> None:
        with self._lock:
            self.writes += 1
            if error is None:
                self.saved += count
            elif self.error is None:
                self.error = error

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        messages = list(messages)
        try:
            self.inner.add_messages(messages)
        except BaseException as error:
            self._record(len(messages), error)
            raise
        self._record(len(messages), None)

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        messages = list(messages)
        try:
            await self.inner.aadd_messages(messages)
        except BaseException as error:
            self._record(len(messages), error)
            raise
        self._record(len(messages), None)

    # -- the check ---------------------------------------------------------------------

    @property
    def ok(self) -> bool:
        """True if at least one write happened and none failed."""
        return self.writes > 0 and self.error is None

    def raise_if_not_saved(self) -> int:
        """Return how many messages were saved; raise `SaveFailedError` if the turn was not.

        Raised when a write failed (the error is the `__cause__`) or when no write was
        attempted at all.
        """
        with self._lock:
            error, writes, saved = self.error, self.writes, self.saved
        if error is not None:
            raise SaveFailedError(
                f"the turn was not saved: {type(error).__name__}: {error}"
            ) from error
        if writes == 0:
            raise SaveFailedError("the turn was not saved: the history was never written to")
        return saved

    def reset(self) -> None:
        """Forget the recorded writes, to check another turn with the same instance."""
        with self._lock:
            self.writes = 0
            self.saved = 0
            self.error = None
