"""Lesson 2, hidden tests: message lists, the wrapper's keys, and the saving check's edges."""

import pytest

from grading.remote import expect_error, message


@pytest.mark.hidden
@pytest.mark.feedback(
    "`messages` may be a list of messages, and each call's topic goes into that call's "
    'system message ("You\'re an expert in {topic}.").'
)
@pytest.mark.points(1)
@pytest.mark.requirement("messages_key")
def test_message_lists_and_each_calls_topic(messages_scene, model):
    messages_scene.say("gil", [message("human", "Hi, I'm Gil")], "go")
    messages_scene.say("gil", [message("human", "What's my name?")], "chess")
    assert model.prompts[-1] == [
        ("system", "You're an expert in chess."),
        ("user", "Hi, I'm Gil"),
        ("assistant", model.reply_to(0)),
        ("user", "What's my name?"),
    ]


@pytest.mark.hidden
@pytest.mark.feedback(
    'The wrapper must use input_messages_key="messages" and no history_messages_key '
    "(nor output_messages_key): the history goes in front of the new messages, under "
    "the same key."
)
@pytest.mark.points(1)
@pytest.mark.requirement("messages_key")
def test_the_wrapper_uses_only_the_messages_key(messages_scene):
    assert messages_scene.keys() == {
        "input_messages_key": "messages",
        "history_messages_key": None,
        "output_messages_key": None,
    }


@pytest.mark.hidden
@pytest.mark.feedback(
    "Compare the history's length before and after the call: a turn that is not saved "
    "must be caught even when the session already holds earlier turns."
)
@pytest.mark.points(1)
@pytest.mark.requirement("saved_check")
def test_unsaved_turn_after_earlier_turns_is_caught(check_scene):
    check_scene.check("remembering", "dana", "Hi, I'm Dana")
    error = expect_error(
        lambda: check_scene.check("forgetful", "dana", "What's my name?"), "expected an exception"
    )
    assert "HistoryNotSavedError" in error.mro_names
    assert len(check_scene.stored("dana")) == 2


@pytest.mark.hidden
@pytest.mark.feedback(
    "A turn that is not saved must be caught even when nothing was logged (a history "
    "that drops writes silently): check that the history grew, not only the log."
)
@pytest.mark.points(1)
@pytest.mark.requirement("saved_check")
def test_silently_dropped_turn_is_caught(check_scene, model):
    error = expect_error(
        lambda: check_scene.check("dropping", "hal", "Hi, I'm Hal"), "expected an exception"
    )
    assert "HistoryNotSavedError" in error.mro_names
    assert len(model.prompts) == 1


@pytest.mark.hidden
@pytest.mark.feedback(
    "When the history itself fails to save, the error LangChain logged (the history's "
    "own exception) must appear in HistoryNotSavedError's message."
)
@pytest.mark.points(1)
@pytest.mark.requirement("saved_check")
def test_history_error_is_in_the_message(check_scene):
    error = expect_error(
        lambda: check_scene.check("disk_full", "ivy", "Hi, I'm Ivy"), "expected an exception"
    )
    assert "HistoryNotSavedError" in error.mro_names
    assert "the disk is full" in error.remote_message


@pytest.mark.hidden
@pytest.mark.feedback(
    "When the chain itself fails (the model answers with an error), that exception must "
    "reach the caller unchanged, not turned into HistoryNotSavedError."
)
@pytest.mark.points(1)
@pytest.mark.requirement("saved_check")
def test_chain_error_reaches_the_caller(check_scene, model):
    check_scene.check("remembering", "jo", "Hi, I'm Jo")
    model.fail_next(1)
    error = expect_error(
        lambda: check_scene.check("remembering", "jo", "What's my name?"), "expected an exception"
    )
    assert "HistoryNotSavedError" not in error.mro_names
    assert "InternalServerError" in error.mro_names, error.mro_names
    assert len(check_scene.stored("jo")) == 2
