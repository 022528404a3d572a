"""The grader's self-tests: verdicts on known submissions, the CLI, feedback, release."""
