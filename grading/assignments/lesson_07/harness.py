"""Lesson 7's harness: the scenes the graded tests drive, built in the student's process.

It runs once the student's `lesson_07` is imported, and imports it by that name.
The exercises are coroutines: each scene keeps one event loop of its own (the model's
async HTTP client stays on it) and runs every call to completion on it. The chat model
is the grader's fake model, so the prompts it received, and in what order, are observed
by the grader itself. Every method returns plain values; verdicts are the grader's.
"""

import asyncio
from collections import Counter

import lesson_07 as submission  # the student's module, imported first by the grader
from langchain_core.chat_history import BaseChatMessageHistory, InMemoryChatMessageHistory
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import RunnableGenerator, RunnableLambda
from langchain_core.runnables.history import RunnableWithMessageHistory

# A safety net only: how long a step waits for something a submission has already set
# in motion (turns it started reaching the model, a save it began). Verdicts never
# depend on it; it bounds a broken submission's test.
PATIENCE_S = 3.0
# Loop iterations the first turn lets pass, so that turns already scheduled can start.
STARTING_STEPS = 20


def _prompt(input_key):
    return ChatPromptTemplate.from_messages(
        [("system", "Be brief."), MessagesPlaceholder("history"), ("human", f"{{{input_key}}}")]
    )


class AskScene:
    """`ask_all` on a chat over the grader's model.

    The history factory records which sessions have started a turn. A step before the
    model (the gate) counts the sessions whose turn is there at once: when the first
    turn arrives, the gate lets the loop run a few steps; if by then every session with
    questions has started a turn, each turn waits at the gate until all those sessions
    are there together. A submission that starts one session at a time is never held.
    `most_at_once` is the largest number of sessions seen at the gate together.
    """

    def __init__(self, llm, as_message=False, input_key="question"):
        self.loop = asyncio.new_event_loop()
        self.store = {}
        steps = _prompt(input_key) | RunnableLambda(self._gate) | llm
        if not as_message:
            steps = steps | StrOutputParser()
        self.chat = RunnableWithMessageHistory(
            steps,
            self._history,
            input_messages_key=input_key,
            history_messages_key="history",
        )
        self.input_key = input_key
        self.most = 0

    def _history(self, session_id):
        self.started.add(session_id)  # called as each turn starts, before its first await
        return self.store.setdefault(session_id, InMemoryChatMessageHistory())

    async def _gate(self, prompt_value, config):
        session_id = config["configurable"]["session_id"]
        self.inside[session_id] += 1
        if self.holding is None:  # the first turn to get here
            for _ in range(STARTING_STEPS):
                await asyncio.sleep(0)
            self.holding = len(self.started) >= self.expected
        here = sum(1 for count in self.inside.values() if count)
        self.most = max(self.most, here)
        if here >= self.expected:
            self.together.set()
        try:
            if self.holding:
                try:
                    await asyncio.wait_for(self.together.wait(), PATIENCE_S)
                except TimeoutError:
                    self.holding = False  # a started turn never came: stop holding
        finally:
            self.inside[session_id] -= 1
        return prompt_value

    async def _ask(self, conversations):
        self.inside, self.together, self.started = Counter(), asyncio.Event(), set()
        self.holding = None
        self.expected = sum(1 for questions in conversations.values() if questions)
        if self.input_key == "question":
            return await submission.ask_all(self.chat, conversations)
        return await submission.ask_all(self.chat, conversations, input_key=self.input_key)

    def ask(self, conversations):
        return self.loop.run_until_complete(self._ask(conversations))

    def most_at_once(self):
        return self.most

    def stored(self, session_id):
        history = self.store.get(session_id)
        return [[m.type, m.content] for m in history.messages] if history else []


class GatedHistory(BaseChatMessageHistory):
    """An in-memory history whose async save can be held at its start (`hold_saves`)."""

    def __init__(self):
        self.stored = []
        self.hold_saves = False
        self.entered = self.release = asyncio.Event()

    @property
    def messages(self):
        return list(self.stored)

    def add_messages(self, messages):
        self.stored.extend(messages)

    async def aget_messages(self):
        return list(self.stored)

    async def aadd_messages(self, messages):
        if self.hold_saves:
            self.entered.set()
            await self.release.wait()
        self.add_messages(messages)

    def clear(self):
        self.stored = []


async def _paced(chunks):
    """The reply's words, one at a time: each waits for the loop once before it comes, so
    a cancellation lands between two chunks, never after the reply has all arrived."""
    async for chunk in chunks:
        if chunk:
            await asyncio.sleep(0)
            yield chunk


class StreamScene:
    """`stream_and_save` on `prompt | model | parser` over the grader's model."""

    def __init__(self, llm):
        self.loop = asyncio.new_event_loop()
        self.history = GatedHistory()
        self.chain = (
            _prompt("question")
            | RunnableLambda(self._before_model)
            | llm
            | StrOutputParser()
            | RunnableGenerator(_paced)
        )
        self.task = None
        self.cancel_before_model = False

    async def _before_model(self, prompt_value):
        if self.cancel_before_model:
            self.task.cancel()  # delivered at the next await, before the model is asked
            await asyncio.sleep(0)
        return prompt_value

    def turn(
        self,
        question,
        cancel_after=None,
        fail_after=None,
        send=True,
        cancel_before_model=False,
        cancel_while_saving=False,
    ):
        """One call of `stream_and_save`. The client (`on_chunk`) records each chunk and
        may cancel the task after `cancel_after` chunks, or raise `ConnectionResetError`
        on chunk `fail_after`. Returns the chunks, what the call returned and the class
        names of what it raised."""
        self.cancel_before_model = cancel_before_model
        return self.loop.run_until_complete(
            self._turn(question, cancel_after, fail_after, send, cancel_while_saving)
        )

    async def _turn(self, question, cancel_after, fail_after, send, cancel_while_saving):
        history = self.history
        history.entered, history.release = asyncio.Event(), asyncio.Event()
        history.hold_saves = cancel_while_saving
        seen = []

        def on_chunk(chunk):
            seen.append(chunk)
            if len(seen) == cancel_after:
                self.task.cancel()  # the client went away: delivered at the next await
            if len(seen) == fail_after:
                raise ConnectionResetError("the client went away")

        call = submission.stream_and_save(self.chain, history, question, on_chunk if send else None)
        self.task = asyncio.ensure_future(call)
        if cancel_while_saving:
            entered = asyncio.ensure_future(history.entered.wait())
            await asyncio.wait(
                {self.task, entered}, timeout=PATIENCE_S, return_when=asyncio.FIRST_COMPLETED
            )
            if entered.done() and not self.task.done():
                self.task.cancel()  # a second cancellation, while the turn is being saved
            entered.cancel()
            history.release.set()
        outcome = {"chunks": seen, "returned": None, "raised": None}
        try:
            outcome["returned"] = await self.task
        except BaseException as exc:  # the task's own ending, CancelledError included
            outcome["raised"] = [cls.__name__ for cls in type(exc).__mro__]
        # A shielded save may go on after the task has ended: let what is left finish.
        others = asyncio.all_tasks() - {asyncio.current_task()}
        if others:
            await asyncio.wait(others, timeout=PATIENCE_S)
        return outcome

    def stored(self):
        """`[type, content, response_metadata]` of each message the history holds."""
        return [[m.type, m.content, dict(m.response_metadata)] for m in self.history.stored]
