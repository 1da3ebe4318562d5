"""The kit's promises about its own labs, checked on every lab in the manifest:

- every reference solution earns full marks;
- every skeleton builds, runs, and earns nothing but its "given" tests; and, run in Korean
  with every failure in full, prints no line in English (the messages of the Bats files, of
  session.py and of the labs' drivers);
- every broken implementation (tests/broken/<lab>/<fault>.patch) loses exactly the tests its
  header names: the tests catch each fault, and only the tests that name it;
- every correct variant (tests/variants/<lab>/<style>.patch: the reference written in another
  style, e.g. getaddrinfo, a connected UDP socket, sendmsg, its own wording) earns full marks:
  the tests grade behaviour, not style;
- the folders students and graders rely on are all there, with the same file names.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from conftest import KIT, grade
from grader.manifest import load
from untranslated import untranslated

MANIFEST = load(KIT)
LABS = [lab.name for lab in MANIFEST.labs]
BROKEN = sorted((KIT / "tests" / "broken").glob("*/*.patch"))
VARIANTS = sorted((KIT / "tests" / "variants").glob("*/*.patch"))
RUNS = Path(__import__("tempfile").mkdtemp(prefix="socklab-invariants-"))
# Grader runs kept going at once, each with RUN_JOBS of its tests side by side (`socklab test
# -j`: a lab a core). The runs are scheduled when the tests are collected and start once the
# tests marked `alone` have ended (conftest.py: beside a hostile student's spinning programs,
# sixteen tests of these runs once failed lab 08's [speed] for a pair as fast as the
# reference's); all but the skeletons' run, the first, which goes on beside them
# (RUNS_WHILE_SPINNING): its programs are stubs, the only tests they must pass ([build] and
# [args]) allow 5 s for an exit that takes milliseconds, and it builds every lab's reference
# into the kit's build cache meanwhile (on a fresh clone nothing is built yet), with CPU the
# spinners would otherwise take for nothing. Then RUNS_BESIDE go on beside the other files'
# tests, twelve tests in all; once this module's tests begin, nothing else runs: RUNS_ALONE,
# sixteen tests, as many as the module kept going when it ran alone (`make test`: 385 s one
# after the other, 260 s side by side, 2026-12-04).
RUNS_WHILE_SPINNING = 1
RUNS_BESIDE = 3
RUNS_ALONE = 4
RUN_JOBS = 2


@dataclass(frozen=True)
class Broken:
    lab: str
    name: str
    fault: str
    expect_fail: frozenset[str]
    patch: Path
    slow: bool


HEADER_KEY = re.compile(r"[A-Z][A-Za-z-]*")
HEADER_KEYS = {"Fault", "Style", "Expect-fail", "Expect", "Slow"}


def patch_header(patch: Path) -> dict[str, str]:
    """A patch's header, its "Key: value" lines before the diff: "Fault: ..." (or "Style: ..."
    for a variant), then "Expect-fail: TEST..." (a variant says "Expect: full marks" and
    expects no failure), and "Slow: why" for a patch whose lab's run is long, 20 s or more as
    measured (a test waits out its deadline; lab 08's speed tests): its round starts among
    the first."""
    header = {}
    for line in patch.read_text().splitlines():
        key, colon, value = line.partition(": ")
        if not colon or not HEADER_KEY.fullmatch(key):
            break
        header[key] = value
    return header


def read_broken(patch: Path) -> Broken:
    header = patch_header(patch)
    return Broken(patch.parent.name, patch.stem, header.get("Fault", header.get("Style", "")),
                  frozenset(header.get("Expect-fail", "").split()), patch, "Slow" in header)


Results = dict[str, dict[str, Any]]     # a grader run's labs by name
POOL = ThreadPoolExecutor(max_workers=RUNS_ALONE, thread_name_prefix="invariants")


class Slots:
    """Lets the runs start one after another in the order they were scheduled (a semaphore
    would let a worker that has just ended a run take the next slot before the runs already
    waiting: the largest rounds once started last, 90 s after their turn), `limit` going on
    at most; the limit may be raised, and once stopped, no run starts."""

    def __init__(self, limit: int) -> None:
        self.changed = threading.Condition()
        self.limit, self.going, self.next_turn, self.stopped = limit, 0, 0, False

    def run(self, turn: int, work: Callable[[], Results]) -> Results:
        with self.changed:
            self.changed.wait_for(lambda: self.stopped or
                                  (turn == self.next_turn and self.going < self.limit))
            if self.stopped:
                raise RuntimeError("not run: the test session has ended")
            self.next_turn += 1
            self.going += 1
            self.changed.notify_all()
        try:
            return work()
        finally:
            with self.changed:
                self.going -= 1
                self.changed.notify_all()

    def allow(self, limit: int) -> None:
        with self.changed:
            self.limit = limit
            self.changed.notify_all()

    def stop(self) -> None:
        with self.changed:
            self.stopped = True
            self.changed.notify_all()


SLOTS = Slots(0)    # none until start() or the module's tests begin


def start(at_once: int) -> None:
    """Schedules every run of the module, `at_once` of them going on at most (0: not yet)."""
    scheduled()
    SLOTS.allow(at_once)


def stop() -> None:
    """No run starts any more (the session ends, or the module): the runs not yet started are
    dropped, and those going on end on their own, bounded by their deadlines. Once every run
    has ended, their folder (RUNS) goes; a session cut short leaves it to the runs still on."""
    SLOTS.stop()
    POOL.shutdown(wait=False, cancel_futures=True)
    runs = scheduled().values() if scheduled.cache_info().currsize else []
    if all(run.done() for run in runs):
        shutil.rmtree(RUNS, ignore_errors=True)


@pytest.fixture(scope="module", autouse=True)
def pool_stops_with_the_module() -> Iterator[None]:
    """The module's tests begin: the other files' are done (conftest.py puts them first), so
    RUNS_ALONE runs may go on. Runs not yet started are dropped when the module ends (a
    failure under -x, say)."""
    SLOTS.allow(RUNS_ALONE)
    yield
    stop()


@cache
def scheduled() -> dict[tuple[str, int], Future[Results]]:
    """Every grader run of this module, started as SLOTS allow: the skeleton's first (it may
    go on beside the `alone` tests: RUNS_WHILE_SPINNING), then the longest first, so that
    the short runs fill the slots at the end: the reference (every lab), then the rounds
    that hold a slow patch (a round lasts as long as its slowest lab), each group by its
    number of labs (the last rounds hold lab 01 alone, which has the most patches). A slow
    round left to the end kept the suite going 15 s after every other run had ended
    (2026-12-04). Each test waits for its own run's results."""
    runs: list[tuple[bool, int, tuple[str, int], Callable[[], Results]]] = [
        (True, len(LABS), ("solutions", 0), lambda: run_tree("solutions")),
        (True, len(LABS), ("skeletons", 0), lambda: run_tree("skeletons")),
    ]
    for kind in ("broken", "variants"):
        rounds = max(len(patches) for patches in by_lab(kind).values())
        runs += [(any(by_lab(kind)[lab][k].slow for lab in labs_of_round(kind, k)),
                  len(labs_of_round(kind, k)), (kind, k),
                  lambda kind=kind, k=k: run_patched(kind, k)) for k in range(rounds)]
    runs.sort(key=lambda run: (run[2] != ("skeletons", 0), not run[0], -run[1]))   # stable
    return {key: POOL.submit(SLOTS.run, turn, work)
            for turn, (_, _, key, work) in enumerate(runs)}


