"""Hostile submissions graded through the sandbox (grader/sandbox.py, tests/hostile/).

Each folder of tests/hostile/ is a lab-01 server that does one hostile thing; the rest of the
lab folder comes from the skeleton. All are graded at once, in parallel, as a class would be,
on lab 01's build, args and hello tests, next to the reference (the control: the sandbox must
not cost a correct submission anything). For each, the checks are:

- the run ends in bounded time, and the others' runs go on;
- the score is what a fresh skeleton earns (the "given" tests), and nothing for the one whose
  build includes the reference: hostility and forged results earn nothing;
- nothing is left running: no process of the run's user, none naming the submission;
- nothing was written outside the scratch folders: the kit, the sources, the build cache,
  /tmp and /dev/shm hold no file the programs tried to write;
- no line of the reference solution appears in any result;
- kill(-1, SIGKILL) left alive a process of the same user outside the sandbox.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import KIT
from grader import sandbox
from grader.manifest import load
from grader.results import LabResult
from grader.runner import RunConfig, run_lab

LAB = "01-tcp-hello"
RUN_TESTS = ("build", "args", "hello")     # of lab 01: enough to meet every hostile program
HOSTILE = KIT / "tests" / "hostile"
CASES = sorted(p.name for p in HOSTILE.iterdir() if (p / LAB).is_dir())
CONTROL = "reference"
MARK = "socklab-hostile-escaped"
REF_PLACEHOLDER = "SOCKLAB_REF_PATH"
RUN_DEADLINE_S = 240        # one submission's run, under load (measured: 30-90 s)
PARALLEL = 4                # the programs mostly wait for deadlines
GONE_DEADLINE_S = 10.0      # how long a killed sandbox may take to disappear
MIN_SOLUTION_LINE = 25      # shorter lines may be shared with the skeleton or common C
RESULT_CAP = 4 << 20        # bytes of one result: the harness keeps 1 MiB of each stream

MANIFEST = load(KIT)
GIVEN_POINTS = sum(t.points for t in MANIFEST.find(LAB).tests if t.kind == "given")
PROBE = sandbox.probe()
pytestmark = pytest.mark.skipif(
    not (PROBE.root and PROBE.bwrap and PROBE.setpriv),
    reason="the hostile suite needs the whole sandbox: root, setpriv and a working bubblewrap "
           f"({PROBE.bwrap_problem or 'not root'})")


@dataclass
class Graded:
    name: str
    impl_root: Path
    result: LabResult
    seconds: float
    uid: int | None
    leftovers: list[str]
    sentinel_alive: bool | None


def fingerprint(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def filtered_bats(kit: Path) -> Path:
    """Lab 01's test file with only RUN_TESTS, in a copy of the kit's layout that loads the
    kit's own harness (labs/lib)."""
    source = (KIT / "labs" / LAB / "tests" / "tcp-hello.bats").read_text()
    head, *blocks = source.split("\n@test ")
    kept = [b for b in blocks if any(b.startswith(f'"[{t}]') for t in RUN_TESTS)]
    assert len(kept) == len(RUN_TESTS), "lab 01's tests were renamed: update RUN_TESTS"
    tests = kit / "labs" / LAB / "tests"
    tests.mkdir(parents=True)
    (kit / "labs" / "lib").symlink_to(KIT / "labs" / "lib")
    (tests / "hostile.bats").write_text("\n@test ".join([head, *kept]))
    return tests


def assemble(name: str, root: Path) -> Path:
    """A student's tree: the skeleton's lab folder with the hostile files over it."""
    impl = root / name / LAB
    shutil.copytree(KIT / "skeletons" / LAB, impl)
    source = KIT / "solutions" / LAB if name == CONTROL else HOSTILE / name / LAB
    for path in source.iterdir():
        text = path.read_text().replace(REF_PLACEHOLDER, str(KIT / "solutions" / LAB))
        (impl / path.name).write_text(text)
    return root / name


