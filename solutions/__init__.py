"""Reference solutions of the course's graded exercises (instructors and the grader)."""
