"""The course's graded exercises: implement each stub, then run the grader on it."""
