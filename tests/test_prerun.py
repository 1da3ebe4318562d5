"""labs/lib/prerun.bash: a lab's tests run side by side (SOCKLAB_TEST_JOBS at once; at 1, in
turn, still outside Bats' own test runner) and are reported as Bats alone reports them: the same
verdicts, messages and skips, in the file's order; each test keeps its deadline and its own
variables; a SOLO_TESTS test runs alone, FIRST_TESTS start before the others; nothing a test
started outlives the run."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import KIT, recording_lab, socklab
from grader import runner
from grader.runner import RunConfig, labs_at_once, run_lab

BATS_DEADLINE_S = 120
TEST_TIMEOUT_S = 3     # the fake file's BATS_TEST_TIMEOUT: [hang] must be stopped at it

# A lab whose tests stamp when they start and end (LOG), so the order they ran in can be read.
FAKE_BATS = f"""
BATS_TEST_TIMEOUT={TEST_TIMEOUT_S}   # before the library loads, as each lab sets its own
load ../../lib/socklab

PROGRAMS=(server)
SOLO_TESTS=(alone)
FIRST_TESTS=(last)

stamp() {{ echo "$1 $2 ${{EPOCHREALTIME/./}}" >>"$LOG"; }}

@test "[pass] sleeps a little and passes" {{
    stamp pass start; sleep 1; stamp pass end
}}

@test "[pass2] sleeps a little and passes too" {{
    stamp pass2 start; sleep 1; stamp pass2 end
}}

@test "[fail] fails with a message" {{
    echo "some output of the test"
    fail "expected 1, got 2"
}}

@test "[skip] skips with a reason" {{
    skip "no reference here"
}}

@test "[set-e] a command that fails fails the test, as in Bats" {{
    false
    echo "never printed"
}}

@test "[hang] a test past its time limit is stopped, with what it started" {{
    mkdir -p "$BATS_TEST_TMPDIR/left"
    setsid sleep 300 </dev/null >/dev/null 2>&1 &
    echo "$!" >"$BATS_TEST_TMPDIR/left/pids"
    echo "$!" >"$LOG.left"
    sleep 30
}}

@test "[alone] a solo test runs with no other test" {{
    stamp alone start; sleep 1; stamp alone end
}}

@test "[vars] a test does not see another test's variables" {{
    [[ -z ${{LEAKED:-}} ]]
    LEAKED=1
    stamp vars start; stamp vars end
}}

@test "[vars2] nor they its" {{
    [[ -z ${{LEAKED:-}} ]]
    LEAKED=1
}}

@test "[last] the file's last test, listed in FIRST_TESTS" {{
    stamp last start; stamp last end
}}
"""

Results = dict[str, tuple[str, str]]       # test id -> (verdict, its TAP lines)
Run = tuple[Results, str, Path]            # the results, the whole output, the stamps' log
RESULT = re.compile(r"^(ok|not ok) \d+ \[([\w-]+)\][^#]*(# (skip|timeout).*)?$")


def fake_lab(root: Path, text: str = FAKE_BATS) -> Path:
    """A kit with the real labs/lib and one lab of the tests in `text` (by default, those
    above); returns its Bats file."""
    tests = root / "labs" / "00-fake" / "tests"
    tests.mkdir(parents=True)
    (root / "labs" / "lib").symlink_to(KIT / "labs" / "lib")
    (tests / "fake.bats").write_text(text)
    impl = root / "impl"
    impl.mkdir()
    (impl / "server.c").write_text("int main(void) { return 0; }\n")
    return tests / "fake.bats"


def run_bats(tmp: Path, jobs: int | None, text: str = FAKE_BATS) -> Run:
    """Runs the fake lab of `text` with SOCKLAB_TEST_JOBS=jobs (None: unset, Bats alone):
    {id: (verdict, its message)}, the whole output, and the stamps' log."""
    root = tmp / f"jobs{jobs}"
    bats_file = fake_lab(root, text)
    log = root / "log"
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LOG": str(log),
           "SOCKLAB_IMPL": str(root / "impl"), "SOCKLAB_REF": "none"}
    if jobs is not None:
        env["SOCKLAB_TEST_JOBS"] = str(jobs)
    proc = subprocess.run(["bats", "--tap", str(bats_file)], capture_output=True, text=True,
                          env=env, timeout=BATS_DEADLINE_S, cwd=root)
    results: Results = {}
    current = ""
    for line in proc.stdout.splitlines():
        found = RESULT.match(line)
        if found:
            current = found.group(2)
            verdict = found.group(1) + (f" # {found.group(4)}" if found.group(4) else "")
            results[current] = (verdict, line)
        elif current and line.startswith("# "):
            results[current] = (results[current][0], results[current][1] + "\n" + line)
    return results, proc.stdout + proc.stderr, log


