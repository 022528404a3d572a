"""What lesson 7's graded tests check in several places."""


def check_conversations(model, conversations, replies):
    """Each question reached the model once, with its session's earlier turns (and no
    other session's) as history, and `replies` holds the model's replies in order."""
    prompts = model.prompts
    asked = sorted(prompt.contents[-1] for prompt in prompts)
    expected = sorted(q for questions in conversations.values() for q in questions)
    assert asked == expected, "every question should be sent to the model exactly once"
    reply_of = {prompt.contents[-1]: model.reply_to(i) for i, prompt in enumerate(prompts)}
    prompt_of = {prompt.contents[-1]: prompt for prompt in prompts}
    for session_id, questions in conversations.items():
        for k, question in enumerate(questions):
            earlier = [
                pair for q in questions[:k] for pair in (("user", q), ("assistant", reply_of[q]))
            ]
            assert prompt_of[question].history == earlier, (
                f"session {session_id!r} asked {question!r} with the wrong history: it should "
                "carry exactly that session's earlier turns (ask a session's questions one "
                "after the other, each once the previous turn has ended)"
            )
    assert list(replies) == list(conversations), "the sessions in the order of conversations"
    assert replies == {
        session_id: [reply_of[q] for q in questions]
        for session_id, questions in conversations.items()
    }, "each session's replies, as strings, in the order of its questions"
