# The course's commands. Two of them are all a newcomer needs:
#   make lab    set everything up (first time) and start JupyterLab on the notebooks
#   make test   set everything up (first time) and run the whole test suite
# Python 3.11 (any patch release), 3.12 or 3.13. Without PYTHON, make takes the first of
# python3, python3.13, python3.12, python3.11 on PATH that is one of them; point PYTHON at
# another (`make lab PYTHON=/path/to/python3.12`).

SUPPORTED := 3.11, 3.12 or 3.13
ifndef PYTHON
PYTHON := $(or $(shell for p in python3 python3.13 python3.12 python3.11; do \
	"$$p" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' \
	>/dev/null 2>&1 && command -v "$$p" && break; done),python3)
endif
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KERNEL := memory-course
PIP_VERSION := 26.3
LAB_PORT ?= 8888
LAB_ARGS ?=
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
# PYTHON given on the command line (or in the environment) must be the one $(VENV) runs.
PYTHON_GIVEN := $(filter command line environment,$(origin PYTHON))

# Refuses an unsupported interpreter with the reason and the way out.
define CHECK_PYTHON
import sys
v = sys.version_info
if not (3, 11) <= v[:2] <= (3, 13):
    sys.exit(
        f"Python $(SUPPORTED) is required; {sys.executable} is {v[0]}.{v[1]}.{v[2]}.\n"
        "Install one of them and run: make <target> PYTHON=/path/to/python3.12"
    )
endef
export CHECK_PYTHON

.PHONY: lab test test-compat test-versions notebooks nav bench canary stub lint format lock clean venv-matches

$(STAMP): requirements.lock pyproject.toml | venv-matches
	@command -v "$(PYTHON)" >/dev/null 2>&1 || { echo "There is no '$(PYTHON)' here. Python $(SUPPORTED) is required: install one and run: make <target> PYTHON=/path/to/python3.12" >&2; exit 1; }
	@"$(PYTHON)" -c "$$CHECK_PYTHON"
	@test -x $(BIN)/python || "$(PYTHON)" -m venv $(VENV) || { echo "'$(PYTHON) -m venv' failed; on Debian and Ubuntu: apt-get install python3-venv (or python3.X-venv)" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check pip==$(PIP_VERSION)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@# Make the course's packages importable from any folder (notebooks, grader children).
	$(BIN)/python -c 'import pathlib, site; pathlib.Path(site.getsitepackages()[0], "memory-course.pth").write_text(str(pathlib.Path.cwd()) + "\n")'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) \
		--display-name "Python $$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])') (memory-course)" >/dev/null
	@touch $(STAMP)

# An explicit PYTHON that is not the interpreter $(VENV) was made with stops here,
# rather than silently testing another version.
venv-matches:
	@if [ -n "$(PYTHON_GIVEN)" ] && [ -x $(BIN)/python ]; then \
		have=$$($(BIN)/python -c 'import platform; print(platform.python_version())'); \
		want=$$("$(PYTHON)" -c 'import platform; print(platform.python_version())'); \
		if [ "$$have" != "$$want" ]; then \
			echo "$(VENV) runs Python $$have, not $$want ($(PYTHON))." >&2; \
			echo "Rebuild it: make clean, then the same command; or keep both: add VENV=.venv-$$want" >&2; \
			exit 1; \
		fi; \
	fi

## Start JupyterLab (headless-safe: prints a URL with a token, opens no browser).
lab: $(STAMP)
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(LAB_PORT) \
		--ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks $(ROOT_FLAG) $(LAB_ARGS)

## The whole suite: unit tests, notebooks (nbval, strict), grader self-tests.
test: $(STAMP)
	$(BIN)/python -m pytest

## What every supported Python must pass: every notebook (nbval, strict), the grader's
## self-tests and the environment checks. The whole suite runs on one of them (`make test`).
test-compat: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider notebooks tests/course/test_environment.py tests/grading

## test-compat on each interpreter of PYTHONS, each in its own .venv-X.Y.Z (used by .ci/run):
##   make test-versions PYTHONS="/usr/bin/python3 /opt/python3.12/bin/python3"
test-versions:
	@test -n "$(PYTHONS)" || { echo "Name the interpreters: make test-versions PYTHONS='/usr/bin/python3 python3.12'" >&2; exit 2; }
	@set -e; for p in $(PYTHONS); do \
		v=$$("$$p" -c 'import platform; print(platform.python_version())'); \
		echo "== Python $$v ($$p)"; start=$$(date +%s); \
		$(MAKE) --no-print-directory test-compat PYTHON="$$p" VENV=.venv-$$v; \
		echo "== Python $$v: $$(( $$(date +%s) - start )) s"; \
	done

## Rewrite every lesson's navigation cells and the README's course map.
nav: $(STAMP)
	$(BIN)/python -m memory_course.tooling.navigation

## Re-execute every notebook in place so its stored outputs are current.
notebooks: $(STAMP)
	$(BIN)/python -m memory_course.tooling.notebook_runner notebooks/*.ipynb

## Benchmarks (not part of `make test`): figures printed and saved under test-artifacts/bench.
bench: $(STAMP)
	$(BIN)/python -m tests.bench

## Drift canary (not part of `make test`): the suite and every notebook on the newest
## LangChain, LangGraph, redis, fakeredis, FastAPI, nbval and pytest the index resolves, in
## a throwaway .venv-canary; prints each package's pinned and newest version and, per
## lesson, the first differing cell (report in test-artifacts/canary-report.md).
canary:
	@"$(PYTHON)" -c "$$CHECK_PYTHON"
	"$(PYTHON)" memory_course/tooling/canary.py

## Regenerate the exercise stubs from their marked reference solutions (memory_course/tooling/stubgen.py):
## edit solutions/chat_application.py, never exercises/chat_application.py.
stub: $(STAMP)
	$(BIN)/python -m memory_course.tooling.stubgen

lint: $(STAMP)
	$(BIN)/ruff check memory_course grading solutions tests
	$(BIN)/ruff format --check memory_course grading solutions tests
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format memory_course grading solutions tests
	$(BIN)/ruff check --fix memory_course grading solutions tests

## Re-resolve requirements.in into requirements.lock and environment.yml, and the
## grader's grading/requirements-grading.in into grading/requirements-grading.lock with
## the same versions (needs the index). pip freeze sees only the interpreter it runs on:
## requirement lines with an environment marker (`; python_full_version < "3.11.3"`) are
## copied from the .in file as they are, in place of whatever the freeze found. A package
## that only some interpreter or system needs goes into the .in file as such a line;
## tests/course/test_lock_resolution.py names any that is missing (on 3.11.0 to 3.13, Linux, macOS).
MARKED = $(shell grep -E '^[A-Za-z0-9][^#]*;' $(1) | sed -E 's/[]=<>!~ ;[].*//')
FREEZE = .lock-venv/bin/python -m pip freeze --all --exclude pip --exclude setuptools --exclude wheel \
	$(addprefix --exclude ,$(call MARKED,$(1)))
MARKER_LINES = echo "\# Only on some interpreters or systems: environment-marker lines of $(1), kept as they are."; \
	grep -E '^[A-Za-z0-9][^\#]*;' $(1) | sed -E 's/ +\#.*$$//' | sort -f
lock:
	@"$(PYTHON)" -c "$$CHECK_PYTHON"
	rm -rf .lock-venv && "$(PYTHON)" -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet pip==$(PIP_VERSION)
	.lock-venv/bin/python -m pip install --quiet -r requirements.in
	{ echo "# Every package of the course environment, pinned. Generated by 'make lock' from requirements.in."; \
	  $(call FREEZE,requirements.in); $(call MARKER_LINES,requirements.in); } > requirements.lock
	{ echo "# The conda environment of the course: the same packages as requirements.lock."; \
	  echo "# Generated by 'make lock'; tests/course/test_environment.py fails when the two disagree."; \
	  echo "name: memory-course"; echo "channels:"; echo "  - conda-forge"; echo "dependencies:"; \
	  echo "  - python>=3.11,<3.14"; echo "  - pip=$(PIP_VERSION)"; echo "  - make"; echo "  - pip:"; \
	  grep -v '^#' requirements.lock | sed 's/^/      - /'; } > environment.yml
	rm -rf .lock-venv && "$(PYTHON)" -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet pip==$(PIP_VERSION)
	.lock-venv/bin/python -m pip install --quiet -c requirements.lock -r grading/requirements-grading.in
	{ echo "# The Gradescope autograder's packages (no JupyterLab, no browser), the versions of"; \
	  echo "# requirements.lock. Generated by 'make lock' from grading/requirements-grading.in."; \
	  $(call FREEZE,grading/requirements-grading.in); $(call MARKER_LINES,grading/requirements-grading.in); \
	} > grading/requirements-grading.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .venv-*/ .lock-venv .pytest_cache test-artifacts