def intervals(log: Path) -> dict[str, tuple[int, int]]:
    stamps: dict[str, dict[str, int]] = {}
    for line in log.read_text().splitlines():
        name, edge, micros = line.split()
        stamps.setdefault(name, {})[edge] = int(micros)
    return {name: (edges["start"], edges["end"]) for name, edges in stamps.items()}


def overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def process_alive(pid: int) -> bool:
    """Whether [hang]'s `sleep 300` still runs as `pid`: its command line, not just its name,
    since pids wrap (32768 here) and a busy machine soon starts another sleep under the same
    pid (a watchdog's)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes() == b"sleep\x00300\x00"
    except OSError:
        return False


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int | None, Run]:
    tmp = tmp_path_factory.mktemp("prerun")
    return {jobs: run_bats(tmp, jobs) for jobs in (None, 1, 3)}


def test_prerun_gives_the_verdicts_of_bats_alone(runs: dict[int | None, Run]) -> None:
    expected = {"pass": "ok", "pass2": "ok", "fail": "not ok", "skip": "ok # skip",
                "set-e": "not ok", "alone": "ok", "vars": "ok", "vars2": "ok", "last": "ok"}
    for jobs, (results, out, _log) in runs.items():
        for test_id, verdict in expected.items():
            assert results[test_id][0] == verdict, f"jobs={jobs}: {out}"
        assert list(results) == list(runs[None][0]), "results must come in the file's order"


def test_prerun_runs_the_bodies_even_one_at_a_time(runs: dict[int | None, Run]) -> None:
    """At SOCKLAB_TEST_JOBS=1 the bodies run outside Bats' test runner too (without its DEBUG
    trap, which costs more than the lab's programs): a failure is replayed."""
    for jobs in (1, 3):
        assert "prerun_replay" in runs[jobs][0]["fail"][1], runs[jobs][1]
    assert "prerun_replay" not in runs[None][0]["fail"][1]


def test_messages_and_output_are_reported_as_they_were_written(
        runs: dict[int | None, Run]) -> None:
    for jobs in (1, 3):
        side, out, _ = runs[jobs]
        assert "# expected 1, got 2" in side["fail"][1], out
        assert "# some output of the test" in side["fail"][1], out
        assert "skip no reference here" in side["skip"][1], out
        assert "never printed" not in out
        for failing in ("fail", "set-e"):   # failed at once, not stopped at the time limit
            assert "stopped after" not in side[failing][1], side[failing][1]
            assert "timeout" not in side[failing][1], side[failing][1]


def test_a_test_past_its_limit_is_stopped_and_what_it_started_is_killed(
        runs: dict[int | None, Run]) -> None:
    for jobs in (None, 1, 3):
        results, out, log = runs[jobs]
        verdict, text = results["hang"]
        assert verdict.startswith("not ok"), out
        # Bats' own timer alone; side by side, prerun's (a replay has none of Bats')
        assert (f"timeout after {TEST_TIMEOUT_S}s" if jobs is None else
                f"stopped after {TEST_TIMEOUT_S} s") in text, out
        assert not process_alive(int(Path(f"{log}.left").read_text())), \
            f"jobs={jobs}: the process [hang] started is still running"


def test_tests_run_side_by_side_and_a_solo_test_alone(runs: dict[int | None, Run]) -> None:
    _, out, log = runs[3]
    ran = intervals(log)
    assert overlap(ran["pass"], ran["pass2"]), f"[pass] and [pass2] ran in turn: {ran}"
    others = [name for name in ran if name != "alone"]
    assert not any(overlap(ran["alone"], ran[name]) for name in others), \
        f"[alone] shared its time with another test: {ran}"


def test_first_tests_start_before_the_others_and_are_reported_in_place(
        runs: dict[int | None, Run]) -> None:
    ran = intervals(runs[1][2])          # one at a time: the order they started in is clear
    assert ran["last"][1] <= ran["pass"][0], f"[last] did not run before [pass]: {ran}"
    for jobs in (1, 3):
        results, out, _log = runs[jobs]
        assert list(results)[-1] == "last", out


def test_in_turn_at_one_job(runs: dict[int | None, Run]) -> None:
    for jobs in (None, 1):
        ran = intervals(runs[jobs][2])
        assert not overlap(ran["pass"], ran["pass2"]), f"jobs={jobs} ran tests at once: {ran}"