def graded(tree: str) -> Results:
    """Every lab of solutions/ or skeletons/, graded once for the whole session."""
    return scheduled()[(tree, 0)].result()


def graded_patched(kind: str, round_number: int) -> Results:
    """Patched references (kind: "broken" or "variants") are graded in rounds: round k holds
    the k-th patch of every lab, so that one grader run tests several labs in parallel."""
    return scheduled()[(kind, round_number)].result()


# Each tree's run's exit status and the text it printed, kept for the tests (filled before its
# results are ready).
OUTPUT: dict[str, tuple[int, str]] = {}
# The skeletons run in Korean, every failure shown in full (-v, under a Korean locale): their
# failures bring out every message of the harness, and one run serves both kinds of test.
TREE_RUNS = {"solutions": ((), {}), "skeletons": (("-v",), {"LANG": "ko_KR.UTF-8"})}


def run_tree(tree: str) -> Results:
    extra, env = TREE_RUNS[tree]
    code, data, out = grade(KIT / tree, [], RUNS / f"{tree}.json", "--hidden",
                            "-j", str(RUN_JOBS), *extra, env=env)
    assert data, f"socklab test --impl {tree} wrote no results:\n{out}"
    OUTPUT[tree] = code, out
    return {lab["name"]: lab for lab in data["labs"]}


def run_patched(kind: str, round_number: int) -> Results:
    tree = RUNS / f"{kind}-{round_number}"
    labs = labs_of_round(kind, round_number)
    for lab in labs:
        patched = by_lab(kind)[lab][round_number]
        shutil.copytree(KIT / "solutions" / lab, tree / lab)
        subprocess.run(["patch", "-s", "-p1", "-i", str(patched.patch)], cwd=tree / lab,
                       check=True, timeout=30)
    _, data, out = grade(tree, labs, RUNS / f"{kind}-{round_number}.json", "--hidden",
                         "-j", str(RUN_JOBS))
    assert data, out
    return {lab["name"]: lab for lab in data["labs"]}


def labs_of_round(kind: str, round_number: int) -> list[str]:
    """The labs that have a round_number-th patch of `kind`."""
    return [lab for lab, patches in by_lab(kind).items() if round_number < len(patches)]


@cache
def by_lab(kind: str) -> dict[str, list[Broken]]:
    grouped: dict[str, list[Broken]] = {}
    for patch in BROKEN if kind == "broken" else VARIANTS:
        broken = read_broken(patch)
        grouped.setdefault(broken.lab, []).append(broken)
    return grouped


def failures(lab: dict[str, Any]) -> str:
    return "\n".join(f"  {t['id']}: {t['reason']}" for t in lab["tests"] if t["status"] != "OK")


