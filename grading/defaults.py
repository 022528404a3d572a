"""Every limit and default of the grader, in one place.

The command line, `GradingOptions`, the pytest plugin and the isolation plan all read
their defaults from here, so a limit is changed once.
"""

from __future__ import annotations

# Per test and per submission (`--test-timeout`, `--run-timeout`, `--memory-mb`).
TEST_TIMEOUT_S = 5.0
RUN_TIMEOUT_S = 300.0
MEMORY_MB = 1024
# A test that ran out of time is run once more at the end of the run, when the shards
# started for slow tests no longer compete for the CPU: honest code on a busy machine
# keeps its points. At most this many per run, so code that hangs everywhere costs
# little more than its first pass.
TIMEOUT_RETRIES = 4
# What the grading run may take beyond the tests' own budget (start-up, teardown).
GRACE_S = 30.0

# The fake Redis and fake model of a test run in a confined process of their own.
SERVICE_MEMORY_MB = 768
SERVICE_CPU_S = 120
# Largest Redis command (all arguments) and HTTP request body the fakes accept.
MAX_REDIS_COMMAND_BYTES = 4 * 1024 * 1024
MAX_HTTP_BODY_BYTES = 4 * 1024 * 1024

# The private, size-capped /tmp and /dev/shm of each student process.
TMP_MB = 64
SHM_MB = 16
# Output a student process may write (RLIMIT_FSIZE), and what feedback shows of it.
OUTPUT_BYTES = 1024 * 1024
OUTPUT_SHOWN_CHARS = 1000
OPEN_FILES = 256
PROCESSES = 64

# Frames of the wire protocol (grader <-> student, grader <-> services).
MAX_ANSWER_BYTES = 8 * 1024 * 1024
MAX_REQUEST_BYTES = 16 * 1024 * 1024
MAX_JSON_DEPTH = 64
# An assignment's harness travels inside the isolation plan (one 64 KiB message).
MAX_HARNESS_BYTES = 32 * 1024

# What feedback shows of a failure message.
MESSAGE_LIMIT = 1500

# Dedicated uids: each grading run takes two above this base, derived from its pid,
# so concurrent runs never share one (student code, and the fakes it talks to).
UID_BASE = 2_000_000