def test_one_students_labs_run_one_a_core_each_with_its_tests_side_by_side(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "default_jobs", lambda: 2)     # 2 cores
    assert labs_at_once(jobs=4, labs=6) == 2    # `socklab test`: two labs of 4 tests at once
    assert labs_at_once(jobs=4, labs=1) == 1    # `socklab test 01`, `make check`
    assert labs_at_once(jobs=1, labs=6) == 1    # -j 1: one test at a time in all
    assert labs_at_once(jobs=8, labs=0) == 1


def test_the_grader_tells_bats_how_many(tmp_path: Path) -> None:
    """runner.run_lab passes RunConfig.side_by_side to Bats as SOCKLAB_TEST_JOBS."""
    manifest, impl, seen = recording_lab(tmp_path, "SOCKLAB_TEST_JOBS")
    config = RunConfig(impl_root=impl, build_dir=tmp_path / "build", side_by_side=3)
    result = run_lab(manifest, manifest.labs[0], config)
    assert result.tests[0].status == "OK", result
    assert seen.read_text().strip() == "x3"


def test_a_class_runs_each_labs_tests_side_by_side(tmp_path: Path) -> None:
    """`socklab grade` tells each lab's Bats to run TESTS_PER_CORE of its tests at once: a
    class's labs alone left the cores idle almost half the time (docs/instructor-guide.md)."""
    manifest, impl, seen = recording_lab(tmp_path, "SOCKLAB_TEST_JOBS")
    (tmp_path / "class").mkdir()
    impl.rename(tmp_path / "class" / "alice")
    done = socklab("grade", str(tmp_path / "class"), "-o", str(tmp_path / "out"),
                   "--no-sandbox", root=manifest.root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert seen.read_text().strip() == f"x{runner.TESTS_PER_CORE}"


# The scheduler and prerun_one alone, on test functions of their own: tests that end at once
# (bash forgets a job that ended as soon as it starts another, so anything that waits with
# `wait -n` may wait for the wrong one), among tests that take a second.
SCHEDULER = """
set -e   # as Bats runs setup_file, which starts the scheduler
source "$1/labs/lib/prerun.bash"
BATS_FILE_TMPDIR=$2 BATS_TEST_TIMEOUT=$3 SOCKLAB_TEST_JOBS=2
teardown() { :; }
tests_to_run=()
for i in $(seq 1 100); do eval "instant$i() { :; }"; tests_to_run+=("instant$i"); done
slow1() { echo "slow1 ${EPOCHREALTIME/./}"; sleep 1; echo "slow1 ${EPOCHREALTIME/./}"; }
slow2() { echo "slow2 ${EPOCHREALTIME/./}"; sleep 1; echo "slow2 ${EPOCHREALTIME/./}"; }
failing() { false; }
tests_to_run+=(slow1 slow2 failing)
prerun_start   # the scheduler, in the background, as setup_file starts it
wait
"""


def test_no_test_waits_out_its_limit_and_no_worker_idles(tmp_path: Path) -> None:
    """Every test is recorded as soon as it ends, whatever the timing: an instant test once
    waited out its whole limit (a class lost a [build] point to it), and a worker stayed idle
    while a test that had ended went unnoticed."""
    limit_s = 20
    script = tmp_path / "scheduler.bash"
    script.write_text(SCHEDULER)
    done = subprocess.run(["bash", str(script), str(KIT), str(tmp_path), str(limit_s)],
                          capture_output=True, text=True, timeout=BATS_DEADLINE_S)
    assert done.returncode == 0, done.stdout + done.stderr
    records = tmp_path / "prerun"
    assert (records / "failing" / "status").is_file(), f"prerun did not start: {done.stderr}"
    for test in sorted(records.iterdir()):
        if test.is_dir():
            status = "1" if test.name == "failing" else "0"
            assert (test / "status").read_text().strip() == status, test.name
            took_ms = int((test / "ms").read_text())
            assert took_ms < limit_s * 1000 / 2, f"{test.name} took {took_ms} ms: it waited " \
                "for its time limit after it had ended (labs/lib/prerun.bash: prerun_one)"
    slow = {name: tuple(int(line.split()[1]) for line in
                        (records / name / "output").read_text().splitlines())
            for name in ("slow1", "slow2")}
    assert overlap(slow["slow1"], slow["slow2"]), \
        f"two workers, yet the two slow tests ran in turn: {slow} (prerun_schedule)"


def test_every_grade_that_counts_runs_tests_side_by_side(tmp_path: Path) -> None:
    """`socklab grade` and Gradescope's autograder both take their run from grading_config:
    TESTS_PER_CORE tests side by side, built in the run's own scratch folder, never cached."""
    config = runner.grading_config(tmp_path / "impl", tmp_path / "scratch", hidden=True)
    assert config.side_by_side == runner.TESTS_PER_CORE
    assert config.build_dir == tmp_path / "scratch" / "build" and not config.keep_builds
    assert config.tests_dirs == ("tests", "hidden") and config.reference
    assert runner.grading_config(tmp_path, tmp_path, hidden=False).tests_dirs == ("tests",)


# Quick tests, replayed: Bats 1.8's watchdog of a test (a subshell that starts `sleep LIMIT`,
# then sets the trap by which it is stopped) raced with a replay that ended first, and the
# `sleep` ran on and kept Bats' report open: the run ended only at the limit.
QUICK_LIMIT_S = 40
# Each teardown (the replay's, and prerun_one's after the body) logs the pid of Bats' watchdog
# of the test, if any: the race needs a busy machine to show, the watchdog's start does not.
QUICK_BATS = f"""
BATS_TEST_TIMEOUT={QUICK_LIMIT_S}
load ../../lib/socklab
PROGRAMS=(server)
teardown() {{ echo "watchdog ${{BATS_killer_pid:-none}}" >>"$LOG"; }}
""" + "".join(f'@test "[quick{i}] passes at once" {{ true; }}\n' for i in range(40))


def test_quick_tests_end_the_run_at_once(tmp_path: Path) -> None:
    """No replayed test starts Bats' watchdog, nor leaves anything that holds the run until
    its limit."""
    started = time.monotonic()
    results, out, log = run_bats(tmp_path, 2, QUICK_BATS)
    took = time.monotonic() - started
    assert all(verdict == "ok" for verdict, _ in results.values()) and len(results) == 40, out
    watchdogs = log.read_text().split()[1::2]
    assert len(watchdogs) >= 40 and set(watchdogs) == {"none"}, \
        f"Bats started a watchdog for replayed tests: {watchdogs} (prerun_no_watchdog)"
    assert took < QUICK_LIMIT_S / 2, f"40 tests that pass at once took {took:.0f} s: something " \
        "held Bats' report until a time limit (labs/lib/prerun.bash: prerun_no_watchdog)"


# A file whose scheduler is killed at once: tests it had not run have no record.
KILLED_BATS = QUICK_BATS + """
setup_file() {
    prerun_start
    kill -KILL "$(<"$PRERUN_DIR/scheduler.pid")"
}
"""


def test_a_replay_without_a_record_fails_instead_of_waiting(tmp_path: Path) -> None:
    """A replayed test has no watchdog of Bats': when the background run is gone without its
    record, the test says so (within seconds), rather than wait forever."""
    results, out, _ = run_bats(tmp_path, 2, KILLED_BATS)
    failed = [text for verdict, text in results.values() if verdict == "not ok"]
    assert len(results) == 40 and failed, out
    assert all("ended without its result" in text for text in failed), out


def test_each_lab_sets_its_time_limit_before_it_loads_the_library() -> None:
    """labs/lib/socklab.bash reads BATS_TEST_TIMEOUT as it is loaded (prerun_no_watchdog): a
    limit set after the `load` line would bring back Bats' watchdog for every replayed test."""
    for bats_file in sorted(KIT.glob("labs/*/*/*.bats")):
        lines = bats_file.read_text().splitlines()
        first_load = next(i for i, line in enumerate(lines) if line.startswith("load "))
        late = [i + 1 for i, line in enumerate(lines)
                if "BATS_TEST_TIMEOUT=" in line and i > first_load]
        assert not late, f"{bats_file}: BATS_TEST_TIMEOUT set on line {late} after `load`"


def test_a_grade_keeps_two_runs_a_core_going(monkeypatch: pytest.MonkeyPatch) -> None:
    """A grade's runs mostly wait: `socklab grade` (and Gradescope's run) keep two going a
    core, unless told (`-j`)."""
    monkeypatch.setattr(runner, "default_jobs", lambda: 2)     # 2 cores
    assert runner.grading_jobs() == 4
    from grader.cli import parse
    assert parse(["grade", "class"]).jobs == 2 * len(os.sched_getaffinity(0))
    assert parse(["grade", "class", "-j", "1"]).jobs == 1
