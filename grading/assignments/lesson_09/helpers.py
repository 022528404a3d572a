"""What lesson 9's graded tests share: the conversation they hold with the windowed chat."""

CONVERSATION = [
    "Hi, I'm Alex",
    "My favorite color is blue",
    "I live in Lisbon",
    "What's my name?",
    "What's my favorite color?",
    "Where do I live?",
]
