"""Lesson 3, hidden tests: eviction's side effects, concurrency, and a 404 without traces."""

import pytest

from grading.remote import RemoteError


@pytest.mark.hidden
@pytest.mark.feedback("An evicted session's history must be cleared, not just forgotten.")
@pytest.mark.points(1)
@pytest.mark.requirement("limit")
def test_evicted_history_is_cleared(limit_scene):
    scene = limit_scene(1)
    scene.track_histories()
    old = scene.create("alex")
    scene.use("alex", old)
    scene.create("alex")
    assert scene.exists(old) is False
    assert scene.message_counts()[old] == 0


@pytest.mark.hidden
@pytest.mark.feedback(
    "`evicted` must list every evicted session in the order they were evicted, and each "
    "eviction must pick the least recently used session at that moment."
)
@pytest.mark.points(1)
@pytest.mark.requirement("limit")
def test_evictions_follow_use_over_many_steps(limit_scene):
    scene = limit_scene(3)
    a, b, c = (scene.create("alex") for _ in range(3))
    scene.use("alex", a)
    scene.use("alex", b)
    d = scene.create("alex")  # c is the least recently used
    scene.use("alex", a)
    e = scene.create("alex")  # then b
    assert scene.evicted() == [c, b]
    assert scene.sessions("alex") == sorted([a, d, e])


@pytest.mark.hidden
@pytest.mark.feedback(
    "Creating sessions from many threads at once must never leave more than the limit: "
    "count, evict and create as one step under the manager's lock."
)
@pytest.mark.points(1)
@pytest.mark.requirement("limit")
def test_limit_holds_under_parallel_creation(limit_scene):
    scene = limit_scene(3)
    outcome = scene.create_in_parallel("alex", 8, 25)
    assert outcome == {"sessions": 3, "evicted": 8 * 25 - 3, "errors": []}


@pytest.mark.hidden
@pytest.mark.feedback("A limit below 1 must raise ValueError when the manager is built.")
@pytest.mark.points(1)
@pytest.mark.requirement("limit")
def test_limit_below_one_is_rejected(limit_scene):
    with pytest.raises(RemoteError) as caught:
        limit_scene(0)
    assert "ValueError" in caught.value.mro_names


@pytest.mark.hidden
@pytest.mark.feedback(
    "A refused request must leave no trace: the session is not marked as used and "
    "nothing is added to its history."
)
@pytest.mark.points(1)
@pytest.mark.requirement("not_found")
def test_a_404_leaves_no_trace(respond_scene):
    session = respond_scene.create("alex")
    before = respond_scene.last_active(session)
    assert respond_scene.respond("bo", session, "let me in") == respond_scene.not_found()
    assert respond_scene.message_count(session) == 0
    assert respond_scene.last_active(session) == before


@pytest.mark.hidden
@pytest.mark.feedback(
    "A session its owner deleted must get the same 404 as one that never existed."
)
@pytest.mark.points(1)
@pytest.mark.requirement("not_found")
def test_a_deleted_session_gets_the_404(respond_scene):
    session = respond_scene.create("alex")
    respond_scene.respond("alex", session, "Hi")
    respond_scene.delete("alex", session)
    assert respond_scene.respond("alex", session, "Still there?") == respond_scene.not_found()
