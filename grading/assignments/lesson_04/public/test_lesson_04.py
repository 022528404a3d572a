"""Lesson 4, public tests: defaults filled from the specs, and tenants kept apart."""

import pytest

from grading.remote import expect_error

# A user id that must be given (empty default) and a conversation that defaults to "main".
USER_AND_MAIN = [["user_id", ""], ["conversation_id", "main"]]


@pytest.mark.points(2)
@pytest.mark.requirement("defaults")
def test_missing_field_gets_its_default(defaults_scene, model):
    """A missing conversation_id becomes "main"; the rest of the config is kept."""
    scene = defaults_scene(USER_AND_MAIN)
    given = {"configurable": {"user_id": "alex"}, "tags": ["demo"]}
    filled = scene.fill(given)["result"]
    assert filled == {
        "configurable": {"user_id": "alex", "conversation_id": "main"},
        "tags": ["demo"],
    }, "conversation_id should be filled with its default 'main', and the tags kept"
    scene.say({"configurable": {"user_id": "alex"}}, "Hi, I'm Alex")
    scene.say({"configurable": {"user_id": "alex"}}, "What's my name?")
    assert ("user", "Hi, I'm Alex") in model.prompts[-1].history, (
        "two calls completed by with_spec_defaults should continue one conversation"
    )
    assert scene.store_keys() == [["alex", "main"]]


@pytest.mark.points(1)
@pytest.mark.requirement("defaults")
def test_an_empty_default_is_refused(defaults_scene):
    """A missing user_id (default "") raises ValueError naming it."""
    scene = defaults_scene(USER_AND_MAIN)
    config = {"configurable": {"conversation_id": "trip"}}
    error = expect_error(
        lambda: scene.fill(config),
        "a config without user_id should raise ValueError",
        kind="ValueError",
    )
    assert "user_id" in error.remote_message, "the error should name the field user_id"


@pytest.mark.points(2)
@pytest.mark.requirement("tenants")
def test_tenants_are_isolated(tenant_scene, model):
    """The same user and conversation ids under two tenants are two conversations."""
    tenant_scene.say("acme", "u1", "c1", "Hi, I'm Alex")
    tenant_scene.say("globex", "u1", "c1", "Hi, I'm Bo")
    reply = tenant_scene.say("acme", "u1", "c1", "What's my name?")
    assert reply == model.reply_to(-1), "the chat should return the model's reply"
    acme = model.prompts[-1].history
    assert ("user", "Hi, I'm Alex") in acme, "acme's conversation should remember Alex"
    assert ("user", "Hi, I'm Bo") not in acme, "acme's prompt must not carry globex's turn"
    tenant_scene.say("globex", "u1", "c1", "What's my name?")
    globex = model.prompts[-1].history
    assert ("user", "Hi, I'm Bo") in globex, "globex's conversation should remember Bo"
    assert ("user", "Hi, I'm Alex") not in globex, "globex's prompt must not carry acme's turn"


@pytest.mark.points(1)
@pytest.mark.requirement("tenants")
def test_tenant_chat_requires_every_key(tenant_scene, model):
    """A call without tenant_id raises ValueError, calls no model and stores nothing."""
    ids = {"user_id": "u1", "conversation_id": "c1"}
    expect_error(
        lambda: tenant_scene.say_with(ids, "Hi"),
        "a call without tenant_id should raise ValueError",
        kind="ValueError",
    )
    assert len(model.prompts) == 0, "a refused call must not reach the model"
    assert tenant_scene.store_keys() == [], "a refused call must not create a history"
