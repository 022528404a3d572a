"""The support package's public names, imported lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import memory_course


def test_public_names_resolve():
    for name in memory_course.__all__:
        assert getattr(memory_course, name) is not None
    with pytest.raises(AttributeError):
        memory_course.does_not_exist  # noqa: B018


def test_importing_one_module_does_not_import_the_model_stack():
    code = "import sys, memory_course.clock; print('langchain_core' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
