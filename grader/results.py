"""Scores: what each test of a lab earned, mapped from Bats' results through the manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from grader.i18n import _, test_title
from grader.manifest import Lab, TestSpec
from grader.tap import TapResult, TapRun

OK, FAIL, SKIP = "OK", "FAIL", "SKIP"


@dataclass
class TestResult:
    id: str
    title: str
    points: int          # earned
    max_points: int      # 0 when skipped: a skipped test counts neither way
    status: str          # OK, FAIL or SKIP
    time_s: float | None = None
    reason: str = ""     # one line: why it failed or was skipped
    details: list[str] = field(default_factory=list)   # the whole failure message


@dataclass
class LabResult:
    id: str
    name: str
    title: str
    tests: list[TestResult]
    time_s: float = 0.0
    problems: list[str] = field(default_factory=list)  # the run itself went wrong

    @property
    def points(self) -> int:
        return sum(t.points for t in self.tests)

    @property
    def max_points(self) -> int:
        return sum(t.max_points for t in self.tests)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(points=self.points, max_points=self.max_points)
        return data


def first_line(lines: list[str]) -> str:
    return next((line.strip() for line in lines if line.strip()), "")


def score(lab: Lab, run: TapRun, time_s: float) -> LabResult:
    """Every manifest test gets a result; a test missing from the run failed to run."""
    by_id = {r.test_id: r for r in run.results}
    problems = list(run.problems)
    unknown = [r for r in run.results if lab.test(r.test_id) is None]
    for extra in unknown:
        problems.append(_("test {number} ({name}) is not in labs/labs.toml: not scored").format(
            number=extra.number, name=extra.test_id or repr(extra.title)))
    tests = [test_result(spec, by_id.get(spec.id)) for spec in lab.tests]
    return LabResult(lab.id, lab.name, _(lab.title), tests, time_s, problems)


def test_result(spec: TestSpec, found: TapResult | None) -> TestResult:
    """What one manifest test earned from its Bats result (None: it never ran)."""
    # Titles come from the Bats files in English; the catalog has them in Korean too.
    title = test_title(found.title) if found is not None and found.title else ""
    if found is None:
        return TestResult(spec.id, "", 0, spec.points, FAIL,
                          reason=_("did not run (the test run stopped before it)"))
    if found.skip is not None:
        return TestResult(spec.id, title, 0, 0, SKIP, found.time_s, reason=_(found.skip))
    if found.ok:
        return TestResult(spec.id, title, spec.points, spec.points, OK, found.time_s)
    message = found.message
    reason = first_line(message) or _("failed")
    if found.timed_out:
        reason = _("took too long and was stopped (is something waiting forever?)")
    return TestResult(spec.id, title, 0, spec.points, FAIL, found.time_s, reason=reason,
                      details=message)


def failed_everything(lab: Lab, reason: str, time_s: float = 0.0) -> LabResult:
    """A lab whose tests could not run at all (no folder, Bats missing...)."""
    tests = [TestResult(t.id, "", 0, t.points, FAIL, reason=reason) for t in lab.tests]
    return LabResult(lab.id, lab.name, _(lab.title), tests, time_s, [reason])
