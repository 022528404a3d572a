"""The course's one place for known deprecation warnings.

The pinned LangChain deprecates the APIs this course teaches (`RunnableWithMessageHistory`
since langchain-core 1.3.3, the chat-history base classes since 1.6.4, and the whole of
langchain-community, which is being sunset). Lesson 1 shows these warnings once, on
purpose. Afterwards `silence_known_deprecations()` hides exactly these warnings and no
others, so any new warning still reaches the student.
"""

from __future__ import annotations

import importlib.util
import warnings
from typing import NamedTuple

__all__ = ["KNOWN_DEPRECATIONS", "KnownDeprecation", "silence_known_deprecations"]


class KnownDeprecation(NamedTuple):
    category: type[Warning]
    message: str  # a regular expression matched against the start of the warning text
    why: str


def _langchain_deprecation_warning() -> type[Warning]:
    from langchain_core._api.deprecation import LangChainDeprecationWarning

    return LangChainDeprecationWarning


def known_deprecations() -> list[KnownDeprecation]:
    """The warnings the course expects from its pinned dependencies, with the reason."""
    langchain = _langchain_deprecation_warning()
    return [
        KnownDeprecation(
            langchain,
            r"RunnableWithMessageHistory is deprecated",
            "taught on purpose; lesson 11 shows the LangGraph replacement",
        ),
        KnownDeprecation(
            langchain,
            r"The class `(BaseChatMessageHistory|InMemoryChatMessageHistory)` "
            r"was deprecated in LangChain 1\.6\.4",
            "the chat-history classes every backend builds on",
        ),
        KnownDeprecation(
            DeprecationWarning,
            r"`langchain-community` is being sunset",
            "import-time notice; its Redis and SQL histories are still the ones in use",
        ),
        KnownDeprecation(
            langchain,
            r"The class `(ConversationBufferMemory|ConversationBufferWindowMemory|"
            r"ConversationTokenBufferMemory|ConversationSummaryMemory|"
            r"ConversationSummaryBufferMemory|ConversationChain)` was deprecated",
            "lesson 9 shows the legacy memory classes next to their replacements",
        ),
    ]


KNOWN_DEPRECATIONS = known_deprecations()


def silence_known_deprecations() -> None:
    """Hide exactly the deprecation warnings listed in `KNOWN_DEPRECATIONS`.

    Call it before importing `langchain_community` (its warning fires at import).
    Every other warning keeps its normal behaviour. Calling it twice is harmless.
    """
    # Importing langchain_core or langchain_classic re-enables LangChain's deprecation
    # warnings (a "default" filter placed in front of ours), so import them first.
    import langchain_core  # noqa: F401

    if importlib.util.find_spec("langchain_classic") is not None:
        import langchain_classic  # noqa: F401
    for known in KNOWN_DEPRECATIONS:
        warnings.filterwarnings("ignore", message=known.message, category=known.category)


def filterwarnings_lines() -> list[str]:
    """The same list in pytest's `filterwarnings` syntax, for the test configuration."""
    lines = []
    for known in KNOWN_DEPRECATIONS:
        category = f"{known.category.__module__}.{known.category.__qualname__}"
        lines.append(f"ignore:{known.message}:{category}")
    return lines
