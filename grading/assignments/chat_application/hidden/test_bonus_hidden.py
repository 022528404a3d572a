"""Hidden bonus tests: ownership of sharing, forking part of a conversation."""

import pytest

from grading.assignments.chat_application.helpers import marker


def _conversation(app, turns=2):
    session = app.create_session("alice")
    texts = []
    for turn in range(1, turns + 1):
        text = f"Turn {marker(turn)}"
        texts += [text, app.chat(session, text)]
    return session, texts


@pytest.mark.points(1)
@pytest.mark.requirement("bonus")
@pytest.mark.hidden
@pytest.mark.feedback(
    "share_session must raise PermissionError when owner_id is not the session's owner."
)
def test_only_the_owner_can_share(app):
    session, _ = _conversation(app, 1)
    with pytest.raises(PermissionError):
        app.share_session(session, "mallory", "bob")
    assert app.list_sessions("bob") == []


@pytest.mark.points(2)
@pytest.mark.requirement("bonus")
@pytest.mark.hidden
@pytest.mark.feedback(
    "fork_session(at_message=n) must give the new session exactly the first n messages."
)
def test_fork_at_message_keeps_the_first_messages(app, model):
    session, texts = _conversation(app, 2)
    fork = app.fork_session(session, "bob", at_message=2)
    assert app.get_session_info(fork).message_count == 2
    app.chat(fork, "Where were we?")
    assert model.prompts[-1].contents[1:3] == texts[:2]
    assert len(model.prompts[-1].history) == 2


@pytest.mark.points(1)
@pytest.mark.requirement("bonus")
@pytest.mark.hidden
@pytest.mark.feedback("A fork and its original must continue independently of each other.")
def test_forks_diverge(app, model):
    session, _ = _conversation(app, 1)
    fork = app.fork_session(session, "bob")
    app.chat(fork, f"Only {marker('fork')} here")
    app.chat(session, f"Only {marker('original')} here")
    assert not any(marker("fork") in text for text in model.prompts[-1].contents)
    app.chat(fork, "And now?")
    assert not any(marker("original") in text for text in model.prompts[-1].contents)
    assert app.get_session_info(session).message_count == 4
    assert app.get_session_info(fork).message_count == 6
