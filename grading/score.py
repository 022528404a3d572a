"""Points from markers: what each test is worth and what a run of them earned.

A graded test is an ordinary pytest test with markers:

    @pytest.mark.points(2)
    @pytest.mark.requirement("memory")
    @pytest.mark.hidden                       # optional: never shipped to students
    @pytest.mark.feedback("What a student reads when this hidden test fails.")
    def test_...(app, model): ...

A test earns all its points or none; partial credit comes from a requirement having
several tests. The requirement names, titles and order, and which are extra credit,
come from the assignment's declaration (`grading.assignment`); a spec carries them,
so results, reports and the gradebook need nothing else. Bonus tests add to the score
beyond `max_score`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grading.assignment import Assignment

__all__ = [
    "GradingResult",
    "TestOutcome",
    "TestSpec",
    "spec_from_item",
]

PASSED, FAILED, NOT_RUN = "passed", "failed", "not run"


@dataclass(frozen=True)
class TestSpec:
    """A graded test as declared by its markers (no code, no assertion text)."""

    __test__ = False  # not a pytest test class

    node_id: str
    name: str
    title: str
    requirement: str
    points: float
    hidden: bool
    feedback: str | None
    # From the assignment's declaration: the requirement's title, its position in the
    # notebook's table, and whether it is extra credit.
    requirement_title: str = ""
    requirement_rank: int = 0
    bonus: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TestSpec:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__})


def spec_from_item(item: Any, assignment: Assignment) -> TestSpec:
    """Read a collected pytest item's markers; `ValueError` if they are incomplete."""
    points = item.get_closest_marker("points")
    requirement = item.get_closest_marker("requirement")
    if points is None or requirement is None or not points.args or not requirement.args:
        raise ValueError(f"{item.nodeid}: a graded test needs @points(n) and @requirement(name)")
    key = requirement.args[0]
    if key not in {r.key for r in assignment.requirements}:
        raise ValueError(f"{item.nodeid}: unknown requirement {key!r} of {assignment.name}")
    declared = assignment.requirement(key)
    hidden = item.get_closest_marker("hidden") is not None
    feedback = item.get_closest_marker("feedback")
    message = str(feedback.args[0]) if feedback is not None and feedback.args else None
    if hidden and not message:
        raise ValueError(f"{item.nodeid}: a hidden test needs @feedback('...') for students")
    doc = (getattr(item.function, "__doc__", None) or "").strip()
    title = doc.splitlines()[0].strip() if doc else item.name.replace("_", " ")
    return TestSpec(
        node_id=item.nodeid,
        name=item.name,
        title=title,
        requirement=key,
        points=float(points.args[0]),
        hidden=hidden,
        feedback=message,
        requirement_title=declared.title,
        requirement_rank=assignment.rank(key),
        bonus=declared.bonus,
    )


@dataclass
class TestOutcome:
    """What happened to one test. `message` is already safe to show its audience."""

    __test__ = False  # not a pytest test class

    spec: TestSpec
    status: str
    message: str = ""
    duration: float = 0.0
    # For a failed test: "failure" (an assertion did not hold) or "error" (an exception,
    # a time-out, a crash, an import failure).
    kind: str = ""

    @property
    def earned(self) -> float:
        return self.spec.points if self.status == PASSED else 0.0

    def display_name(self, hidden_index: int) -> str:
        if self.spec.hidden:
            return f"Hidden check {hidden_index}: {self.spec.requirement_title}"
        return f"{self.spec.name}: {self.spec.title}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "spec": asdict(self.spec)}


@dataclass
class GradingResult:
    """Every outcome of one submission's grading run, plus what the grader noticed."""

    submission: str
    outcomes: list[TestOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    protections: list[str] = field(default_factory=list)
    execution_time: float = 0.0
    cpu_time: float = 0.0
    worker_pid: int = 0
    # "strong" or "weak" (None: unknown); what weak isolation left unprotected; and why
    # the run was refused, when the instructor did not allow weak isolation.
    isolation: str | None = None
    isolation_gaps: list[str] = field(default_factory=list)
    refusal: str | None = None

    @property
    def run(self) -> list[TestOutcome]:
        return [o for o in self.outcomes if o.status != NOT_RUN]

    @property
    def not_run(self) -> list[TestOutcome]:
        return [o for o in self.outcomes if o.status == NOT_RUN]

    @property
    def score(self) -> float:
        return sum(o.earned for o in self.outcomes)

    @property
    def max_score(self) -> float:
        """Points available without the bonus (the bonus is extra credit)."""
        return sum(o.spec.points for o in self.outcomes if not o.spec.bonus)

    @property
    def bonus_max(self) -> float:
        return sum(o.spec.points for o in self.outcomes if o.spec.bonus)

    def requirements(self) -> list[tuple[str, str]]:
        """(key, title) of every requirement with a test, in the declared order."""
        seen: dict[str, tuple[int, str]] = {}
        for outcome in self.outcomes:
            seen.setdefault(
                outcome.spec.requirement,
                (outcome.spec.requirement_rank, outcome.spec.requirement_title),
            )
        return [(key, title) for key, (_, title) in sorted(seen.items(), key=lambda i: i[1][0])]

    def hidden_indexes(self) -> dict[str, int]:
        """A stable number for each hidden test (its order among hidden tests)."""
        hidden = [o.spec.node_id for o in self.outcomes if o.spec.hidden]
        return {node_id: index for index, node_id in enumerate(hidden, start=1)}

    def by_requirement(self) -> list[dict[str, Any]]:
        """Points earned and available per requirement, in the declared order."""
        rows = []
        for key, title in self.requirements():
            outcomes = [o for o in self.outcomes if o.spec.requirement == key]
            run = [o for o in outcomes if o.status != NOT_RUN]
            rows.append(
                {
                    "requirement": key,
                    "title": title,
                    "earned": sum(o.earned for o in outcomes),
                    "available": sum(o.spec.points for o in run),
                    "total": sum(o.spec.points for o in outcomes),
                    "passed": sum(o.status == PASSED for o in outcomes),
                    "tests": len(run),
                    "not_run": len(outcomes) - len(run),
                }
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "submission": self.submission,
            "score": self.score,
            "max_score": self.max_score,
            "bonus_max": self.bonus_max,
            "outcomes": [o.to_dict() for o in self.outcomes],
            "notes": self.notes,
            "protections": self.protections,
            "execution_time": self.execution_time,
            "cpu_time": self.cpu_time,
            "worker_pid": self.worker_pid,
            "isolation": self.isolation,
            "isolation_gaps": self.isolation_gaps,
            "refusal": self.refusal,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradingResult:
        outcomes = [
            TestOutcome(
                spec=TestSpec.from_dict(o["spec"]),
                status=o["status"],
                message=o["message"],
                duration=o["duration"],
                kind=o.get("kind", ""),
            )
            for o in data["outcomes"]
        ]
        keys = ("notes", "protections", "execution_time", "cpu_time", "worker_pid")
        optional = ("isolation", "isolation_gaps", "refusal")
        return cls(
            data["submission"],
            outcomes,
            **{k: data[k] for k in keys},
            **{k: data[k] for k in optional if k in data},
        )
