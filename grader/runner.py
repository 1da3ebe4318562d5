"""Runs one lab's Bats tests against an implementation and scores the result."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from grader import i18n, sandbox
from grader.i18n import _
from grader.manifest import Lab, Manifest
from grader.results import LabResult, TestResult, failed_everything, score, test_result
from grader.tap import TapError, TapReader, TapResult

STREAM_FORMATTER = Path(__file__).resolve().parent / "bats-stream"   # Bats' extended TAP
LAB_DEADLINE_S = 900     # a whole lab's run; every test also has its own limit in Bats


@dataclass(frozen=True)
class RunConfig:
    impl_root: Path            # a tree of lab folders: skeletons/, solutions/, a student's
    build_dir: Path            # where builds are cached, shared by all labs of a run
    keep_builds: bool = False  # build_dir outlives the run (grader/buildcache.py)
    reference: bool = True     # cross-test against solutions/ when it exists
    wrap: tuple[str, ...] = ()   # the launcher put before every student program (the sandbox)
    outer: tuple[str, ...] = ()   # a command put before the whole Bats run (its namespaces)
    seed: str | None = None
    tests_dirs: tuple[str, ...] = ("tests",)   # with hidden tests: ("tests", "hidden")
    side_by_side: int = 1      # a lab's tests run at once (labs/lib/prerun.bash); 1: in turn


def sandboxed(config: RunConfig, kit_root: Path,
              enabled: bool = True) -> tuple[RunConfig, tuple[str, ...]]:
    """`config` with the sandbox's commands for one student's run (grader/sandbox.py), and a
    warning line for each protection this machine cannot give."""
    chosen = sandbox.plan(config.build_dir, config.impl_root, kit_root, enabled=enabled)
    return replace(config, outer=chosen.outer, wrap=chosen.wrap), chosen.warnings


# A test spends most of its time waiting (deadlines, give-up timers, a server's linger), so one
# student's run keeps this many going per core. tests/repeat.sh -j 4 on 2 cores shows that every
# timing window holds so overcommitted, and -j 8 (30 runs of labs 01-06 on 2026-12-03) that it
# holds for a run of several labs, one a core (labs_at_once); a test that times a speed runs
# alone anyway (labs/lib/prerun.bash). Grading (a class, or Gradescope's one student) runs -j
# labs at once, two a core by default (grading_jobs), each with this many of its tests side by
# side: four times the cores in all, as one student's run of several labs starts (a class of
# copies of the reference: tests/bench/class_bench.py, every copy full marks).
TESTS_PER_CORE = 2


def default_jobs() -> int:
    """The workers a run uses unless told: one per core this process may use."""
    return max(1, len(os.sched_getaffinity(0)))


def grading_jobs() -> int:
    """The student x lab runs a grade keeps going at once unless told (`socklab grade`, the
    Gradescope run): two a core. A lab's tests mostly wait, and its start (builds) and end (its
    longest test) leave a core half idle: a run keeps about 0.6 of a core busy. On 2 cores, a
    class of 20 copies of the complete student, labs 01-06, kept the cores 88% busy at three
    runs and 98% at four (10.0 to 9.2 s a submission); `make class` took 144 s at three, 120 s
    at four, with the same gradebook; 16 copies of lab 08 at four, its speed tests included,
    and every copy full marks (2026-12-04). Each run still keeps TESTS_PER_CORE of its tests
    side by side."""
    return 2 * default_jobs()


def student_jobs() -> int:
    """The workers one student's run (`socklab test`, check, hint, watch) uses unless told."""
    return TESTS_PER_CORE * default_jobs()


def grading_config(impl_root: Path, scratch: Path, hidden: bool,
                   reference: bool = True) -> RunConfig:
    """The run of a grade that counts (`socklab grade`'s class, Gradescope's one student):
    built in `scratch`, never in the build cache (a grade depends on nothing an earlier run
    left behind), each lab with TESTS_PER_CORE of its tests side by side."""
    return RunConfig(impl_root=impl_root, build_dir=scratch / "build", reference=reference,
                     tests_dirs=("tests", "hidden") if hidden else ("tests",),
                     side_by_side=TESTS_PER_CORE)


