"""Lesson 4, hidden tests: defaults never forced or leaked into the input; the store's keys."""

from functools import partial

import pytest

from grading.remote import expect_error

USER_AND_MAIN = [["user_id", ""], ["conversation_id", "main"]]


@pytest.mark.hidden
@pytest.mark.feedback(
    "A value the caller gave must be kept, even for a field that has a default: only "
    "missing fields are filled."
)
@pytest.mark.points(1)
@pytest.mark.requirement("defaults")
def test_given_values_are_never_replaced(defaults_scene, model):
    scene = defaults_scene(USER_AND_MAIN)
    given = {"configurable": {"user_id": "alex", "conversation_id": "trip"}}
    assert scene.fill(given)["result"] == given, "a complete config should come back as given"
    scene.say({"configurable": {"user_id": "alex", "conversation_id": "trip"}}, "Hi, I'm Alex")
    scene.say({"configurable": {"user_id": "alex"}}, "What's my name?")
    assert ("user", "Hi, I'm Alex") not in model.prompts[-1].history, (
        "the 'main' conversation must not carry the turn said in 'trip'"
    )
    assert scene.store_keys() == [["alex", "main"], ["alex", "trip"]]


@pytest.mark.hidden
@pytest.mark.feedback(
    "with_spec_defaults must return a new config and leave the one it was given, and its "
    "configurable dict, unchanged."
)
@pytest.mark.points(1)
@pytest.mark.requirement("defaults")
def test_the_given_config_is_not_modified(defaults_scene):
    scene = defaults_scene(USER_AND_MAIN)
    given = {"configurable": {"user_id": "alex"}, "tags": ["demo"]}
    outcome = scene.fill(given)
    assert outcome["result"]["configurable"] == {"user_id": "alex", "conversation_id": "main"}
    assert outcome["given_after"] == given, "the config passed in should be left as it was"


@pytest.mark.hidden
@pytest.mark.feedback(
    "The fields to fill are the chat's own (`chat.history_factory_config`), whatever their "
    "ids, and every other key of the config and of its configurable is kept; a config "
    "without configurable gets one."
)
@pytest.mark.points(1)
@pytest.mark.requirement("defaults")
def test_the_fields_are_the_chats_own(defaults_scene):
    scene = defaults_scene([["workspace", "general"], ["thread", "inbox"], ["user_id", ""]])
    given = {
        "configurable": {"user_id": "alex", "trace": "t-1"},
        "metadata": {"team": "support"},
        "tags": ["a", "b"],
    }
    assert scene.fill(given)["result"] == {
        "configurable": {
            "user_id": "alex",
            "trace": "t-1",
            "workspace": "general",
            "thread": "inbox",
        },
        "metadata": {"team": "support"},
        "tags": ["a", "b"],
    }
    everything_defaults = defaults_scene([["workspace", "general"], ["thread", "inbox"]])
    assert everything_defaults.fill({})["result"] == {
        "configurable": {"workspace": "general", "thread": "inbox"}
    }


@pytest.mark.hidden
@pytest.mark.feedback(
    "A missing field whose default is None must be refused like one whose default is "
    "'': ValueError naming the field, also when the config has no configurable at all."
)
@pytest.mark.points(1)
@pytest.mark.requirement("defaults")
def test_a_none_default_is_refused(defaults_scene):
    scene = defaults_scene([["conversation_id", "main"], ["account", None]])
    for config in ({"configurable": {"conversation_id": "trip"}}, {}, {"tags": ["x"]}):
        error = expect_error(
            partial(scene.fill, config),
            f"filling {config} should raise ValueError",
            kind="ValueError",
        )
        assert "account" in error.remote_message, "the error should name the field account"


@pytest.mark.hidden
@pytest.mark.feedback(
    "Within one tenant, two users with the same conversation id, and two conversations "
    "of one user, must be separate conversations too."
)
@pytest.mark.points(1)
@pytest.mark.requirement("tenants")
def test_users_and_conversations_are_separate_too(tenant_scene, model):
    intros = {("u1", "c1"): "I'm Alex", ("u2", "c1"): "I'm Bo", ("u1", "c2"): "I'm Cy"}
    for (user, conversation), text in intros.items():
        tenant_scene.say("acme", user, conversation, text)
    for (user, conversation), text in intros.items():
        tenant_scene.say("acme", user, conversation, "Who am I?")
        said = [content for role, content in model.prompts[-1].history if role == "user"]
        assert said == [text], f"the prompt of ({user}, {conversation}) should hold its own turn"


@pytest.mark.hidden
@pytest.mark.feedback(
    "Histories must live in the store passed to build_tenant_chat, under the tuple "
    "(tenant_id, user_id, conversation_id), created once and then reused, each holding "
    "the user's inputs and the model's replies in order."
)
@pytest.mark.points(1)
@pytest.mark.requirement("tenants")
def test_histories_live_in_the_given_store(tenant_scene, model):
    tenant_scene.say("acme", "u1", "c1", "Hi")
    tenant_scene.say("a:b", "c", "d", "Hello")
    tenant_scene.say("a", "b:c", "d", "Hey")
    tenant_scene.say("acme", "u1", "c1", "Again")
    keys = tenant_scene.store_keys()
    assert keys == sorted([["a", "b:c", "d"], ["a:b", "c", "d"], ["acme", "u1", "c1"]], key=repr)
    expected = [
        ("human", "Hi"),
        ("ai", model.reply_to(0)),
        ("human", "Again"),
        ("ai", model.reply_to(3)),
    ]
    stored = [tuple(item) for item in tenant_scene.stored("acme", "u1", "c1")]
    assert stored == expected, "the store should hold both turns of (acme, u1, c1)"
