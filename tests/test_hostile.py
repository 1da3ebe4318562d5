"""Hostile submissions graded through the sandbox (grader/sandbox.py, tests/hostile/).

Two parts, one after the other (some lab-01 servers spin on the CPU: beside them, the class
run's timed tests could lose points they would not lose in a real class). For the same reason
the first part is marked `alone`: test_invariants.py's grader runs start after it (conftest.py).
Its runs begin as soon as the tests are collected (begin_early), beside the sample class's grade
call (test_example_class.py), whose hostile student spins too.

Every lab, every test, graded as a class is. For each lab of labs/labs.toml whose reference
exists, one submission: the reference's server and client with the hostile prologue
(tests/hostile/prologue.h) compiled in front of main(). Outside the sandbox it prints the
reference and exits 1, and it drops marker files in /var/tmp, $HOME, the kit's solutions/ and
labs/, /tmp, /dev/shm and the parent of its working folder; inside, every attempt fails and it
goes on as the reference. All of them are graded in one `socklab grade --hidden` call, as root,
sandbox on, -j at the core count. The checks:

- the call ends in bounded time, and every lab earns full marks on every test, hidden ones
  too: the sandbox contains the prologue, and costs a correct program nothing;
- the prologue does cheat where it can read the reference (a control run outside the sandbox);
- no marker exists anywhere, and no file of the run's users was left in the kit, /var/tmp,
  $HOME, /tmp or /dev/shm;
- no line of any reference solution appears in any output: report.html, class.json, the
  students' JSON, gradebook.csv, the JUnit XML (each read decoded: HTML, JSON, XML escapes);
- nothing is left running: no process of the run's users, none naming the run's folder.

Lab 01's eleven hostile servers (tests/hostile/NAME/01-tcp-hello/), each doing one hostile
thing, the rest of the lab folder from the skeleton, graded on lab 01's build, args and hello
tests next to the reference (the control: the sandbox must not cost a correct submission
anything). For each, the checks are:

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

import csv
import hashlib
import html
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from conftest import KIT, EarlyWork
from grader import sandbox
from grader.manifest import Lab, load
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
SKIPPED = not (PROBE.root and PROBE.bwrap)
pytestmark = pytest.mark.skipif(
    SKIPPED,
    reason="the hostile suite needs the whole sandbox: root and a working bubblewrap "
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


def grade_all(root: Path) -> dict[str, Graded]:
    tests = filtered_bats(root / "kit")
    build = root / "build"
    build.mkdir()
    kit_before = fingerprint(KIT / "solutions")
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        runs = list(pool.map(lambda name: grade_one(name, root, tests, build),
                             [CONTROL, *CASES]))
    assert fingerprint(KIT / "solutions") == kit_before, "the reference solutions changed"
    return {run.name: run for run in runs}


# The first part's runs, begun by conftest.py once the tests are collected (begin_early).
HOSTILE_RUNS = EarlyWork("hostile", grade_all)


def begin_early(items: list[pytest.Item]) -> None:
    if not SKIPPED and any("graded" in item.fixturenames for item in items):
        HOSTILE_RUNS.start()


def end_early() -> None:
    """The session ends (RUN_DEADLINE_S bounds a run going on)."""
    HOSTILE_RUNS.end()


@pytest.fixture(scope="module")
def graded() -> dict[str, Graded]:
    return HOSTILE_RUNS.start().result()


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


@pytest.mark.alone
def test_the_reference_keeps_full_marks_in_the_sandbox(graded: dict[str, Graded]) -> None:
    run = graded[CONTROL]
    earned = {t.id: t.status for t in run.result.tests if t.id in RUN_TESTS}
    assert earned == {t: "OK" for t in RUN_TESTS}, json.dumps(run.result.to_dict(), indent=1)


@pytest.mark.alone
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
    text = "\n".join(strings(run.result.to_dict()))     # escapes undone, as a reader sees it
    leaked = [line for line in solution_lines() if line in text]
    assert not leaked, f"{name}: the reference solution shows in the results: {leaked[:3]}"
    if run.sentinel_alive is not None:
        assert run.sentinel_alive, "kill(-1, SIGKILL) killed a process outside the sandbox"


def assemble_text(name: str) -> str:
    return (HOSTILE / name / LAB / "server.c").read_text().replace(
        REF_PLACEHOLDER, str(KIT / "solutions" / LAB))


@pytest.mark.alone
def test_the_build_cache_holds_nothing_the_programs_wrote(graded: dict[str, Graded]) -> None:
    cache = next(iter(graded.values())).impl_root.parent.parent / "build"   # one, shared
    assert not list(cache.rglob(f"*{MARK}*")), f"a program wrote into {cache}"


@pytest.mark.alone
def test_no_sandbox_user_is_left_with_processes(graded: dict[str, Graded]) -> None:
    users = {run.uid for run in graded.values() if run.uid is not None}
    assert len(users) == len(graded), "every submission's run has a user of its own"
    left = {uid: processes(uid, f"/{MARK}") for uid in users}
    assert not any(left.values()), left


@pytest.mark.alone
def test_every_run_was_timed(graded: dict[str, Graded]) -> None:
    times = {name: round(run.seconds) for name, run in graded.items()}
    print("hostile suite, seconds per submission:", times)
    assert all(t < RUN_DEADLINE_S for t in times.values()), times


# --- every lab, every test: the reference with the hostile prologue, graded as a class --------

PROLOGUE = HOSTILE / "prologue.h"
PROLOGUE_NAME = "socklab_hostile.h"     # its name in the submission (the assembled #include)
STUDENT = "hostile"                     # one student, every lab
SIDES = ("server", "client")
CLASS_DEADLINE_S = 1200     # the whole grade call (measured: 450 s, 9 labs, 2 cores at load 8)
CONTROL_DEADLINE_S = 10     # a control run outside the sandbox exits at once
SAMPLE_S = 0.25             # how often the run's processes are looked at
SEARCH_S = 1.0              # how often a Bats run's private /tmp is searched for markers
SANDBOX_UIDS = range(sandbox.UID_BASE, sandbox.UID_BASE + sandbox.UID_SPAN)
HOME = Path(os.environ.get("HOME") or Path.home())
LEAK_TEXT = "socklab-hostile-control"   # the fake reference's text in the control runs


def class_labs() -> list[Lab]:
    """Every lab of the manifest whose reference exists (labs 07-09 join when they land; a
    server-only lab has a server only)."""
    return [lab for lab in MANIFEST.labs if (KIT / "solutions" / lab.name / "server.c").is_file()]


CLASS_LABS = class_labs()


def c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def with_prologue(source: str, lab: str, side: str, kit: Path = KIT, home: Path = HOME) -> str:
    """`source` (the reference's, unchanged) with the prologue run first: its main() renamed,
    the prologue's own main() after it (tests/hostile/prologue.h says how)."""
    baked = {"HOSTILE_LAB": lab, "HOSTILE_SIDE": side, "HOSTILE_KIT": str(kit),
             "HOSTILE_HOME": str(home)}
    return "".join([
        "#define main socklab_real_main\n#line 1\n",
        source if source.endswith("\n") else source + "\n",
        "#undef main\n",
        *(f"#define {name} {c_string(value)}\n" for name, value in baked.items()),
        f'#include "{PROLOGUE_NAME}"\n'])


def assemble_lab(lab: str, folder: Path, kit: Path = KIT) -> list[str]:
    """The reference's lab folder with the prologue in each side; returns the sides."""
    reference = KIT / "solutions" / lab
    shutil.copytree(reference, folder)
    shutil.copyfile(PROLOGUE, folder / PROLOGUE_NAME)
    sides = [side for side in SIDES if (reference / f"{side}.c").is_file()]
    for side in sides:
        (folder / f"{side}.c").write_text(
            with_prologue((reference / f"{side}.c").read_text(), lab, side, kit))
    return sides


def cmdline(pid: str) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


def real_uid(pid: str) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    uids = next((line.split()[1:] for line in status.splitlines() if line.startswith("Uid:")), [])
    return int(uids[0]) if uids else None


@dataclass
class ClassRun:
    root: Path                  # everything of the run: submissions, output, its TMPDIR
    out: Path
    proc: subprocess.Popen[str]
    started: float
    uids: set[int] = field(default_factory=set)     # the sandbox users seen during the run
    inside: set[str] = field(default_factory=set)   # markers seen in the run's private /tmp
    searched: set[str] = field(default_factory=set)  # the private /tmps searched (namespaces)
    seconds: float = 0.0
    output: str = ""
    leftovers: list[str] = field(default_factory=list)

    def watch(self) -> None:
        """Samples the run's processes until it ends: their users are the sandbox's (the
        launcher's --uid, or a process's own uid in the sandbox's range); the private /tmp of
        each Bats run (the outer sandbox's mount namespace: the working folders' parents are
        there) is searched for markers while it exists."""
        name = str(self.root)
        host = os.readlink("/proc/self/ns/mnt")
        last: dict[str, float] = {}
        while self.proc.poll() is None:
            for pid in filter(str.isdigit, os.listdir("/proc")):
                line = cmdline(pid)
                if name not in line:
                    continue
                self.uids.update(int(uid) for uid in re.findall(r"--uid (\d+)", line))
                uid = real_uid(pid)
                if uid in SANDBOX_UIDS:
                    self.uids.add(uid)
                try:
                    space = os.readlink(f"/proc/{pid}/ns/mnt")
                except OSError:
                    continue
                if uid == 0 and space != host and \
                        time.monotonic() - last.get(space, 0.0) > SEARCH_S:
                    last[space] = time.monotonic()
                    self.searched.add(space)
                    self.inside.update(marks_and_files(Path(f"/proc/{pid}/root/tmp"), set()))
            time.sleep(SAMPLE_S)

    def running(self) -> list[str]:
        """Processes of the run's users, or naming the run's folder."""
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            if int(pid) == os.getpid():
                continue
            line = cmdline(pid)
            if str(self.root) in line or real_uid(pid) in self.uids:
                found.append(f"{pid}: {line.strip()}")
        return found


@pytest.fixture(scope="module")
def class_run(tmp_path_factory: pytest.TempPathFactory) -> ClassRun:
    """`socklab grade --hidden` on the hostile class, watched while it runs."""
    root = tmp_path_factory.mktemp("hostile-class")
    submissions, scratch = root / "submissions", root / "tmp"
    scratch.mkdir()
    for lab in CLASS_LABS:
        assemble_lab(lab.name, submissions / STUDENT / lab.name)
    jobs = len(os.sched_getaffinity(0))
    argv = [str(KIT / "socklab"), "grade", str(submissions), "-o", str(root / "out"),
            "--hidden", "-j", str(jobs)]
    proc = subprocess.Popen(argv, cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            env=dict(os.environ, TMPDIR=str(scratch), NO_COLOR="1"))
    run = ClassRun(root, root / "out", proc, time.monotonic())
    watcher = threading.Thread(target=run.watch, daemon=True)
    watcher.start()
    try:
        run.output, _ = proc.communicate(timeout=CLASS_DEADLINE_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        run.output, _ = proc.communicate()
    run.seconds = time.monotonic() - run.started
    watcher.join()
    end = time.monotonic() + GONE_DEADLINE_S
    run.leftovers = run.running()
    while run.leftovers and time.monotonic() < end:
        time.sleep(0.1)
        run.leftovers = run.running()
    print(f"\nhostile class: {len(CLASS_LABS)} labs graded in {run.seconds:.0f} s (-j {jobs})")
    return run


def class_student(run: ClassRun) -> dict[str, Any]:
    path = run.out / "students" / f"{STUDENT}.json"
    assert path.is_file(), f"the grade call wrote no {path.name}:\n{run.output[-4000:]}"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_the_class_run_ends_in_bounded_time(class_run: ClassRun) -> None:
    assert class_run.seconds < CLASS_DEADLINE_S, \
        f"the grade call took {class_run.seconds:.0f} s:\n{class_run.output[-4000:]}"
    assert class_run.proc.returncode == 0, class_run.output[-4000:]


@pytest.mark.parametrize("lab", [lab.name for lab in CLASS_LABS])
def test_the_prologue_loses_nothing_in_the_sandbox(class_run: ClassRun, lab: str) -> None:
    """Every test of the lab, hidden ones too, as the reference earns them."""
    graded = {found["name"]: found for found in class_student(class_run)["labs"]}
    assert lab in graded, f"{lab} was not graded:\n{class_run.output[-4000:]}"
    result = graded[lab]
    expected = {test.id for test in MANIFEST.find(lab).tests}
    statuses = {test["id"]: test["status"] for test in result["tests"]}
    lost = {test["id"]: f"{test['status']}: {test['reason']}\n" + "\n".join(test["details"])
            for test in result["tests"] if test["status"] != "OK"}
    assert set(statuses) == expected, f"{lab}: tests run {sorted(statuses)}, " \
                                      f"expected {sorted(expected)}"
    assert not lost and result["points"] == result["max_points"], \
        f"{lab}: {result['points']}/{result['max_points']}:\n" + \
        "\n".join(f"[{test_id}] {why}" for test_id, why in lost.items())


def fake_kit(root: Path, labs: list[Lab]) -> Path:
    """A kit holding only solutions/, whose server.c and client.c say LEAK_TEXT."""
    for lab in labs:
        folder = root / "solutions" / lab.name
        folder.mkdir(parents=True)
        for side in SIDES:
            (folder / f"{side}.c").write_text(f"{LEAK_TEXT} {root.name}\n")
    return root


def outside(argv: list[str], cwd: Path, env: dict[str, str],
            keep: list[Path]) -> subprocess.CompletedProcess[str]:
    """Runs `argv` outside the grader's sandbox, but in a throwaway view of /tmp, /var/tmp,
    /dev/shm and $HOME: should the prologue fail to cheat, its markers vanish with the view."""
    view = ["bwrap", "--dev-bind", "/", "/", "--tmpfs", "/var/tmp", "--tmpfs", "/dev/shm",
            "--tmpfs", str(HOME), "--tmpfs", "/tmp", "--ro-bind", str(KIT), str(KIT)]
    for path in keep:
        view += ["--bind", str(path), str(path)]
    return subprocess.run([*view, "--chdir", str(cwd), "--", *argv], cwd="/", env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=CONTROL_DEADLINE_S)


def test_the_prologue_cheats_outside_the_sandbox(tmp_path: Path) -> None:
    """The control: where the reference can be read, each assembled program prints it and
    exits 1, whichever way it finds it ($SOCKLAB_REF, walking up, the kit's path baked in)."""
    baked, walked, named = (fake_kit(tmp_path / name, CLASS_LABS)
                            for name in ("baked", "walked", "named"))
    deep = walked / "work" / "deeper"
    empty = tmp_path / "empty"
    deep.mkdir(parents=True)
    empty.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(HOME)}
    for lab in CLASS_LABS:
        build = tmp_path / "build" / lab.name
        for side in assemble_lab(lab.name, build, kit=baked):
            program = build / side
            done = subprocess.run(["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o",
                                   str(program), f"{side}.c"], cwd=build, capture_output=True,
                                  text=True)
            assert done.returncode == 0, f"{lab.name}/{side}.c:\n{done.stderr}"
            routes = {"named": (empty, dict(env, SOCKLAB_REF=str(named / "solutions" /
                                                                 lab.name))),
                      "walked": (deep, env), "baked": (empty, env)}
            for route, (cwd, route_env) in routes.items():
                ran = outside([str(program)], cwd, route_env, [tmp_path])
                assert ran.returncode == 1 and f"{LEAK_TEXT} {route}" in ran.stderr, \
                    f"{lab.name} {side}, reference found by {route}: exit " \
                    f"{ran.returncode}\n{ran.stderr[-2000:]}"


def marks_and_files(top: Path, uids: set[int], skip: tuple[Path, ...] = (),
                    depth: int | None = None) -> list[str]:
    """Under `top` (`depth` folders down at most): every entry named like a marker, or owned
    by one of `uids`."""
    found = []
    for folder, folders, files in os.walk(top, onerror=lambda error: None):
        here = Path(folder)
        deep = depth is not None and len(here.parts) - len(top.parts) >= depth
        folders[:] = [] if deep else [name for name in folders if here / name not in skip
                                      and not (here == KIT and name == ".git")]
        for name in [*folders, *files]:
            path = here / name
            try:
                owner = path.lstat().st_uid
            except OSError:
                continue
            if MARK in name or owner in uids:
                found.append(f"{path} (uid {owner})")
    return found


def test_no_marker_and_no_file_of_the_run_anywhere(class_run: ClassRun) -> None:
    """Every place the prologue tried, and every place a sandbox user could leave a file."""
    assert class_run.uids, "no sandbox user was seen: the run did not go through the sandbox"
    assert len(class_run.searched) >= len(CLASS_LABS), \
        f"only {len(class_run.searched)} Bats runs' private /tmp were searched"
    found = []
    # $HOME: its own entries (where a marker would be), not the whole tree under it
    for top, depth in ((KIT, None), (Path("/var/tmp"), None), (HOME, 0), (Path("/tmp"), None),
                       (Path("/dev/shm"), None)):
        found += marks_and_files(top, class_run.uids, skip=(class_run.root,), depth=depth)
    found += marks_and_files(class_run.root, set())     # submissions, output: markers only
    found += sorted(class_run.inside)
    assert not found, "the hostile programs left files outside their scratch folders:\n" + \
        "\n".join(found)


def all_solution_lines() -> set[str]:
    """Lines of every lab's reference that no skeleton, hostile source or page shares (the
    labs' READMEs and hints quote some code: that is no leak)."""
    common: set[str] = set()
    shared = [*(KIT / "skeletons").rglob("*.[ch]"), *HOSTILE.rglob("*.[ch]"),
              *(KIT / "labs").rglob("*.md"), KIT / "labs" / "labs.toml",
              *(KIT / "docs").rglob("*.md")]
    for path in shared:
        common.update(line.strip() for line in path.read_text().splitlines())
    return {line.strip() for path in (KIT / "solutions").rglob("*.[ch]")
            for line in path.read_text().splitlines()
            if len(line.strip()) >= MIN_SOLUTION_LINE and line.strip() not in common}


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def decoded(path: Path) -> str:
    """A result file's text as a reader sees it: escapes undone (HTML, JSON, XML, CSV)."""
    raw = path.read_text(errors="replace")
    if path.suffix == ".json":
        return "\n".join(strings(json.loads(raw)))
    if path.suffix == ".xml":
        return "\n".join(text for element in ElementTree.fromstring(raw.encode()).iter()
                         for text in [element.text or "", element.tail or "",
                                      *element.attrib.values()])
    if path.suffix == ".csv":
        return "\n".join(cell for row in csv.reader(raw.splitlines()) for cell in row)
    if path.suffix == ".html":
        return raw + "\n" + html.unescape(raw)
    return raw


def leaks(texts: dict[str, str], lines: set[str]) -> list[str]:
    return [f"{name}: {line}" for name, text in texts.items() for line in sorted(lines)
            if line in text]


def test_the_leak_check_reads_through_escapes(tmp_path: Path) -> None:
    """A solution line with quotes and < & > is found in each output format."""
    line = next(line for line in sorted(all_solution_lines()) if '"' in line)
    line = line + " <&>"
    (tmp_path / "a.json").write_text(json.dumps({"x": [line]}))
    (tmp_path / "a.html").write_text(f"<p>{html.escape(line)}</p>")
    junit = ElementTree.Element("testsuite")
    ElementTree.SubElement(junit, "failure", message=line).text = line
    (tmp_path / "a.xml").write_bytes(ElementTree.tostring(junit))
    with open(tmp_path / "a.csv", "w", newline="") as sink:
        csv.writer(sink).writerow(["x", line])
    texts = {path.name: decoded(path) for path in tmp_path.iterdir()}
    assert len(leaks(texts, {line})) == len(texts), texts


def test_no_solution_line_in_any_class_output(class_run: ClassRun) -> None:
    outputs = sorted(path for path in class_run.out.rglob("*") if path.is_file())
    names = {path.name for path in outputs}
    assert {"report.html", "class.json", "gradebook.csv", f"{STUDENT}.json",
            f"{STUDENT}.xml"} <= names, sorted(names)
    texts = {str(path.relative_to(class_run.out)): decoded(path) for path in outputs}
    texts["the grade call's output"] = class_run.output
    leaked = leaks(texts, all_solution_lines())
    assert not leaked, "the reference solution shows in the results:\n" + "\n".join(leaked[:10])


def test_the_class_run_leaves_nothing_running(class_run: ClassRun) -> None:
    assert not class_run.leftovers, "still running after the grade call:\n" + \
        "\n".join(class_run.leftovers)