def labs_at_once(jobs: int, labs: int) -> int:
    """How many labs one student's run (`socklab test`) tests at once, each running `jobs` of
    its tests side by side as it would alone: one lab a core. A lab's tests mostly wait, so a
    lab alone leaves its core half idle; but lab 06 run one test at a time would take 25 s
    while its tests side by side take 7 s, so the labs share the cores rather than the tests
    the workers (six labs: 25 s with four labs of one test each, 19 s with two labs of four).
    Never more than the labs, nor than `jobs` (-j 1: one test at a time in all)."""
    return max(1, min(labs, default_jobs(), jobs))


def longest_first(labs: list[Lab]) -> list[Lab]:
    """The order in which to start `labs` on parallel workers. Later labs run longer (more
    sessions, file transfers with fixed waits: lab 06 alone takes about as long as 01-04
    together), so they start first and the short ones fill the gaps at the end, instead of
    the longest running alone while the other cores idle."""
    return list(reversed(labs))


def bats_command(manifest: Manifest, lab: Lab, config: RunConfig) -> list[str]:
    tests = sorted(str(p) for folder in config.tests_dirs
                   for p in (manifest.lab_dir(lab) / folder).glob("*.bats"))
    # Bats' extended TAP (its `begin` lines tell when a test is complete): results stream
    return [*config.outer, "bats", "--formatter", str(STREAM_FORMATTER), "--timing", *tests]


def kill(proc: subprocess.Popen[str]) -> None:
    """Kills the Bats run's whole process group (it runs in a session of its own)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def announce(lab: Lab, found: TapResult, on_test: Callable[[TestResult], None]) -> None:
    """Passes a finished test's result on, scored, when the manifest lists it."""
    spec = lab.test(found.test_id)
    if spec is not None:
        on_test(test_result(spec, found))


def run_lab(manifest: Manifest, lab: Lab, config: RunConfig,
            on_test: Callable[[TestResult], None] | None = None) -> LabResult:
    """Runs `lab`'s tests and scores the tests `lab` lists (see Lab.without_hidden). With
    `on_test`, each test's result is passed on as soon as Bats reports it, in order."""
    impl = config.impl_root / lab.name
    started = time.monotonic()
    if not impl.is_dir():
        return failed_everything(lab, _("no lab folder {path}").format(path=impl))
    ref = manifest.root / "solutions" / lab.name
    env = dict(os.environ,
               SOCKLAB_IMPL=str(impl.resolve()),
               SOCKLAB_REF=str(ref) if config.reference and ref.is_dir() else "none",
               SOCKLAB_BUILD_DIR=str(config.build_dir),
               SOCKLAB_BUILD_KEEP="1" if config.keep_builds else "",
               SOCKLAB_WRAP=sandbox.ARGV_SEP.join(config.wrap),
               SOCKLAB_TEST_JOBS=str(config.side_by_side),
               **i18n.child_environment())
    if config.seed is not None:
        env["SOCKLAB_SEED"] = config.seed
    try:
        proc = subprocess.Popen(bats_command(manifest, lab, config), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
                                cwd=manifest.root, start_new_session=True, text=True)
    except FileNotFoundError:
        return failed_everything(lab, _("bats is not installed: run `make deps`"))
    reader = TapReader(on_result=None if on_test is None else
                       lambda found: announce(lab, found, on_test))
    err_text: list[str] = []
    err_reader = threading.Thread(target=lambda: err_text.append(proc.stderr.read()
                                                                 if proc.stderr else ""),
                                  daemon=True)
    err_reader.start()
    stopped: list[bool] = []
    deadline = threading.Timer(LAB_DEADLINE_S, lambda: (stopped.append(True), kill(proc)))
    deadline.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:   # as Bats writes it: each result is reported as it comes
            reader.feed(line)
        proc.wait()
    finally:
        deadline.cancel()
        kill(proc)   # nothing of this run may outlive it
    err_reader.join()
    err = "".join(err_text)
    if stopped:
        err += "\n" + _("the lab's tests were stopped after {seconds} s").format(
            seconds=LAB_DEADLINE_S)
    elapsed = time.monotonic() - started
    try:
        run = reader.finish()
    except TapError as error:
        detail = (err.strip().splitlines() or [""])[-1]
        return failed_everything(lab, f"{error}. {detail}".strip(), elapsed)
    result = score(lab, run, elapsed)
    if err.strip() and proc.returncode not in (0, 1):
        result.problems.append(err.strip().splitlines()[-1])
    return result
