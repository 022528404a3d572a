"""What Redis Cluster's slots mean for this course's keys (lesson 10).

A Redis Cluster splits the key space into 16384 slots and gives each master a range of
them. A key's slot is CRC16 of its name modulo 16384; when the name holds a hash tag
(the text between the first `{` and the next `}`, if not empty), only the tag is hashed.
A transaction (`MULTI`/`EXEC`) or a script may touch keys of one slot only.

- `slot_table(keys)`: each key's hashed part, slot and master, computed here with
  redis-py's `redis.crc.key_slot` (the number `CLUSTER KEYSLOT` answers); no server needed;
- `master_ranges(masters)`: the slot range `redis-cli --cluster create` gives each master;
- `capstone_keys(session_id, user_id)`: the three keys of a capstone session, named as
  the reference names them (`tagged=True`) or without the hash tag;
- `cross_slot_attempt(client, keys)`: on a real `redis.cluster.RedisCluster`, one
  `MULTI`/`EXEC` that reads every key (`EXISTS`, nothing is written); the error's text
  when the keys span slots, None when the transaction ran. fakeredis has no slots, so
  it is refused here rather than pretending.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from redis.cluster import RedisCluster
from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot
from redis.exceptions import ClusterCrossSlotError, CrossSlotTransactionError

from memory_course.resilient_history import hashed_part

__all__ = [
    "SLOTS",
    "CapstoneKeys",
    "SlotRow",
    "capstone_keys",
    "cross_slot_attempt",
    "master_ranges",
    "slot_table",
]

SLOTS = REDIS_CLUSTER_HASH_SLOTS  # 16384


@dataclass(frozen=True)
class SlotRow:
    """One key: the part Redis Cluster hashes, its slot, and the master that owns it
    (1-based, among `masters` masters whose slots `redis-cli --cluster create` split)."""

    key: str
    hashed_part: str
    slot: int
    master: int


class CapstoneKeys(NamedTuple):
    """A capstone session's keys: its messages, its metadata, its owner's index."""

    messages: str
    info: str
    user_index: str


def master_ranges(masters: int = 3) -> list[tuple[int, int]]:
    """The inclusive slot range of each master, as `redis-cli --cluster create` assigns
    them: 16384 / `masters` slots each, rounded, the last master taking the rest."""
    if not 1 <= masters <= SLOTS:
        raise ValueError(f"masters must be between 1 and {SLOTS}, not {masters}")
    per_master = SLOTS / masters
    ranges, first, cursor = [], 0, 0.0
    for number in range(masters):
        last = math.floor(cursor + per_master - 1 + 0.5)  # C's lround: halves away from 0
        if number == masters - 1:
            last = SLOTS - 1
        last = max(last, first)
        ranges.append((first, last))
        first, cursor = last + 1, cursor + per_master
    return ranges


def slot_table(keys: Iterable[str], *, masters: int = 3) -> list[SlotRow]:
    """Each key's hashed part, slot and owning master, in the order given."""
    ranges = master_ranges(masters)
    rows = []
    for key in keys:
        if not isinstance(key, str):
            raise TypeError(f"keys must be str, not {type(key).__name__}")
        slot = key_slot(key.encode())
        master = next(n for n, (low, high) in enumerate(ranges, 1) if low <= slot <= high)
        rows.append(SlotRow(key, hashed_part(key), slot, master))
    return rows


def capstone_keys(
    session_id: str, user_id: str, *, key_prefix: str = "chat:", tagged: bool = True
) -> CapstoneKeys:
    """The keys the capstone writes for `session_id` owned by `user_id`.

    `tagged=True` is the reference's layout: the metadata's name carries the messages
    key's name as its hash tag, so both land in one slot. `tagged=False` is the same
    layout without the tag, the way it looks before anyone plans for a cluster.
    """
    messages = f"{key_prefix}{session_id}"
    info = f"{key_prefix}{{{messages}}}:info" if tagged else f"{messages}:info"
    return CapstoneKeys(messages, info, f"{key_prefix}user:{user_id}:sessions")


def cross_slot_attempt(client: RedisCluster, keys: Sequence[str]) -> str | None:
    """Run one `MULTI`/`EXEC` of `EXISTS` over every key on a Redis Cluster.

    Returns None when it ran (every key in one slot), else the error as
    `"ExceptionName: message"`: redis-py's cluster client refuses a transaction over
    several slots before sending it (`CrossSlotTransactionError`); a node refusing it
    would answer `CROSSSLOT` (`ClusterCrossSlotError`). Other errors, such as an
    unreachable cluster, propagate.
    """
    if not keys:
        raise ValueError("give at least one key")
    if not isinstance(client, RedisCluster):
        raise TypeError(
            "cross_slot_attempt needs a redis.cluster.RedisCluster: a single Redis (or "
            f"fakeredis) has no slots, so a {type(client).__name__} accepts any transaction"
        )
    with client.pipeline(transaction=True) as pipe:
        for key in keys:
            pipe.exists(key)
        try:
            pipe.execute()
        except (CrossSlotTransactionError, ClusterCrossSlotError) as error:
            return f"{type(error).__name__}: {error}"
    return None
