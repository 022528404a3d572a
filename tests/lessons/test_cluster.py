"""Lessons 8 and 10 on a real Redis Cluster: 3 masters of `redis-server` on loopback.

The cluster is started once for the run (the `redis_cluster` fixture of tests/conftest.py,
from `tests/redis_cluster.py`); every test writes under a key prefix of its own. Without `redis-server` and
`redis-cli` the tests fail under `CI=true` and are skipped elsewhere.

- Lesson 8: the append-once script touches two keys, the list of messages and the set
  of their ids. Un-tagged, they hash to two slots and the cluster refuses the script
  (`CROSSSLOT`); the history's hash-tagged names put them on one slot, where a retried
  append is stored once, even from 8 threads at a time.
- Lesson 10: the chat service, one list per session, served over HTTP with a
  `RedisCluster` as its Redis client; and the section on slots
  (`memory_course.cluster_slots`): the slots it computes offline are the ones the nodes
  answer, a transaction over the capstone's un-tagged keys is refused while one over a
  tagged session's keys runs, what a node itself answers to a cross-slot `MULTI`, and
  why a cluster client that retries can store a transaction twice.
"""

from __future__ import annotations

import json
import socket
import threading

import httpx
import pytest
import redis
from langchain_core.messages import BaseMessage, HumanMessage, messages_from_dict
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.exceptions import ClusterCrossSlotError, RedisClusterException
from redis.retry import Retry
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from memory_course import OfflineChatModel
from memory_course.chat_service import SESSION_HEADER, create_app
from memory_course.cluster_slots import (
    capstone_keys,
    cross_slot_attempt,
    master_ranges,
    slot_table,
)
from memory_course.resilient_history import (
    APPEND_ONCE_SCRIPT,
    IdempotentRedisChatMessageHistory,
    hashed_part,
)
from tests.redis_cluster import LocalRedisCluster
from tests.threads import run_in_threads

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(60)]

WORKERS, PER_WORKER = 8, 25


@pytest.fixture
def cluster(redis_cluster):
    return redis_cluster


def stored(client: RedisCluster, key: str) -> list[BaseMessage]:
    """The messages of the list `key`, oldest first."""
    return messages_from_dict([json.loads(item) for item in client.lrange(key, 0, -1)])


def contents(client: RedisCluster, key: str) -> list[str]:
    return [m.text for m in stored(client, key)]


def raw_reply(port: int, *args: str) -> bytes:
    """Send one command to one node as RESP and return its reply line, unparsed."""
    encoded = [arg.encode() for arg in args]
    request = b"*%d\r\n" % len(encoded) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in encoded)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.rstrip(b"\r\n")


def eval_losing_client(cluster: LocalRedisCluster, lose: int, **options) -> RedisCluster:
    """A cluster client that loses the replies of its next `lose` EVALs, after they ran.

    The script has run on the node when its reply is read; the connection then drops,
    and the caller gets the `ConnectionError` of a server that hung up.
    """

    class LosesEvalReplies(redis.Connection):
        remaining = lose  # shared by every connection of this client
        last_command = ""

        def send_command(self, *args, **kwargs):
            name = args[0] if args else ""
            self.last_command = (name.decode() if isinstance(name, bytes) else str(name)).upper()
            super().send_command(*args, **kwargs)

        def read_response(self, *args, **kwargs):
            response = super().read_response(*args, **kwargs)
            if self.last_command == "EVAL" and type(self).remaining > 0:
                type(self).remaining -= 1
                self.disconnect()
                raise redis.ConnectionError("Connection closed by server.")
            return response

    return RedisCluster.from_url(cluster.url, connection_class=LosesEvalReplies, **options)


# -- slots --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "session_id", ["s1", "alex", "{alex}", "8f14e45f-ceea-467f-a0e6-8b5e3f2b1c9a", ""]
)
def test_a_sessions_list_and_ids_share_a_slot(cluster, session_id):
    history = IdempotentRedisChatMessageHistory(session_id, cluster.client, key_prefix="chat:")
    keyslot = cluster.client.cluster_keyslot  # CLUSTER KEYSLOT, answered by a node
    assert keyslot(history.key) == keyslot(history.ids_key), (history.key, history.ids_key)
    assert keyslot(history.key) == keyslot(hashed_part(history.key))


def test_a_tagged_session_keeps_its_tag(cluster):
    history = IdempotentRedisChatMessageHistory("{alex}", cluster.client, key_prefix="chat:")
    assert (history.key, history.ids_key) == ("chat:{alex}", "chat:{alex}:ids")
    assert cluster.client.cluster_keyslot(history.key) == cluster.client.cluster_keyslot("alex")


