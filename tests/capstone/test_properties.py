"""Bad input never escapes as an undocumented error, and never corrupts stored state.

Hypothesis drives the reference `ChatApplication` and `LimitedRedisChatHistory` with
arbitrary Unicode (no lone surrogates, which `st.text` never produces; one test adds
them on purpose), NUL, emoji, right-to-left text, empty and huge strings, wrong types
and unknown ids. Every call must either succeed or raise one of the documented
exceptions, and after every step every stored history must still load, every key
must still expire, and each session must hold exactly the messages of its
successful turns.

The runs are deterministic (`derandomize=True`, no example database) and small
enough to finish in a few seconds.
"""

from __future__ import annotations

import fakeredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)
from langchain_core.messages import AIMessage, HumanMessage

from memory_course import OfflineChatModel
from solutions.chat_application import (
    EXPORT_FORMATS,
    MAX_MESSAGE_CHARS,
    MAX_USER_ID_CHARS,
    ChatApplication,
    LimitedRedisChatHistory,
    SessionInfo,
    SessionNotFoundError,
)

MAX_MESSAGES = 6
APP_PREFIX = "chat:"
HISTORY_PREFIX = "hist:"

FAST = settings(
    max_examples=50,
    stateful_step_count=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SPECIAL = [
    "",
    " ",
    "\t\n",
    "\x00",
    "nul\x00inside",
    "🙂👍🏽🇳🇿",
    "שלום עולם",
    "مرحبا \u202e reversed",
    "{input}",
    "Hi, I'm Alex",
    "What's my name?",
]

TEXT = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    st.sampled_from(SPECIAL),
    st.builds(
        lambda char, size: char * size,
        st.characters(exclude_categories=("Cs",)),
        st.integers(MAX_MESSAGE_CHARS - 1, MAX_MESSAGE_CHARS + 1),
    ),
)
WRONG_TYPE = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=False),
    st.binary(max_size=8),
    st.lists(st.text(max_size=3), max_size=2),
    st.just(HumanMessage("hello")),
)
NAMES = st.one_of(st.sampled_from(["alice", "bob", "Zoë 🙂", "משתמש"]), st.text(max_size=8))
USERS = st.one_of(NAMES, TEXT, WRONG_TYPE)


def valid_message(message: object) -> bool:
    """The documented contract of `chat`'s message argument."""
    return (
        isinstance(message, str)
        and bool(message.strip())
        and len(message) <= MAX_MESSAGE_CHARS
        and _encodable(message)
    )


def valid_user(user_id: object) -> bool:
    """The documented contract of a user id."""
    return (
        isinstance(user_id, str)
        and bool(user_id.strip())
        and len(user_id) <= MAX_USER_ID_CHARS
        and all(ord(c) >= 32 and not 0x7F <= ord(c) <= 0x9F for c in user_id)
        and _encodable(user_id)
    )


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def assert_store_is_sound(client) -> None:
    """Every key expires, and every list under either prefix loads as a history."""
    for raw_key in client.scan_iter(count=1000):
        key = raw_key.decode()
        assert client.ttl(key) > 0, f"{key} would never expire"
        if client.type(key) != b"list":
            continue
        prefix = APP_PREFIX if key.startswith(APP_PREFIX) else HISTORY_PREFIX
        history = LimitedRedisChatHistory(
            key[len(prefix) :], client, max_messages=10_000, key_prefix=prefix
        )
        assert all(m.type in ("human", "ai") for m in history.messages)


