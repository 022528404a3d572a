"""Public bonus test: a session's keys are ready for Redis Cluster.

A cluster spreads keys over 16,384 slots and runs a transaction only on keys of one
slot. The fake Redis has no slots, so the test computes each key's slot itself with
`redis.crc.key_slot`, redis-py's own `CLUSTER KEYSLOT` (hash tags included), for every
key whose name holds the session id, whatever the submission named them.
"""

import pytest
from redis.crc import key_slot

from grading.assignments.chat_application.helpers import marker
from grading.remote import RemoteError


def _by_slot(names: list[str]) -> str:
    """`slot 866: 'a', 'b'; slot 5061: 'c'`, slots in ascending order."""
    slots: dict[int, list[str]] = {}
    for name in names:
        slots.setdefault(key_slot(name.encode("utf-8")), []).append(name)
    return "; ".join(
        f"slot {slot}: " + ", ".join(repr(name) for name in sorted(keys))
        for slot, keys in sorted(slots.items())
    )


@pytest.mark.points(1)
@pytest.mark.requirement("cluster")
def test_session_keys_share_one_cluster_slot(app, redis_store):
    """Every key of a session hashes to the same Redis Cluster slot."""
    session = app.create_session("alice")
    assert isinstance(session, str) and session, (
        f"create_session should return the session id as a string, got {session!r}"
    )
    app.chat(session, f"Hello {marker(1)} there")
    try:
        app.share_session(session, "alice", "bob")
    except RemoteError:
        pass  # sharing is graded by the other bonus tests; the keys chat wrote are checked
    else:
        app.chat(session, f"Still {marker(2)} here")
    names = [state.name for state in redis_store.keys_named_with(session)]
    assert names, (
        "no Redis key name contains the session id: the session's data must be stored under "
        "keys of its own"
    )
    slots = {key_slot(name.encode("utf-8")) for name in names}
    assert len(slots) == 1, (
        f"the session's keys hash to {len(slots)} Redis Cluster slots ({_by_slot(names)}), so "
        "a transaction over them fails on a cluster with CROSSSLOT. A cluster hashes a key's "
        "whole name, or only the part in braces when the name has a hash tag: give every key "
        "of a session the same tag, for example the messages key's whole name, "
        "P{P<session_id>}:info beside P<session_id>"
    )
