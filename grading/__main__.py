"""`python -m grading`: see `grading.cli`."""

import os
import sys

# One BLAS thread: its idle pool only burns CPU in a grader that forks constantly.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from grading.cli import main  # noqa: E402

sys.exit(main())
