"""What lesson 5's graded tests share: messages the student's process returned, compared."""


def pairs(messages):
    """(type, content) tuples of returned `[type, content]` messages."""
    return [(kind, content) for kind, content in messages]


def contents(messages):
    """The contents alone, in order."""
    return [content for _, content in messages]