class ChatMachine(RuleBasedStateMachine):
    """Random sequences of calls, checked against a model of the expected counts."""

    sessions = Bundle("sessions")

    def __init__(self) -> None:
        super().__init__()
        self.client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
        self.app = ChatApplication(
            redis_client=self.client, llm=OfflineChatModel(), max_messages=MAX_MESSAGES
        )
        self.expected: dict[str, int] = {}  # live session id -> stored message count
        self.owner: dict[str, str] = {}

    @initialize(target=sessions)
    def two_sessions(self):
        return multiple(self.create_session("alice"), self.create_session("bob"))

    def _live(self, session_id: object) -> bool:
        return isinstance(session_id, str) and session_id in self.expected

    @rule(target=sessions, user_id=NAMES)
    def create_session(self, user_id):
        return self.create_session_from_anything(user_id)

    @rule(target=sessions, user_id=USERS)
    def create_session_from_anything(self, user_id):
        try:
            session_id = self.app.create_session(user_id)
        except (TypeError, ValueError):
            assert not valid_user(user_id)
            return multiple()
        assert valid_user(user_id)
        self.expected[session_id] = 0
        self.owner[session_id] = user_id
        return session_id

    @rule(session_id=sessions, message=TEXT)
    def chat(self, session_id, message):
        self.chat_anything(session_id, message)

    @rule(session_id=st.one_of(sessions, TEXT, WRONG_TYPE), message=st.one_of(TEXT, WRONG_TYPE))
    def chat_anything(self, session_id, message):
        try:
            reply = self.app.chat(session_id, message)
        except SessionNotFoundError:
            assert valid_message(message) and not self._live(session_id)
            return
        except (TypeError, ValueError):
            assert not valid_message(message) or not isinstance(session_id, str)
            return
        assert isinstance(reply, str)
        assert valid_message(message) and self._live(session_id)
        self.expected[session_id] = min(self.expected[session_id] + 2, MAX_MESSAGES)

    @rule(session_id=st.one_of(sessions, TEXT, WRONG_TYPE))
    def get_session_info(self, session_id):
        try:
            info = self.app.get_session_info(session_id)
        except TypeError:
            assert not isinstance(session_id, str)
            return
        if self._live(session_id):
            assert isinstance(info, SessionInfo)
            assert info["message_count"] == self.expected[session_id]
            assert info.user_id == self.owner[session_id]
        else:
            assert info is None

    @rule(user_id=st.one_of(NAMES, USERS))
    def list_sessions(self, user_id):
        try:
            listed = self.app.list_sessions(user_id)
        except (TypeError, ValueError):
            assert not valid_user(user_id)
            return
        owned = {s for s, owner in self.owner.items() if owner == user_id and self._live(s)}
        assert owned <= {info.session_id for info in listed}
        moments = [info.last_active for info in listed]
        assert moments == sorted(moments, reverse=True)

    @rule(session_id=st.one_of(sessions, TEXT, WRONG_TYPE))
    def delete_session(self, session_id):
        try:
            deleted = self.app.delete_session(session_id)
        except TypeError:
            assert not isinstance(session_id, str)
            return
        assert deleted == self._live(session_id)
        self.expected.pop(session_id, None)

    @rule(session_id=sessions, format=st.sampled_from(EXPORT_FORMATS))
    def export_session(self, session_id, format):
        self.export_anything(session_id, format)

    @rule(
        session_id=st.one_of(sessions, TEXT),
        format=st.one_of(st.sampled_from([*EXPORT_FORMATS, "xml", "JSON", ""]), WRONG_TYPE),
    )
    def export_anything(self, session_id, format):
        try:
            text = self.app.export_session(session_id, format)
        except SessionNotFoundError:
            assert not self._live(session_id)
            return
        except (TypeError, ValueError):
            assert format not in EXPORT_FORMATS
            return
        assert isinstance(text, str) and self._live(session_id)

    @rule(
        target=sessions,
        session_id=sessions,
        user_id=NAMES,
        at_message=st.one_of(st.none(), st.integers(0, MAX_MESSAGES)),
    )
    def fork_session(self, session_id, user_id, at_message):
        return self.fork_anything(session_id, user_id, at_message)

    @rule(
        target=sessions,
        session_id=st.one_of(sessions, TEXT),
        user_id=USERS,
        at_message=st.one_of(st.none(), st.integers(-2, 8), WRONG_TYPE),
    )
    def fork_anything(self, session_id, user_id, at_message):
        try:
            fork = self.app.fork_session(session_id, user_id, at_message)
        except SessionNotFoundError:
            assert not self._live(session_id)
            return multiple()
        except (TypeError, ValueError):
            return multiple()
        assert self._live(session_id) and valid_user(user_id)
        count = self.expected[session_id]
        self.expected[fork] = count if at_message is None else at_message
        self.owner[fork] = user_id
        return fork

    @rule(session_id=sessions, with_user_id=NAMES)
    def share_by_owner(self, session_id, with_user_id):
        self.share_session(session_id, self.owner[session_id], with_user_id)

    @rule(session_id=st.one_of(sessions, TEXT), owner_id=USERS, with_user_id=USERS)
    def share_session(self, session_id, owner_id, with_user_id):
        try:
            self.app.share_session(session_id, owner_id, with_user_id)
        except PermissionError:
            assert self.owner.get(session_id) != owner_id
            return
        except SessionNotFoundError:
            assert not self._live(session_id)
            return
        except (TypeError, ValueError):
            assert not (valid_user(owner_id) and valid_user(with_user_id))
            return
        assert self._live(session_id) and self.owner[session_id] == owner_id

    @rule(session_id=st.one_of(TEXT, WRONG_TYPE), contents=st.lists(TEXT, max_size=3))
    def history_add(self, session_id, contents):
        messages = [HumanMessage(text) for text in contents]
        try:
            history = LimitedRedisChatHistory(
                session_id, self.client, max_messages=MAX_MESSAGES, key_prefix=HISTORY_PREFIX
            )
            history.add_messages(messages)
        except (TypeError, ValueError):
            return
        if contents:  # fewer than MAX_MESSAGES, so all of them are the newest
            assert [m.content for m in history.messages][-len(contents) :] == contents

    @invariant()
    def store_is_sound(self):
        assert_store_is_sound(self.client)

    @invariant()
    def sessions_hold_exactly_their_successful_turns(self):
        for session_id, count in self.expected.items():
            messages = LimitedRedisChatHistory(
                session_id, self.client, max_messages=10_000, key_prefix=APP_PREFIX
            ).messages
            assert len(messages) == count <= MAX_MESSAGES


