"""Lesson 10's Redis Cluster slots, offline: no server, fakeredis at most.

`tests/lessons/test_cluster.py` checks the same functions against a real 3-master
cluster (`CLUSTER KEYSLOT`, `CLUSTER SLOTS` and a refused transaction).
"""

from __future__ import annotations

import fakeredis
import pytest
import redis

from memory_course import OfflineChatModel
from memory_course.cluster_slots import (
    SLOTS,
    capstone_keys,
    cross_slot_attempt,
    master_ranges,
    slot_table,
)
from memory_course.resilient_history import IdempotentRedisChatMessageHistory
from solutions.chat_application import ChatApplication

# Values Redis's documentation gives for `CLUSTER KEYSLOT` (and the cluster
# specification's CRC16 check value for "123456789", 0x31C3).
DOCUMENTED_SLOTS = {
    "somekey": 11058,
    "foo{hash_tag}": 2515,
    "{hash_tag}": 2515,
    "123456789": 0x31C3,
}


@pytest.mark.parametrize(("key", "slot"), DOCUMENTED_SLOTS.items())
def test_slots_match_redis_documented_values(key, slot):
    assert slot_table([key])[0].slot == slot


@pytest.mark.parametrize(
    ("key", "hashed"),
    [
        ("chat:s1", "chat:s1"),  # no braces: the whole name
        ("chat:{chat:s1}:info", "chat:s1"),  # the tag only
        ("{alex}{bob}", "alex"),  # only the first pair of braces counts
        ("chat:{}{alex}", "chat:{}{alex}"),  # empty first tag: the whole name, not "alex"
        ("chat:{alex", "chat:{alex"),  # no closing brace: the whole name
        ("chat:}alex{", "chat:}alex{"),  # "}" before "{" is no tag
    ],
)
def test_only_the_first_non_empty_tag_is_hashed(key, hashed):
    row = slot_table([key])[0]
    assert row.hashed_part == hashed
    assert row.slot == slot_table([hashed])[0].slot


def test_slot_table_keeps_the_order_and_every_row_is_consistent():
    keys = [f"chat:session-{n}" for n in range(200)]
    rows = slot_table(keys)
    assert [row.key for row in rows] == keys
    ranges = master_ranges(3)
    for row in rows:
        assert 0 <= row.slot < SLOTS
        low, high = ranges[row.master - 1]
        assert low <= row.slot <= high
    assert {row.master for row in rows} == {1, 2, 3}  # 200 names spread over the masters


def test_slot_table_refuses_bytes():
    with pytest.raises(TypeError, match="keys must be str"):
        slot_table([b"chat:s1"])  # type: ignore[list-item]


def test_master_ranges_split_every_slot_once():
    assert master_ranges(3) == [(0, 5460), (5461, 10922), (10923, 16383)]
    for masters in (1, 2, 3, 5, 7, 16, 100):
        ranges = master_ranges(masters)
        assert len(ranges) == masters
        assert ranges[0][0] == 0 and ranges[-1][1] == SLOTS - 1
        for (_, high), (low, _) in zip(ranges, ranges[1:], strict=False):
            assert low == high + 1
        sizes = [high - low + 1 for low, high in ranges]
        assert max(sizes) - min(sizes) <= 1
    for bad in (0, -1, SLOTS + 1):
        with pytest.raises(ValueError):
            master_ranges(bad)


def test_capstone_keys_are_the_keys_the_reference_writes():
    """The layout `capstone_keys` names is what the reference really writes."""
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    app = ChatApplication(redis_client=client, llm=OfflineChatModel(), key_prefix="chat:")
    session_id = app.create_session("alex")
    app.chat(session_id, "Hi, I'm Alex")
    written = {key.decode() for key in client.keys("*")}
    assert written == set(capstone_keys(session_id, "alex"))


@pytest.mark.parametrize("session_id", ["s1", "8f14e45f-ceea-467f-a0e6-8b5e3f2b1c9a", "x"])
def test_tagged_session_keys_share_a_slot_and_untagged_ones_need_not(session_id):
    tagged = capstone_keys(session_id, "alex")
    assert tagged.info == f"chat:{{chat:{session_id}}}:info"
    assert len({row.slot for row in slot_table(tagged[:2])}) == 1
    untagged = capstone_keys(session_id, "alex", tagged=False)
    assert untagged == (f"chat:{session_id}", f"chat:{session_id}:info", tagged.user_index)


def test_the_lessons_example_spreads_untagged_keys_over_three_masters():
    """The lesson's session "s1" of user "alex": untagged, each key on its own master;
    tagged, the session's keys together; lesson 8's ids set beside its list."""
    untagged = slot_table(capstone_keys("s1", "alex", tagged=False))
    assert sorted(row.master for row in untagged) == [1, 2, 3]
    tagged = slot_table(capstone_keys("s1", "alex"))
    assert tagged[0].slot == tagged[1].slot != tagged[2].slot
    history = IdempotentRedisChatMessageHistory("s1", fakeredis.FakeRedis(), key_prefix="chat:")
    lesson_8 = slot_table([history.key, history.ids_key])
    assert lesson_8[0].slot == lesson_8[1].slot == tagged[0].slot


@pytest.mark.parametrize(
    "client",
    [fakeredis.FakeRedis(), redis.Redis(host="127.0.0.1", port=1)],
    ids=["fakeredis", "redis"],
)
def test_cross_slot_attempt_needs_a_cluster_client(client):
    with pytest.raises(TypeError, match="has no slots"):
        cross_slot_attempt(client, ["chat:s1", "chat:s1:info"])


def test_cross_slot_attempt_needs_keys():
    with pytest.raises(ValueError, match="at least one key"):
        cross_slot_attempt(fakeredis.FakeRedis(), [])  # type: ignore[arg-type]
