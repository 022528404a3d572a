"""Lesson 6, public tests: the bounded file history and the list of stored sessions."""

import pytest


def _turns(numbers):
    return [
        [role, f"{letter}{n}"] for n in numbers for role, letter in (("human", "q"), ("ai", "a"))
    ]


@pytest.mark.points(2)
@pytest.mark.requirement("bounded")
def test_bounded_history_keeps_the_newest_messages(history_scene):
    """With max_messages=4, ten turns leave the last two turns, in the object and the file."""
    history_scene.make("alex", 4)
    for n in range(10):
        history_scene.add("alex", _turns([n]))
    newest = _turns([8, 9])
    assert history_scene.messages("alex") == newest, (
        "messages should be the newest 4 messages, oldest first"
    )
    assert history_scene.on_disk("alex") == newest, (
        "the session file itself should hold only the newest 4 messages "
        "(read back by a plain FileChatMessageHistory)"
    )


@pytest.mark.points(1)
@pytest.mark.requirement("bounded")
def test_a_batch_larger_than_the_limit_keeps_its_newest(history_scene):
    """One add_messages call of 7 messages with max_messages=3 stores the last 3."""
    history_scene.make("alex", 3)
    history_scene.add("alex", [["human", str(n)] for n in range(7)])
    assert history_scene.on_disk("alex") == [["human", "4"], ["human", "5"], ["human", "6"]], (
        "a batch of 7 messages with max_messages=3 should leave its newest 3 in the file"
    )


@pytest.mark.points(2)
@pytest.mark.requirement("listing")
def test_list_sessions_lists_the_stored_sessions_sorted(listing_scene):
    """Three stored sessions are listed once each, sorted; their lock files are not sessions."""
    listing_scene.store(["sam", "alex", "user-42"])
    assert "alex.json.lock" in listing_scene.files()  # the folder holds lock files too
    assert listing_scene.list_sessions() == ["alex", "sam", "user-42"], (
        "list_sessions should return the ids of the <id>.json files, sorted, and nothing "
        f"for the other files of the folder ({listing_scene.files()})"
    )


@pytest.mark.points(1)
@pytest.mark.requirement("listing")
def test_a_missing_folder_holds_no_sessions(listing_scene):
    """list_sessions of a folder that does not exist returns an empty list, no error."""
    assert listing_scene.list_missing() == [], "a folder that does not exist holds no sessions"
