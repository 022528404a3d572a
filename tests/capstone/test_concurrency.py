"""Concurrent turns on one session: nothing lost, each reply right after its question."""

from __future__ import annotations

import threading

from memory_course import OfflineChatModel
from tests.capstone.support import stored_messages


def test_concurrent_turns_on_one_session_lose_nothing(make_app):
    app = make_app(llm=OfflineChatModel(), max_messages=1000)
    session_id = app.create_session("alice")
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            for turn in range(25):
                app.chat(session_id, f"worker {number} turn {turn}")
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    messages = stored_messages(app, session_id)
    assert len(messages) == 400
    assert app.get_session_info(session_id).message_count == 400
    sent = [m.content for m in messages[0::2]]
    assert sorted(sent) == sorted(f"worker {n} turn {t}" for n in range(8) for t in range(25))
    for question, answer in zip(messages[0::2], messages[1::2], strict=True):
        assert question.type == "human" and answer.type == "ai"
        assert f'"{question.content}"' in answer.content  # each reply follows its question