@pytest.mark.parametrize("lab", LABS)
def test_reference_solution_earns_full_marks(lab: str) -> None:
    result = graded("solutions")[lab]
    assert result["points"] == result["max_points"] > 0, failures(result)
    assert not result["problems"], result["problems"]


@pytest.mark.parametrize("lab", LABS)
def test_skeleton_earns_only_its_given_tests(lab: str) -> None:
    result = graded("skeletons")[lab]
    spec = MANIFEST.find(lab)
    given = {t.id for t in spec.tests if t.kind == "given"}
    passed = {t["id"] for t in result["tests"] if t["status"] == "OK"}
    assert "build" in given and passed == given, failures(result)
    for test in result["tests"]:
        if test["status"] == "FAIL":
            assert test["reason"], f"{lab} {test['id']} failed without saying why"


def test_a_korean_run_of_every_skeleton_shows_no_untranslated_line() -> None:
    """The skeletons' run above, in Korean, every failure in full: the messages of the Bats
    files, of session.py and of the labs' drivers (chatroom.py, tftppeer.py) all come in
    Korean (tests/untranslated.py says what counts as English)."""
    graded("skeletons")
    code, out = OUTPUT["skeletons"]
    lines = out.splitlines()
    assert code == 1 and any(line.startswith("총점:") for line in lines), out[-4000:]
    left = untranslated(lines)
    assert not left, "lines left in English:\n" + "\n".join(left)


@pytest.mark.parametrize("patch", BROKEN, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_broken_implementation_loses_exactly_its_fault(patch: Path) -> None:
    broken = read_broken(patch)
    assert broken.expect_fail, f"{patch.name}: Expect-fail names no test"
    known = {t.id for t in MANIFEST.find(broken.lab).tests}
    assert broken.expect_fail <= known, f"{patch.name} names unknown tests"
    result = graded_patched("broken", by_lab("broken")[broken.lab].index(broken))[broken.lab]
    failed = {t["id"] for t in result["tests"] if t["status"] == "FAIL"}
    assert failed == broken.expect_fail, (
        f"{broken.lab} with fault '{broken.fault}':\n"
        f"  should fail: {sorted(broken.expect_fail)}\n  failed:      {sorted(failed)}\n"
        + failures(result))


def test_a_fixed_port_server_is_told_the_port_it_should_bind() -> None:
    """A server that binds 8080 whatever PORT says fails [port-in-use] for the port it bound,
    whether 8080 was free in the run (it binds it and runs on) or held by the same server in a
    test running beside it (its bind fails, and it exits 1 as a correct server would): its
    bind(2) calls are traced, and the message names the port they used. Read from the broken
    round that runs ignores-port.patch."""
    broken = read_broken(KIT / "tests" / "broken" / "01-tcp-hello" / "ignores-port.patch")
    result = graded_patched("broken", by_lab("broken")[broken.lab].index(broken))[broken.lab]
    [test] = [t for t in result["tests"] if t["id"] == "port-in-use"]
    assert test["status"] == "FAIL", test
    assert "should bind the port it was given" in test["reason"], test
    assert "htons(8080)" in "\n".join(test["details"]), test


@pytest.mark.parametrize("patch", VARIANTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_correct_variant_earns_full_marks(patch: Path) -> None:
    variant = read_broken(patch)
    assert variant.fault and not variant.expect_fail, f"{patch.name}: a Style line, no failures"
    result = graded_patched("variants", by_lab("variants")[variant.lab].index(variant))[variant.lab]
    assert result["points"] == result["max_points"], (
        f"{variant.lab} written another way ({variant.fault}) lost points:\n" + failures(result))


def test_every_patch_header_uses_known_keys() -> None:
    """A misspelt key (say "Slwo:") would be read as no key at all."""
    for patch in [*BROKEN, *VARIANTS]:
        unknown = set(patch_header(patch)) - HEADER_KEYS
        assert not unknown, f"{patch}: header lines this module does not know: {sorted(unknown)}"


def test_every_lab_has_every_part() -> None:
    for spec in MANIFEST.labs:
        lab = spec.name
        sources = [f"{tree}/{lab}/{program}.c" for tree in ("skeletons", "solutions")
                   for program in spec.programs]
        for part in (f"labs/{lab}/README.md", f"labs/{lab}/README.ko.md", f"labs/{lab}/tests",
                     *sources):
            assert (KIT / part).exists(), f"{part} is missing"
        skeleton = sorted(p.name for p in (KIT / "skeletons" / lab).iterdir())
        solution = sorted(p.name for p in (KIT / "solutions" / lab).iterdir())
        assert skeleton == solution, f"{lab}: skeletons/ and solutions/ differ in file names"


def test_every_lab_folder_carries_the_same_args_h() -> None:
    reference = KIT / "solutions" / LABS[0] / "args.h"
    for tree in ("skeletons", "solutions"):
        for lab in LABS:
            copy = KIT / tree / lab / "args.h"
            assert filecmp.cmp(reference, copy, shallow=False), f"{copy} differs from {reference}"
