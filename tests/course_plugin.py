"""pytest plugin for the course suite (loaded with `-p tests.course_plugin`).

- Known deprecation warnings are ignored through the same list that
  `memory_course.silence_known_deprecations()` uses; every other warning shows.
- nbval's notebook kernels start offline: network guard on, real-service variables
  removed, exactly like `make notebooks` which stored the outputs being compared.

nbval has no hook for a kernel's environment: its only kernel options are
`--nbval-kernel-name` and `--nbval-cwd`, and a kernel spec's `env` can add or override
variables but not remove them (`REDIS_URL`, `OPENAI_API_KEY`). So the plugin wraps
`nbval.kernel.start_new_kernel`, which nbval calls once per notebook. It was written
against nbval 0.11.0 (pinned in requirements.in) and refuses to guess on another
version: `NBVAL_VERSION` below must then be checked and updated.
"""

from __future__ import annotations

import functools

from memory_course.deprecations import filterwarnings_lines
from memory_course.offline.offline_guard import kernel_environment

NBVAL_VERSION = "0.11.0"


def _start_nbval_kernels_offline() -> None:
    try:
        import nbval
        from nbval import kernel as nbval_kernel
    except ImportError:  # nbval not installed: no notebooks to run
        return
    if nbval.__version__ != NBVAL_VERSION:
        raise RuntimeError(
            f"tests/course_plugin.py wraps nbval {NBVAL_VERSION}'s start_new_kernel; "
            f"nbval {nbval.__version__} is installed: check that it still starts kernels "
            "through nbval.kernel.start_new_kernel, then update NBVAL_VERSION"
        )
    original = nbval_kernel.start_new_kernel
    if getattr(original, "__offline__", False):
        return

    @functools.wraps(original)
    def start_new_kernel(*args, **kwargs):
        kwargs.setdefault("env", kernel_environment())
        return original(*args, **kwargs)

    start_new_kernel.__offline__ = True
    nbval_kernel.start_new_kernel = start_new_kernel


def pytest_configure(config) -> None:
    for line in filterwarnings_lines():
        config.addinivalue_line("filterwarnings", line)
    _start_nbval_kernels_offline()