# -- lesson 8: the append-once script -----------------------------------------------------


def test_untagged_keys_fail_with_crossslot_and_the_tagged_ones_work(cluster, redis_prefix):
    client = cluster.client
    key, ids_key = f"{redis_prefix}s1", f"{redis_prefix}s1:ids"  # the layout without a tag
    assert client.cluster_keyslot(key) != client.cluster_keyslot(ids_key)
    args = ["message-1", '{"type": "human", "data": {"content": "Hi"}}']

    # redis-py's cluster client refuses to send it...
    with pytest.raises(RedisClusterException, match="all keys must map to the same key slot"):
        client.eval(APPEND_ONCE_SCRIPT, 2, key, ids_key, *args)
    # ...and the node that owns the list refuses to run it.
    owner = client.get_node_from_key(key)
    with pytest.raises(ClusterCrossSlotError):
        client.execute_command(
            "EVAL", APPEND_ONCE_SCRIPT, 2, key, ids_key, *args, target_nodes=owner
        )
    reply = raw_reply(owner.port, "EVAL", APPEND_ONCE_SCRIPT, "2", key, ids_key, *args)
    assert reply == b"-CROSSSLOT Keys in request don't hash to the same slot"
    assert client.exists(key) == 0 and client.exists(ids_key) == 0

    history = IdempotentRedisChatMessageHistory("s1", client, key_prefix=redis_prefix)
    assert history.key == key
    try:
        assert history.append([HumanMessage("Hi", id="message-1")]) == 1
        assert history.append([HumanMessage("Hi", id="message-1")]) == 0
        assert contents(client, key) == ["Hi"]
    finally:
        history.clear()
    assert client.exists(key) == 0 and client.exists(history.ids_key) == 0


def test_a_retried_append_is_stored_once(cluster, redis_prefix):
    """Two replies lost, three attempts: the third finds the id stored and adds nothing."""
    client = eval_losing_client(cluster, lose=2, retry=Retry(NoBackoff(), 0))
    history = IdempotentRedisChatMessageHistory("s1", client, key_prefix=redis_prefix)
    retrying = Retrying(
        stop=stop_after_attempt(3),
        retry=retry_if_exception_type(redis.ConnectionError),
        reraise=True,
    )
    message = HumanMessage("Hi, I'm Alex")
    try:
        assert retrying(history.append, [message]) == 0
        assert retrying.statistics["attempt_number"] == 3
        assert contents(cluster.client, history.key) == ["Hi, I'm Alex"]
        assert cluster.client.scard(history.ids_key) == 1
    finally:
        history.clear()
        client.close()


def test_the_cluster_clients_own_retry_resends_the_script_harmlessly(cluster, redis_prefix):
    """RedisCluster retries a command after a connection error by default (unlike
    `bounded_redis_client`): after a lost reply it sends the script again, by itself."""
    client = eval_losing_client(cluster, lose=1)
    history = IdempotentRedisChatMessageHistory("s1", client, key_prefix=redis_prefix)
    try:
        assert history.append([HumanMessage("Hi, I'm Alex")]) == 0  # the resent script's answer
        assert contents(cluster.client, history.key) == ["Hi, I'm Alex"]
    finally:
        history.clear()
        client.close()


def test_concurrent_appends_on_one_session_store_each_message_once(cluster, redis_prefix):
    """8 threads × 25 appends; each append re-sends the thread's previous message too,
    as a retry would: exactly 200 messages, each thread's in its order."""
    history = IdempotentRedisChatMessageHistory("s1", cluster.client, key_prefix=redis_prefix)

    def work(number: int) -> None:
        previous: list[HumanMessage] = []
        for index in range(PER_WORKER):
            message = HumanMessage(f"worker {number} message {index}")
            assert history.append([*previous, message]) == 1
            previous = [message]

    try:
        run_in_threads(WORKERS, work)
        stored = contents(cluster.client, history.key)
        assert len(stored) == WORKERS * PER_WORKER == 200
        assert cluster.client.scard(history.ids_key) == 200
        for number in range(WORKERS):
            own = [text for text in stored if text.startswith(f"worker {number} ")]
            assert own == [f"worker {number} message {i}" for i in range(PER_WORKER)]
    finally:
        history.clear()


# -- lesson 10: the chat service ------------------------------------------------------------