def processes(uid: int | None, marker: str) -> dict[int, str]:
    """Processes of the sandbox's user, or whose command line names `marker`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        uids = next((line.split()[1:] for line in status.splitlines()
                     if line.startswith("Uid:")), [])
        if (uid is not None and str(uid) in uids) or marker in cmdline:
            found[int(entry.name)] = cmdline.strip()
    return found


def grade_one(name: str, root: Path, tests: Path, build: Path) -> Graded:
    impl_root = assemble(name, root / "impl")
    plan = sandbox.plan(build, impl_root, KIT, also=(root,))
    sentinel = None
    if name == "kill-all" and plan.uid is not None:
        # Same user as the sandboxed programs, outside their namespaces: must survive.
        sentinel = subprocess.Popen(["setpriv", f"--reuid={plan.uid}", f"--regid={plan.uid}",
                                     "--clear-groups", "sleep", "600"])
    config = RunConfig(impl_root=impl_root, build_dir=build, outer=plan.outer, wrap=plan.wrap,
                       tests_dirs=(str(tests),))
    started = time.monotonic()
    result = run_lab(MANIFEST, MANIFEST.find(LAB), config)
    seconds = time.monotonic() - started
    sentinel_alive = None
    if sentinel is not None:
        sentinel_alive = sentinel.poll() is None
        sentinel.kill()
        sentinel.wait()
    end = time.monotonic() + GONE_DEADLINE_S
    left = processes(plan.uid, str(impl_root))
    while left and time.monotonic() < end:
        time.sleep(0.1)
        left = processes(plan.uid, str(impl_root))
    return Graded(name, impl_root, result, seconds, plan.uid,
                  [f"{pid}: {cmd}" for pid, cmd in left.items()], sentinel_alive)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Graded]:
    root = tmp_path_factory.mktemp("hostile")
    tests = filtered_bats(root / "kit")
    build = root / "build"
    build.mkdir()
    kit_before = fingerprint(KIT / "solutions")
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        runs = list(pool.map(lambda name: grade_one(name, root, tests, build),
                             [CONTROL, *CASES]))
    assert fingerprint(KIT / "solutions") == kit_before, "the reference solutions changed"
    return {run.name: run for run in runs}


def solution_lines() -> set[str]:
    """Lines of the reference that no skeleton or hostile source shares."""
    common: set[str] = set()
    for path in [*(KIT / "skeletons").rglob("*.[ch]"), *HOSTILE.rglob("*.[ch]")]:
        common.update(line.strip() for line in path.read_text().splitlines())
    lines = set()
    for path in (KIT / "solutions" / LAB).glob("*.c"):
        for line in path.read_text().splitlines():
            if len(line.strip()) >= MIN_SOLUTION_LINE and line.strip() not in common:
                lines.add(line.strip())
    return lines


def test_the_reference_keeps_full_marks_in_the_sandbox(graded: dict[str, Graded]) -> None:
    run = graded[CONTROL]
    earned = {t.id: t.status for t in run.result.tests if t.id in RUN_TESTS}
    assert earned == {t: "OK" for t in RUN_TESTS}, json.dumps(run.result.to_dict(), indent=1)


@pytest.mark.parametrize("name", CASES)
def test_hostile_submission_is_contained(graded: dict[str, Graded], name: str) -> None:
    run = graded[name]
    shown = json.dumps(run.result.to_dict(), indent=1, ensure_ascii=False)
    assert run.seconds < RUN_DEADLINE_S, f"{name}: the run took {run.seconds:.0f} s"
    assert len(shown) < RESULT_CAP, f"{name}: a result of {len(shown)} bytes"
    expected = 0 if name == "include-solution" else GIVEN_POINTS
    assert run.result.points == expected, f"{name}: {run.result.points} points, " \
                                          f"expected {expected}:\n{shown}"
    statuses = {t.id: t.status for t in run.result.tests if t.id in RUN_TESTS}
    assert statuses["hello"] == "FAIL", shown
    assert not run.leftovers, f"{name}: still running after the run:\n" + \
        "\n".join(run.leftovers)
    escaped = [p for p in (KIT / MARK, Path("/tmp") / MARK, Path("/dev/shm") / MARK,
                           Path("/") / MARK, run.impl_root / MARK, run.impl_root.parent / MARK)
               if p.exists()]
    escaped += [str(p) for p in run.impl_root.rglob(f"*{MARK}*")]
    assert not escaped, f"{name} wrote outside its scratch folder: {escaped}"
    sources = run.impl_root / LAB
    assert (sources / "server.c").read_text() == assemble_text(name), \
        f"{name} changed its own sources during the run"
    leaked = [line for line in solution_lines() if line in shown]
    assert not leaked, f"{name}: the reference solution shows in the results: {leaked[:3]}"
    if run.sentinel_alive is not None:
        assert run.sentinel_alive, "kill(-1, SIGKILL) killed a process outside the sandbox"


def assemble_text(name: str) -> str:
    return (HOSTILE / name / LAB / "server.c").read_text().replace(
        REF_PLACEHOLDER, str(KIT / "solutions" / LAB))


def test_the_build_cache_holds_nothing_the_programs_wrote(graded: dict[str, Graded]) -> None:
    cache = next(iter(graded.values())).impl_root.parent.parent / "build"   # one, shared
    assert not list(cache.rglob(f"*{MARK}*")), f"a program wrote into {cache}"


def test_no_sandbox_user_is_left_with_processes(graded: dict[str, Graded]) -> None:
    users = {run.uid for run in graded.values() if run.uid is not None}
    assert len(users) == len(graded), "every submission's run has a user of its own"
    left = {uid: processes(uid, f"/{MARK}") for uid in users}
    assert not any(left.values()), left


def test_every_run_was_timed(graded: dict[str, Graded]) -> None:
    times = {name: round(run.seconds) for name, run in graded.items()}
    print("hostile suite, seconds per submission:", times)
    assert all(t < RUN_DEADLINE_S for t in times.values()), times
