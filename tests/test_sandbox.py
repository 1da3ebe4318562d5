"""The sandbox's pieces, one program at a time (tests/test_hostile.py grades whole runs):
what a sandboxed program sees, where it may write, who it runs as, which descriptors it gets,
and the plan's fallbacks and warnings on machines that lack a mechanism."""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import KIT, PYTHON
from grader import i18n, sandbox

PROBE = sandbox.probe()
DEADLINE_S = 60
full_sandbox = pytest.mark.skipif(
    not (PROBE.root and PROBE.bwrap),
    reason=f"needs root and a working bubblewrap ({PROBE.bwrap_problem or 'not root'})")


def in_sandbox(plan: sandbox.SandboxPlan, cwd: Path,
               script: str) -> subprocess.CompletedProcess[str]:
    """Runs `script` (sh) as a student program would run: inside the outer, through the wrap,
    from `cwd` (created first, as Bats does)."""
    inner = f"mkdir -p {cwd} && cd {cwd} && exec {shlex.join(plan.wrap)} /bin/sh -c " \
            f"{shlex.quote(script)}"
    return subprocess.run([*plan.outer, "/bin/bash", "-c", inner], capture_output=True,
                          text=True, timeout=DEADLINE_S, stdin=subprocess.DEVNULL)


@full_sandbox
def test_a_program_sees_only_the_system_and_its_scratch_folder(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    plan = sandbox.plan(build, KIT / "solutions", KIT)
    script = ("id -u; echo ok >written && cat written; ls /; echo ---; "
              f"ls {KIT} 2>&1; cat {KIT}/solutions/01-tcp-hello/server.c 2>&1; "
              "echo x >../escaped; echo x >/tmp/escaped; ip -br link 2>&1 | cut -c1-20")
    done = in_sandbox(plan, Path("/tmp/test-run/work"), script)   # the outer's own /tmp
    lines = done.stdout.splitlines()
    assert lines[0] == str(plan.uid), done.stdout + done.stderr
    assert lines[1] == "ok", "the scratch folder must be writable"
    top = lines[2:lines.index("---")]
    assert set(top) >= {"usr", "etc", "tmp", "proc", "dev"}, top
    assert not set(top) & {"work", "root", "home"}, f"/ shows more than the system: {top}"
    after = done.stdout.split("---", 1)[1]
    assert after.count("No such file or directory") >= 2, "the kit must not be visible"
    assert "Hello from server" not in after, "the reference must not be readable"
    assert done.stderr.count("Permission denied") == 2, "../ and /tmp must not be writable"
    assert lines[-1].startswith("lo"), f"only loopback in the network namespace: {lines[-1]}"


@full_sandbox
def test_a_hidden_file_cannot_be_read_and_only_under_usr(tmp_path: Path) -> None:
    """SOCKLAB_SANDBOX_HIDE (session.py hides libc's debugging file from Valgrind): the file
    cannot be read in the sandbox, a file outside /usr is never hidden, and the program does
    not see the variable."""
    build = tmp_path / "build"
    build.mkdir()
    plan = sandbox.plan(build, KIT / "solutions", KIT)
    inner = ("mkdir -p /tmp/test-run/work && cd /tmp/test-run/work && "
             "SOCKLAB_SANDBOX_HIDE=/usr/include/stdio.h:/etc/passwd exec "
             f"{shlex.join(plan.wrap)} /bin/sh -c "
             + shlex.quote('cat /usr/include/stdio.h >/dev/null 2>&1 && echo read || echo hidden; '
                           'grep -c "^root:" /etc/passwd; echo "${SOCKLAB_SANDBOX_HIDE-unset}"'))
    done = subprocess.run([*plan.outer, "/bin/bash", "-c", inner], capture_output=True,
                          text=True, timeout=DEADLINE_S, stdin=subprocess.DEVNULL)
    assert done.stdout.split() == ["hidden", "1", "unset"], done.stdout + done.stderr


@full_sandbox
def test_programs_get_only_descriptors_0_to_2(tmp_path: Path) -> None:
    """session.py starts programs with 0-2 only; bubblewrap passes on whatever it inherits, so
    this checks the two together: a program writing to descriptor 3 (where Bats reads its
    results) reaches nothing."""
    build = tmp_path / "build"
    build.mkdir()
    plan = sandbox.plan(build, KIT / "solutions", KIT, also=(tmp_path,))
    out = tmp_path / "session"
    bats_fd3 = tmp_path / "fd3"
    program = sandbox.ARGV_SEP.join(["/bin/sh", "-c",
                                     "ls /proc/self/fd >listed; echo ok 1 forged >&3"])
    wrap = sandbox.ARGV_SEP.join(plan.wrap)
    script = (f"mkdir -p /tmp/w && exec 3>{shlex.quote(str(bats_fd3))} && "
              f"SOCKLAB_WRAP={shlex.quote(wrap)} {PYTHON} {KIT}/labs/lib/session.py "
              f"--out {out} --cwd /tmp/w --client {shlex.quote(program)} && cat /tmp/w/listed")
    done = subprocess.run([*plan.outer, "/bin/bash", "-c", script], capture_output=True,
                          text=True, timeout=DEADLINE_S, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert bats_fd3.read_text() == "", "a program reached the harness's descriptor 3"
    listed = sorted(int(fd) for fd in done.stdout.split())
    assert listed == [0, 1, 2, 3], f"descriptors (3 is ls's own directory): {listed}"
    assert "Bad file descriptor" in (out / "client.stderr").read_text()


@full_sandbox
def test_each_plan_has_its_own_user(tmp_path: Path) -> None:
    users = {sandbox.plan(tmp_path, tmp_path, KIT).uid for _ in range(20)}
    assert len(users) == 20
    assert all(u is not None and sandbox.UID_BASE <= u < sandbox.UID_BASE + sandbox.UID_SPAN
               for u in users)


def test_off_means_no_commands_and_one_warning(tmp_path: Path) -> None:
    plan = sandbox.plan(tmp_path, tmp_path, KIT, enabled=False)
    assert plan.outer == () and plan.wrap == () and len(plan.warnings) == 1


@pytest.mark.parametrize("missing", ["bwrap", "root", "everything"])
def test_a_missing_mechanism_is_one_warning_line(tmp_path: Path, missing: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    real = sandbox.Probe(root=True, bwrap="/usr/bin/bwrap", bwrap_problem="", unshare=None)
    fake = {
        "bwrap": replace(real, bwrap=None, bwrap_problem="bubblewrap is not installed",
                         unshare="/usr/bin/unshare"),
        "root": replace(real, root=False),
        "everything": sandbox.Probe(root=False, bwrap=None, bwrap_problem="no bubblewrap",
                                    unshare=None),
    }[missing]
    monkeypatch.setattr(sandbox, "probe", lambda: fake)
    plan = sandbox.plan(tmp_path, tmp_path, KIT)
    expected = {"bwrap": 1, "root": 1, "everything": 2}[missing]
    assert len(plan.warnings) == expected, plan.warnings
    assert all(line.startswith("sandbox: ") and "\n" not in line for line in plan.warnings)
    if missing == "bwrap":
        assert plan.outer[0] == "/usr/bin/unshare" and "--no-bwrap" in plan.wrap
    if missing == "root":
        assert plan.uid is None and "--uid" not in plan.wrap
    if missing == "everything":
        assert plan.outer == () and "--no-bwrap" in plan.wrap and "--nproc" not in plan.wrap


def test_the_build_folder_is_made_and_bound_before_any_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A grade's runs share one build folder (the reference is built once for the class): the
    outer binds back from the host's /tmp only folders that exist, so the plan makes it. Made
    later, inside a run, it was that run's private /tmp's, and every run built it all again."""
    monkeypatch.setattr(sandbox, "probe", lambda: sandbox.Probe(
        root=True, bwrap="/usr/bin/bwrap", bwrap_problem="", unshare=None))
    build = tmp_path / "grade" / "build"
    plan = sandbox.plan(build, tmp_path, KIT)
    assert build.is_dir()
    real = str(build.resolve())
    bound = [plan.outer[i + 1:i + 3] for i, word in enumerate(plan.outer) if word == "--bind"]
    assert (real, real) in bound, plan.outer


@pytest.mark.parametrize("compiler", ["gcc", "clang"])
def test_the_launcher_builds_without_a_warning(compiler: str, tmp_path: Path) -> None:
    done = subprocess.run([compiler, *sandbox.LAUNCHER_FLAGS, "-o", str(tmp_path / "launcher"),
                           str(sandbox.LAUNCHER_SOURCE)], capture_output=True, text=True,
                          timeout=DEADLINE_S, stdin=subprocess.DEVNULL)
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_the_launcher_is_built_once_and_open_to_the_programs_user() -> None:
    """Built into build/sandbox/KEY/ (KEY: its source and flags) and found there afterwards;
    bound into each program's view for its last step, which runs as the program's user."""
    launcher = sandbox.launcher()
    assert launcher.parent.parent == KIT / "build" / "sandbox"
    assert sandbox.launcher() == launcher
    assert launcher.stat().st_mode & 0o777 == 0o755
    assert launcher.parent.stat().st_mode & 0o777 == 0o755
    assert sandbox.plan(launcher.parent, KIT / "solutions", KIT).wrap[0] == str(launcher)


@pytest.mark.parametrize(("args", "english", "korean"), [
    (["--bogus", "--", "true"], "unknown option '--bogus'", "모르는 옵션 '--bogus'"),
    (["--cpu", "ten", "--", "true"], "option --cpu: 'ten' is not a number",
     "옵션 --cpu: 'ten'은(는) 숫자가 아닙니다"),
    (["--uid", "-1", "--", "true"], "option --uid: '-1' is not a number",
     "옵션 --uid: '-1'은(는) 숫자가 아닙니다"),
    (["--cpu"], "option --cpu needs a value", "옵션 --cpu에는 값이 필요합니다"),
    (["--cpu", "1"], "no program to run", "실행할 프로그램이 없습니다"),
    (["--"], "no program to run", "실행할 프로그램이 없습니다"),
])
def test_the_launchers_own_errors_exit_125_in_the_graders_language(
        args: list[str], english: str, korean: str) -> None:
    assert i18n.compile_catalog()[0] is not None
    for language, said in (("en", english), ("ko", korean)):
        done = subprocess.run([str(sandbox.launcher()), "--lang", language, "--locale",
                               str(i18n.locale_dir()), *args], capture_output=True, text=True,
                              timeout=DEADLINE_S, stdin=subprocess.DEVNULL)
        assert (done.returncode, done.stderr) == (125, f"sandbox-exec: {said}\n")


@full_sandbox
def test_a_program_that_cannot_be_found_exits_127(tmp_path: Path) -> None:
    """As a shell says it: the launcher's last step execs the program, or says why not."""
    plan = sandbox.plan(tmp_path, KIT / "solutions", KIT)
    inner = f"mkdir -p /tmp/w && cd /tmp/w && exec {shlex.join(plan.wrap)} no-such-program"
    done = subprocess.run([*plan.outer, "/bin/bash", "-c", inner], capture_output=True,
                          text=True, timeout=DEADLINE_S, stdin=subprocess.DEVNULL)
    assert done.returncode == 127
    assert done.stderr == "sandbox-exec: no-such-program: No such file or directory\n"


def privileges(status: str) -> dict[str, str]:
    """What /proc/self/status says of a process's capabilities, groups and new privileges."""
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    names = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Groups", "Uid",
             "Gid")
    return {name: " ".join(fields[name].split()) for name in names}


def unprivileged(uid: int | None) -> dict[str, str]:
    return {"CapInh": "0" * 16, "CapPrm": "0" * 16, "CapEff": "0" * 16, "CapBnd": "0" * 16,
            "CapAmb": "0" * 16, "NoNewPrivs": "1", "Groups": "",
            "Uid": f"{uid} {uid} {uid} {uid}", "Gid": f"{uid} {uid} {uid} {uid}"}


@full_sandbox
def test_a_program_has_no_capability_group_or_way_to_new_privileges(tmp_path: Path) -> None:
    """The plan's user in every id (real, effective, saved, file system), no supplementary
    group, every capability set empty (the bounding set too: nothing it runs can regain one),
    and no new privileges through a set-user-ID program."""
    plan = sandbox.plan(tmp_path, KIT / "solutions", KIT)
    done = in_sandbox(plan, Path("/tmp/test-run/work"), "cat /proc/self/status")
    assert privileges(done.stdout) == unprivileged(plan.uid), done.stderr


def session_in_sandbox(plan: sandbox.SandboxPlan, tmp_path: Path,
                       client: list[str]) -> Path:
    """Runs `client` as a lab's client through session.py inside the plan's outer, with the
    grader's variables set as a Bats run has them; returns the session folder."""
    out = tmp_path / "session"
    grader_env = "SOCKLAB_REF=/grader-secret SOCKLAB_IMPL=/grader-secret BATS_RUN=secret"
    script = (f"mkdir -p /tmp/w && SOCKLAB_WRAP={shlex.quote(sandbox.ARGV_SEP.join(plan.wrap))} "
              f"{grader_env} {PYTHON} {KIT}/labs/lib/session.py --out {shlex.quote(str(out))} "
              f"--cwd /tmp/w --client {shlex.quote(sandbox.ARGV_SEP.join(client))}")
    done = subprocess.run([*plan.outer, "/bin/bash", "-c", script], capture_output=True,
                          text=True, timeout=DEADLINE_S, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return out


@full_sandbox
def test_a_crash_in_the_sandbox_is_reported_by_its_signal(tmp_path: Path) -> None:
    plan = sandbox.plan(tmp_path, KIT / "solutions", KIT, also=(tmp_path,))
    out = session_in_sandbox(plan, tmp_path, ["/bin/sh", "-c", "kill -SEGV $$"])
    assert (out / "client.status").read_text() == "signal SIGSEGV\n"


@full_sandbox
def test_programs_get_a_clean_environment(tmp_path: Path) -> None:
    plan = sandbox.plan(tmp_path, KIT / "solutions", KIT, also=(tmp_path,))
    out = session_in_sandbox(plan, tmp_path, ["/usr/bin/env"])
    names = {line.split("=", 1)[0] for line in (out / "client.stdout").read_text().splitlines()}
    assert names & {"PATH", "HOME", "TMPDIR"} == {"PATH", "HOME", "TMPDIR"}, names
    assert not {n for n in names if n.startswith(("SOCKLAB", "BATS"))}, names
    assert "grader-secret" not in (out / "client.stdout").read_text()


@full_sandbox
def test_paths_with_spaces_stay_whole(tmp_path: Path) -> None:
    """Command lines travel as words: a build folder and an argument with spaces work."""
    build = tmp_path / "build dir"
    program = build / "one build" / "client"
    program.parent.mkdir(parents=True)
    program.write_text('#!/bin/sh\nprintf "%s|" "$@"\n')
    program.chmod(0o755)
    plan = sandbox.plan(build, KIT / "solutions", KIT, also=(tmp_path,))
    out = session_in_sandbox(plan, tmp_path, [str(program), "two words", "{port}"])
    assert (out / "client.stdout").read_text().startswith("two words|"), \
        (out / "client.stderr").read_text()


def test_in_a_container_the_namespace_warning_says_how_to_start_it(tmp_path: Path) -> None:
    """Where bubblewrap cannot make namespaces inside a container (podman leaves
    /run/.containerenv, docker /.dockerenv), the warning says to start it with --privileged."""
    marker = tmp_path / ".dockerenv"
    assert not sandbox.in_container((marker,))
    marker.touch()
    assert sandbox.in_container((marker,))
    inside = sandbox.namespace_problem("Operation not permitted", container=True)
    outside = sandbox.namespace_problem("Operation not permitted", container=False)
    assert "--privileged" in inside and "--privileged" not in outside
    assert "Operation not permitted" in inside and "unprivileged_userns_clone" in outside