ChatMachine.TestCase.settings = FAST
TestChatMachine = ChatMachine.TestCase


@FAST
@given(message=st.one_of(TEXT, WRONG_TYPE))
def test_one_message_either_answers_or_raises_a_documented_error(message):
    app = ChatApplication(
        redis_client=fakeredis.FakeRedis(server=fakeredis.FakeServer()), llm=OfflineChatModel()
    )
    session_id = app.create_session("alice")
    try:
        reply = app.chat(session_id, message)
    except TypeError:
        assert not isinstance(message, str)
        expected = 0
    except ValueError:
        assert isinstance(message, str) and not valid_message(message)
        expected = 0
    else:
        assert valid_message(message) and isinstance(reply, str)
        expected = 2
    assert app.get_session_info(session_id).message_count == expected
    assert_store_is_sound(app.redis)


@FAST
@given(
    text=st.text(
        st.one_of(st.characters(exclude_categories=("Cs",)), st.characters(categories=("Cs",))),
        min_size=1,
        max_size=12,
    )
)
def test_lone_surrogates_are_refused_and_everything_else_round_trips(text):
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    history = LimitedRedisChatHistory("s", client, key_prefix=HISTORY_PREFIX)
    try:
        history.add_messages([HumanMessage(text), AIMessage(text)])
    except ValueError:
        assert not _encodable(text)
        assert client.exists(f"{HISTORY_PREFIX}s") == 0
        return
    assert [m.content for m in history.messages] == [text, text]
    assert_store_is_sound(client)
