"""pytest plugin for the course suite (loaded with `-p tests.course_plugin`).

- Known deprecation warnings are ignored through the same list that
  `memory_course.silence_known_deprecations()` uses; every other warning shows.
- nbval's notebook kernels start offline: network guard on, real-service variables
  removed, exactly like `make notebooks` which stored the outputs being compared.
"""

from __future__ import annotations

import functools

from memory_course.deprecations import filterwarnings_lines
from memory_course.offline_guard import kernel_environment


def _start_nbval_kernels_offline() -> None:
    try:
        from nbval import kernel as nbval_kernel
    except ImportError:  # nbval not installed: no notebooks to run
        return
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
