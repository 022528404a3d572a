"""What the file-history tests share: writing to one history from several threads."""

from __future__ import annotations

import threading

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import HumanMessage


def append_from_threads(history: BaseChatMessageHistory, workers: int, each: int) -> None:
    """`workers` threads at once, each adding `each` messages "worker:n" one at a time."""

    def append(worker: int) -> None:
        for n in range(each):
            history.add_messages([HumanMessage(f"{worker}:{n}")])

    threads = [threading.Thread(target=append, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
