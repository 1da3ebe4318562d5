"""The kit's promises about its own labs, checked on every lab in the manifest:

- every reference solution earns full marks;
- every skeleton builds, runs, and earns nothing but its "given" tests;
- every broken implementation (tests/broken/<lab>/<fault>.patch) loses exactly the tests its
  header names: the tests catch each fault, and only the tests that name it;
- every correct variant (tests/variants/<lab>/<style>.patch: the reference written in another
  style, e.g. getaddrinfo, a connected UDP socket, sendmsg, its own wording) earns full marks:
  the tests grade behaviour, not style;
- the folders students and graders rely on are all there, with the same file names.
"""

from __future__ import annotations

import filecmp
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from conftest import KIT, grade
from grader.manifest import load

MANIFEST = load(KIT)
LABS = [lab.name for lab in MANIFEST.labs]
BROKEN = sorted((KIT / "tests" / "broken").glob("*/*.patch"))
VARIANTS = sorted((KIT / "tests" / "variants").glob("*/*.patch"))
RUNS = Path(__import__("tempfile").mkdtemp(prefix="socklab-invariants-"))
# Grader runs kept going at once. One run (`socklab test`: a lab a core, four of its tests side
# by side) leaves the 2 cores about half idle, its tests mostly waiting; the later rounds hold
# two or three labs. Two at once fill the cores, as a class's grade does (runner.grading_jobs).
RUNS_AT_ONCE = 2


@dataclass(frozen=True)
class Broken:
    lab: str
    name: str
    fault: str
    expect_fail: frozenset[str]
    patch: Path


def read_broken(patch: Path) -> Broken:
    """A patch's header: "Fault: ..." (or "Style: ..." for a variant), then "Expect-fail:
    TEST..." (a variant says "Expect: full marks" and expects no failure)."""
    header = dict(line.split(": ", 1) for line in patch.read_text().splitlines()[:2])
    return Broken(patch.parent.name, patch.stem, header.get("Fault", header.get("Style", "")),
                  frozenset(header.get("Expect-fail", "").split()), patch)


Results = dict[str, dict[str, Any]]     # a grader run's labs by name
POOL = ThreadPoolExecutor(max_workers=RUNS_AT_ONCE, thread_name_prefix="invariants")


@pytest.fixture(scope="module", autouse=True)
def pool_stops_with_the_module() -> Iterator[None]:
    """Runs not yet started are dropped when the module ends (a failure under -x, say)."""
    yield
    POOL.shutdown(wait=False, cancel_futures=True)


@cache
def scheduled() -> dict[tuple[str, int], Future[Results]]:
    """Every grader run of this module, started RUNS_AT_ONCE at a time in the order the tests
    ask for them: the reference, the skeleton, then the rounds of broken and of correct
    variants. Each test waits for its own run's results."""
    runs: list[tuple[tuple[str, int], Callable[[], Results]]] = [
        (("solutions", 0), lambda: run_tree("solutions")),
        (("skeletons", 0), lambda: run_tree("skeletons")),
    ]
    for kind in ("broken", "variants"):
        rounds = max(len(patches) for patches in by_lab(kind).values())
        runs += [((kind, k), lambda kind=kind, k=k: run_patched(kind, k)) for k in range(rounds)]
    return {key: POOL.submit(work) for key, work in runs}


def graded(tree: str) -> Results:
    """Every lab of solutions/ or skeletons/, graded once for the whole session."""
    return scheduled()[(tree, 0)].result()


def graded_patched(kind: str, round_number: int) -> Results:
    """Patched references (kind: "broken" or "variants") are graded in rounds: round k holds
    the k-th patch of every lab, so that one grader run tests several labs in parallel."""
    return scheduled()[(kind, round_number)].result()


def run_tree(tree: str) -> Results:
    code, data, out = grade(KIT / tree, [], RUNS / f"{tree}.json", "--hidden")
    assert data, f"socklab test --impl {tree} wrote no results:\n{out}"
    return {lab["name"]: lab for lab in data["labs"]}


def run_patched(kind: str, round_number: int) -> Results:
    tree = RUNS / f"{kind}-{round_number}"
    labs = []
    for lab, patches in by_lab(kind).items():
        if round_number < len(patches):
            patched = patches[round_number]
            shutil.copytree(KIT / "solutions" / lab, tree / lab)
            subprocess.run(["patch", "-s", "-p1", "-i", str(patched.patch)], cwd=tree / lab,
                           check=True, timeout=30)
            labs.append(lab)
    _, data, out = grade(tree, labs, RUNS / f"{kind}-{round_number}.json", "--hidden")
    assert data, out
    return {lab["name"]: lab for lab in data["labs"]}


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


def test_a_fixed_port_server_fails_port_in_use_even_when_that_port_is_taken(
        tmp_path: Path) -> None:
    """A server that binds 8080 whatever PORT says fails [port-in-use] with 8080 free (it
    binds it and runs on) and with 8080 taken (say, by the same server in a test running
    beside it): its bind(2) calls are traced, and the port they name must be PORT."""
    tree = tmp_path / "tree"
    shutil.copytree(KIT / "solutions" / "01-tcp-hello", tree / "01-tcp-hello")
    subprocess.run(["patch", "-s", "-p1", "-i",
                    str(KIT / "tests" / "broken" / "01-tcp-hello" / "ignores-port.patch")],
                   cwd=tree / "01-tcp-hello", check=True, timeout=30)
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            holder.bind(("0.0.0.0", 8080))
            holder.listen()
        except OSError:
            pass   # something else holds 8080: taken either way
        _, data, out = grade(tree, ["01"], tmp_path / "result.json")
    assert data, out
    [test] = [t for t in data["labs"][0]["tests"] if t["id"] == "port-in-use"]
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
