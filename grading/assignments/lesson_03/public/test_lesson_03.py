"""Lesson 3, public tests: the session limit and the uniform 404."""

import pytest


@pytest.mark.points(2)
@pytest.mark.requirement("limit")
def test_least_recently_used_session_is_evicted(limit_scene):
    """With a limit of 2, the session used least recently goes when a third is created."""
    scene = limit_scene(2)
    first, second = scene.create("alex"), scene.create("alex")
    scene.use("alex", first)  # first is now the most recently used
    third = scene.create("alex")
    assert scene.sessions("alex") == sorted([first, third]), (
        f"{first} was used after {second} was created, so {second} should have been evicted"
    )
    assert scene.evicted() == [second]


@pytest.mark.points(1)
@pytest.mark.requirement("limit")
def test_limit_is_per_user(limit_scene):
    """One user's sessions never count against another user's limit."""
    scene = limit_scene(1)
    alex, bo = scene.create("alex"), scene.create("bo")
    assert [scene.sessions("alex"), scene.sessions("bo")] == [[alex], [bo]]
    assert scene.evicted() == []


@pytest.mark.points(2)
@pytest.mark.requirement("not_found")
def test_respond_answers_the_owner(respond_scene, model):
    """The owner gets (200, reply), and the chat remembers the earlier turn."""
    session = respond_scene.create("alex")
    assert respond_scene.respond("alex", session, "Hi, I'm Alex")[0] == 200
    status, body = respond_scene.respond("alex", session, "What's my name?")
    assert [status, body] == [200, model.reply_to(-1)]
    assert ("user", "Hi, I'm Alex") in model.prompts[-1].history, (
        "the second prompt should carry the first turn (chat through `chat`, "
        "with the session id in the config)"
    )


@pytest.mark.points(2)
@pytest.mark.requirement("not_found")
def test_unknown_and_foreign_sessions_get_the_same_404(respond_scene, model):
    """Another user's session and a session that does not exist get the same NOT_FOUND."""
    session = respond_scene.create("alex")
    respond_scene.respond("alex", session, "Hi, I'm Alex")
    calls = len(model.prompts)
    not_yours = respond_scene.respond("bo", session, "What's my name?")
    missing = respond_scene.respond("bo", "s404", "What's my name?")
    assert not_yours == missing, "a caller must not tell a foreign session from a missing one"
    assert not_yours == respond_scene.not_found()
    assert len(model.prompts) == calls, "a refused request must not call the model"