def test_the_chat_service_keeps_its_sessions_on_the_cluster(cluster, serve, redis_prefix):
    client = RedisCluster.from_url(cluster.url)  # the startup node's URL is enough
    http = serve(create_app(OfflineChatModel(), client, key_prefix=redis_prefix, ttl_seconds=600))
    try:
        first = http.post("/chat", json={"message": "Hi, I'm Alex"})
        assert first.status_code == 200
        session = {SESSION_HEADER: first.headers[SESSION_HEADER]}
        second = http.post("/chat", json={"message": "What's my name?"}, headers=session)
        assert second.json() == {"reply": "Your name is Alex."}
        with http.stream(
            "POST", "/chat/stream", json={"message": "Thanks"}, headers=session
        ) as streamed:
            assert "event: done" in streamed.read().decode()

        key = f"{redis_prefix}{session[SESSION_HEADER]}"
        assert contents(client, key)[0::2] == [
            "Hi, I'm Alex",
            "What's my name?",
            "Thanks",
        ]
        assert 0 < cluster.client.ttl(key) <= 600
        metrics = http.get("/metrics").json()
        assert metrics["sessions"]["active"] == 1 and metrics["sessions"]["messages"] == 6
        assert metrics["turns"]["saved"] == 3

        assert http.delete("/sessions", headers=session).status_code == 204
        assert cluster.client.exists(key) == 0
        assert http.post("/chat", json={"message": "Hello?"}, headers=session).status_code == 404
    finally:
        client.close()


def test_concurrent_turns_over_http_lose_nothing(cluster, serve, redis_prefix):
    """8 threads × 25 turns on one session (the first turn opens it): 400 messages."""
    app = create_app(OfflineChatModel(), cluster.client, key_prefix=redis_prefix, ttl_seconds=600)
    base_url = str(serve(app).base_url)
    opened = threading.Event()
    session: dict[str, str] = {}

    def work(number: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            for turn in range(PER_WORKER):
                text = f"worker {number} turn {turn}"
                if number == 0 and turn == 0:
                    response = http.post("/chat", json={"message": text})
                    session[SESSION_HEADER] = response.headers[SESSION_HEADER]
                    opened.set()
                else:
                    assert opened.wait(30), "the session was never opened"
                    response = http.post("/chat", json={"message": text}, headers=session)
                assert response.status_code == 200, response.text

    run_in_threads(WORKERS, work)
    key = f"{redis_prefix}{session[SESSION_HEADER]}"
    messages = stored(cluster.client, key)
    assert len(messages) == 400
    sent = sorted(m.text for m in messages[0::2])
    assert sent == sorted(f"worker {n} turn {t}" for n in range(WORKERS) for t in range(PER_WORKER))
    for question, answer in zip(messages[0::2], messages[1::2], strict=True):
        assert question.type == "human" and answer.type == "ai"
        assert f'"{question.text}"' in answer.text  # each reply right after its question
    assert 0 < cluster.client.ttl(key) <= 600
    assert app.state.metrics.snapshot([])["turns"]["saved"] == 200
    cluster.client.delete(key)


# -- lesson 10: slots, hash tags and CROSSSLOT (memory_course.cluster_slots) ---------------

SLOT_EXAMPLES = [
    *capstone_keys("s1", "alex", tagged=False),
    *capstone_keys("s1", "alex"),
    "chat:{chat:s1}:ids",
    "{alex}{bob}",
    "chat:{}{alex}",
    "chat:{alex",
    *(f"chat:session-{n}" for n in range(50)),
]


def test_slot_table_agrees_with_the_cluster(cluster):
    """Every slot is the one a node answers to CLUSTER KEYSLOT, owned by the master
    (1, 2 or 3 in slot order) that CLUSTER SLOTS names."""
    ranges = sorted(cluster.client.cluster_slots())  # [(first, last), ...] of the 3 masters
    assert ranges == master_ranges(3)
    for row in slot_table(SLOT_EXAMPLES):
        assert row.slot == cluster.client.cluster_keyslot(row.key), row.key
        low, high = ranges[row.master - 1]
        assert low <= row.slot <= high, row


def test_a_transaction_over_the_untagged_layout_is_refused(cluster):
    """The lesson's example (nothing is written: the transaction only reads)."""
    untagged = capstone_keys("s1", "alex", tagged=False)
    assert len({cluster.client.cluster_keyslot(key) for key in untagged}) == 3
    error = cross_slot_attempt(cluster.client, untagged)
    assert error == (
        "CrossSlotTransactionError: "
        "All keys involved in a cluster transaction must map to the same slot"
    )
    assert cross_slot_attempt(cluster.client, untagged[:2]) == error  # messages + info alone


def test_a_transaction_over_a_tagged_sessions_keys_runs(cluster):
    tagged = capstone_keys("s1", "alex")
    client = cluster.client
    assert cross_slot_attempt(client, [tagged.messages, tagged.info]) is None
    # The user's index is in a slot of its own: it cannot join the transaction.
    assert client.cluster_keyslot(tagged.user_index) != client.cluster_keyslot(tagged.info)
    assert cross_slot_attempt(client, tagged) == cross_slot_attempt(
        client, capstone_keys("s1", "alex", tagged=False)
    )
    assert client.exists(*tagged) == 0  # the attempts wrote nothing


def raw_transaction(port: int, *commands: tuple[str, ...]) -> list[bytes]:
    """Send MULTI, `commands` and EXEC to one node as RESP; its reply lines, unparsed."""
    request = b""
    for args in [("MULTI",), *commands, ("EXEC",)]:
        encoded = [arg.encode() for arg in args]
        request += b"*%d\r\n" % len(encoded)
        request += b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in encoded)
    expected = len(commands) + 2
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        reply = b""
        while reply.count(b"\r\n") < expected:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.split(b"\r\n")[:expected]


