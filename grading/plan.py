"""The isolation plan: how one confined process (student code or the fakes) is run.

The grading run decides it; the zygote hands it, as JSON, to the process it forks,
which rebuilds the same typed object (`IsolationPlan.from_json`) and applies it with
`grading.confine.enter_world`. No field is read by a string key anywhere else.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Literal

from grading import defaults

__all__ = ["Limits", "IsolationPlan", "SOCKET_MOUNT", "SUBMISSION_MOUNT"]

# Where a student process sees its submission and its test's sockets (allowlist root).
SUBMISSION_MOUNT = "/submission"
SOCKET_MOUNT = "/run/grader"


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = defaults.MEMORY_MB * 1024 * 1024
    file_bytes: int = defaults.OUTPUT_BYTES
    cpu_seconds: int = int(defaults.RUN_TIMEOUT_S) + 5
    processes: int = defaults.PROCESSES
    open_files: int = defaults.OPEN_FILES


@dataclass(frozen=True)
class IsolationPlan:
    """Everything a confined process needs to confine itself.

    `role` is "student" (runs the submission) or "service" (serves the fakes).
    `runtime_paths` are the host paths bound read-only into the process's new root:
    the Python runtime and the support package, nothing else of the host.
    """

    role: Literal["student", "service"]
    root_dir: str
    runtime_paths: tuple[str, ...]
    limits: Limits = field(default_factory=Limits)
    namespaces: bool = True
    uid: int | None = None
    gid: int | None = None
    submission_dir: str | None = None
    socket_dir: str | None = None
    # Where the process works when no new root can be built (weak isolation only).
    work_dir: str | None = None
    tmp_bytes: int = defaults.TMP_MB * 1024 * 1024
    shm_bytes: int = defaults.SHM_MB * 1024 * 1024
    # Student role: the file a submission must hold (from the assignment's declaration)
    # and the names it must define, reported when missing after the import.
    entry_file: str = ""
    required_names: tuple[str, ...] = ()
    # Attributes the grader reads from returned objects of no known type.
    described_fields: tuple[str, ...] = ()
    # The assignment's harness (public, grader-owned): run beside the submission, it
    # builds the objects an exercise's functions take. Its text travels in the plan, so
    # no folder of the assignment (hidden tests included) is mounted.
    harness_source: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> IsolationPlan:
        data = json.loads(text)
        data["runtime_paths"] = tuple(data["runtime_paths"])
        data["required_names"] = tuple(data.get("required_names", ()))
        data["described_fields"] = tuple(data.get("described_fields", ()))
        data["limits"] = Limits(**data["limits"])
        return cls(**data)