def test_a_node_answers_crossslot_or_moved(cluster):
    """Past redis-py's check, the node decides: keys of two of its own slots fail at EXEC
    with CROSSSLOT; a key another master owns is answered MOVED as it is queued."""
    client = cluster.client
    first = "chat:s1"
    port = client.get_node_from_key(first).port
    same_node = next(
        key
        for key in (f"chat:x{n}" for n in range(1000))
        if client.get_node_from_key(key).port == port
        and client.cluster_keyslot(key) != client.cluster_keyslot(first)
    )
    other_node = next(
        key
        for key in (f"chat:x{n}" for n in range(1000))
        if client.get_node_from_key(key).port != port
    )
    replies = raw_transaction(port, ("EXISTS", first), ("EXISTS", same_node))
    assert replies == [
        b"+OK",
        b"+QUEUED",
        b"+QUEUED",
        b"-CROSSSLOT Keys in request don't hash to the same slot",
    ]
    replies = raw_transaction(port, ("EXISTS", first), ("EXISTS", other_node))
    assert replies[:2] == [b"+OK", b"+QUEUED"]
    assert replies[2].startswith(b"-MOVED %d " % client.cluster_keyslot(other_node))
    assert replies[3].startswith(b"-EXECABORT")


def exec_losing_client(cluster: LocalRedisCluster, **options) -> RedisCluster:
    """A cluster client that loses the reply of its first EXEC, after the node ran it."""

    class LosesExecReply(redis.Connection):
        remaining = 1  # shared by every connection of this client
        sent_exec = False

        def send_packed_command(self, command, *args, **kwargs):
            packed = b"".join(command) if isinstance(command, list) else command
            self.sent_exec = b"EXEC" in bytes(packed)
            super().send_packed_command(command, *args, **kwargs)

        def read_response(self, *args, **kwargs):
            response = super().read_response(*args, **kwargs)
            # EXEC's reply is the transaction's one list; MULTI's and QUEUED's are not.
            if self.sent_exec and isinstance(response, list) and type(self).remaining > 0:
                type(self).remaining -= 1
                self.disconnect()
                raise redis.ConnectionError("Connection closed by server.")
            return response

    return RedisCluster.from_url(cluster.url, connection_class=LosesExecReply, **options)


def test_a_cluster_clients_default_retry_stores_a_transaction_twice(cluster, redis_prefix):
    """Why the capstone's `redis+cluster://` client is built with `Retry(NoBackoff(), 0)`."""
    key = f"{redis_prefix}s1"

    def one_turn(client: RedisCluster) -> None:
        with client.pipeline(transaction=True) as pipe:
            pipe.rpush(key, "question", "answer")
            pipe.expire(key, 600)
            pipe.execute()

    retrying = exec_losing_client(cluster)  # redis-py's default: retries
    try:
        one_turn(retrying)  # the lost reply is never seen: the transaction ran again
        assert cluster.client.lrange(key, 0, -1) == [b"question", b"answer"] * 2
    finally:
        retrying.close()
        cluster.client.delete(key)

    bounded = exec_losing_client(cluster, retry=Retry(NoBackoff(), 0))
    try:
        with pytest.raises(redis.ConnectionError):
            one_turn(bounded)  # the caller learns the outcome is unknown
        assert cluster.client.lrange(key, 0, -1) == [b"question", b"answer"]
    finally:
        bounded.close()
        cluster.client.delete(key)
