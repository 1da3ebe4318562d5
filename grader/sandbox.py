"""The sandbox that student code runs in: what this machine offers, and the commands to use.

Student code is untrusted: a submission may fork-bomb, kill every process it can, fill the
disk, keep a port after its test, or read the reference solutions and print them. Two layers,
built from Debian's tools (bubblewrap, unshare) and a launcher of our own (setrlimit(2), the
switch to an unprivileged user), keep it in:

outer  one per student x lab: the whole Bats run (Bats, the harness, the reference programs)
       gets its own network namespace with only loopback up, so parallel runs never clash on
       ports and nothing outside is reachable; its own PID namespace, so `kill(-1, SIGKILL)`
       or a fork bomb harms nothing outside; and its own /tmp, so runs never see each other's
       scratch folders. RunConfig.outer.
wrap   one per program: every student program (and the compiler on the student's sources)
       runs through sandbox-exec (grader/sandbox-exec.c, built by launcher() into
       build/sandbox/): its own PID namespace (whatever it forks dies with
       it, daemons included), a mount view holding only the system (/usr, /etc), its own
       build folder (read-only) and its test's scratch folder (the only writable place) —
       no solutions/, no hidden tests, no other student, no grader; an unprivileged user of
       its own (a numeric uid picked per plan, so that RLIMIT_NPROC, which counts per user,
       is this run's alone); and resource limits. RunConfig.wrap, passed to Bats as
       SOCKLAB_WRAP (its words joined with ARGV_SEP; labs/lib/session.py, the one place that
       starts programs, puts it before every program built from a lab).

The wall-clock deadline, the kill of each program's process group and the cap on captured
output are the harness's own (labs/lib/session.py); the sandbox adds what they cannot do.

Where a mechanism is missing (not root, no bubblewrap, no user namespaces), the plan falls
back to what is there and says, one line each, what is not protected.

    plan = sandbox.plan(build_dir, impl_root, kit_root)
    config = RunConfig(..., outer=plan.outer, wrap=plan.wrap)
    for line in plan.warnings: print(f"socklab: {line}", file=sys.stderr)
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from grader.i18n import _, language, locale_dir

KIT_ROOT = Path(__file__).resolve().parent.parent
LAUNCHER_SOURCE = KIT_ROOT / "grader" / "sandbox-exec.c"
LAUNCHER_NAME = "sandbox-exec"
LAUNCHER_FLAGS = ("-std=c11", "-Wall", "-Wextra", "-Werror", "-O2")
LAUNCHER_DEADLINE_S = 120.0
ARGV_SEP = "\x1f"    # joins a command line's words in SOCKLAB_WRAP (as labs/lib/session.py reads it)
PROBE_DEADLINE_S = 20.0

# Limits of every student program (setrlimit(2)). Generous for the labs, tight for abuse.
CPU_SECONDS = 60                # CPU time; the harness's wall-clock deadlines are far shorter
ADDRESS_SPACE = 1 << 30         # bytes of virtual memory (sanitizer builds: resident size)
PROCESSES = 64                  # processes and threads of the program's user (a fork bomb)
FILE_SIZE = 64 << 20            # bytes of any one file it writes
OPEN_FILES = 256                # descriptors
OUTER_TMP_SIZE = 1 << 30        # bytes of the run's private /tmp (scratch folders live there)

# Unprivileged identities: one numeric uid (and gid) per plan, from a range no Debian tool
# hands out (adduser stops at 59999, subordinate ids start at 100000 and grow by 65536).
UID_BASE = 1_900_000_000
UID_SPAN = 1_000_000
# Files a container engine leaves in its containers: podman's, docker's.
CONTAINER_MARKERS = (Path("/run/.containerenv"), Path("/.dockerenv"))


@dataclass(frozen=True)
class Probe:
    """What this machine offers, found once per process."""

    root: bool
    bwrap: str | None           # bubblewrap's path, when it works here
    bwrap_problem: str          # why not, when it does not
    unshare: str | None         # util-linux unshare with ip(8), for the outer without bwrap


@dataclass(frozen=True)
class SandboxPlan:
    outer: tuple[str, ...]      # RunConfig.outer
    wrap: tuple[str, ...]       # RunConfig.wrap (SOCKLAB_WRAP): the launcher's argv
    warnings: tuple[str, ...]   # one line per missing mechanism
    uid: int | None             # the programs' user, when root drops to one
    scratch_root: Path          # where the run's scratch folders are, as the run sees it


def _works(argv: list[str]) -> tuple[bool, str]:
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=PROBE_DEADLINE_S)
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, str(error)
    detail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
    return done.returncode == 0, detail


@cache
def probe() -> Probe:
    """Tries each mechanism once (a few tens of milliseconds); cached for the process."""
    root = os.geteuid() == 0
    bwrap = shutil.which("bwrap")
    problem = _("bubblewrap is not installed (Debian package bubblewrap)")
    if bwrap:
        # The outer's namespaces, and (as a user) a second sandbox inside the first.
        test = [bwrap, "--unshare-net", "--unshare-pid", "--die-with-parent", "--dev-bind",
                "/", "/", "--proc", "/proc", "--", "true"]
        if not root:
            test[-1:] = [bwrap, "--unshare-pid", "--ro-bind", "/", "/", "--", "true"]
        ok, detail = _works(test)
        if not ok:
            problem = namespace_problem(detail, in_container())
            bwrap = None
    unshare = shutil.which("unshare")
    ip = shutil.which("ip")
    if unshare and ip and root and not bwrap:
        ok, _said = _works([unshare, "--net", "--pid", "--fork", "--mount-proc", "--", ip, "link",
                        "set", "lo", "up"])
        unshare = unshare if ok else None
    else:
        unshare = None
    return Probe(root=root, bwrap=bwrap, bwrap_problem=problem if not bwrap else "",
                 unshare=unshare)


class SandboxError(Exception):
    """The launcher cannot be built: nothing can run in the sandbox."""


def launcher() -> Path:
    """The launcher (grader/sandbox-exec.c), compiled the first time a kit needs it into
    build/sandbox/KEY/, KEY a digest of its source and flags. Several socklab runs may build it
    at once: each in a folder of its own, renamed into place (the first rename wins)."""
    source = LAUNCHER_SOURCE.read_bytes()
    key = hashlib.sha256("\0".join(LAUNCHER_FLAGS).encode() + b"\0" + source).hexdigest()[:16]
    folder = KIT_ROOT / "build" / "sandbox" / key
    program = folder / LAUNCHER_NAME
    if program.is_file():
        return program
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=folder.parent))
    try:
        done = subprocess.run(["gcc", *LAUNCHER_FLAGS, "-o", str(partial / LAUNCHER_NAME),
                               str(LAUNCHER_SOURCE)], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=LAUNCHER_DEADLINE_S)
        said = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[0]
    except (OSError, subprocess.TimeoutExpired) as error:
        done, said = None, str(error)
    if done is None or done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise SandboxError(_("the sandbox's launcher ({source}) does not build: {said} "
                             "(make deps installs gcc)"
                             ).format(source=LAUNCHER_SOURCE, said=said))
    # 0755 whatever the umask (mkdtemp made the folder 0700): every user of the kit runs it.
    (partial / LAUNCHER_NAME).chmod(0o755)
    partial.chmod(0o755)
    try:
        partial.rename(folder)
    except OSError:          # another run's build came first: the same program
        shutil.rmtree(partial, ignore_errors=True)
    return program


def in_container(markers: tuple[Path, ...] = CONTAINER_MARKERS) -> bool:
    return any(marker.exists() for marker in markers)


def namespace_problem(detail: str, container: bool) -> str:
    """Why bubblewrap cannot sandbox here, and what would let it. In a container the engine's
    defaults forbid namespaces and mounts (a seccomp profile, dropped capabilities, a masked
    /proc): the container itself must be started otherwise."""
    if container:
        return _("bubblewrap cannot create namespaces inside this container ({detail}): start "
                 "the container with --privileged (docker run or podman run; narrower options "
                 "in docs/instructor-guide.md, 'Details: the dev container')").format(
            detail=detail)
    return _("bubblewrap cannot create namespaces here ({detail}; as a user it needs user "
             "namespaces: sysctl kernel.unprivileged_userns_clone=1)").format(detail=detail)


def _under_tmp(path: Path) -> bool:
    return path.resolve().is_relative_to(Path("/tmp"))


def _outer_bwrap(bwrap: str, keep: list[Path]) -> tuple[str, ...]:
    """A private network (loopback only), PID namespace and /tmp for one Bats run. What the run
    needs from the host's /tmp (its build cache, the tree under test, the kit) is bound back."""
    argv = [bwrap, "--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent",
            "--dev-bind", "/", "/", "--proc", "/proc",
            "--size", str(OUTER_TMP_SIZE), "--perms", "1777", "--tmpfs", "/tmp"]
    for path in dict.fromkeys(keep):   # each once
        if _under_tmp(path) and path.exists():
            real = str(path.resolve())
            argv += ["--bind", real, real]
    argv += ["--setenv", "TMPDIR", "/tmp", "--"]
    return tuple(argv)


def _outer_unshare(unshare: str) -> tuple[str, ...]:
    """Without bubblewrap, as root: util-linux unshare, then loopback up (it starts down)."""
    return (unshare, "--net", "--pid", "--fork", "--kill-child", "--mount-proc", "--",
            "/bin/sh", "-c", 'ip link set lo up && exec "$@"', "socklab-outer")


def plan(build_dir: Path, impl_root: Path, kit_root: Path = KIT_ROOT, enabled: bool = True,
         also: tuple[Path, ...] = ()) -> SandboxPlan:
    """The outer and wrap commands for one run (call it once per student: each call picks a
    fresh user), with a warning line for each protection this machine cannot give. `also`:
    other folders under /tmp that the Bats run needs (the outer hides the host's /tmp)."""
    if not enabled:
        return SandboxPlan((), (), (_("the sandbox is off: student programs run as you, with "
                                      "your files and network"),), None,
                           Path(tempfile.gettempdir()))
    found = probe()
    warnings: list[str] = []
    # Made here: the outer binds back only folders that exist. A grade's build folder, first
    # made inside a run, was in that run's private /tmp: every student x lab built the
    # reference (and the relay) again, ~2 CPU-s a student of labs 01-06.
    build_dir.mkdir(parents=True, exist_ok=True)
    build_dir = build_dir.resolve()
    if found.bwrap:
        # KIT_ROOT: the grader's own files (grader/bats-stream, Bats' formatter), which may
        # live apart from the kit whose labs are graded (a test's small fake kit)
        outer = _outer_bwrap(found.bwrap, [build_dir, impl_root.resolve(), kit_root.resolve(),
                                           KIT_ROOT, *(path.resolve() for path in also)])
        scratch = Path("/tmp")
    elif found.unshare:
        outer = _outer_unshare(found.unshare)
        scratch = Path(tempfile.gettempdir())
        warnings.append(_("sandbox: {problem}: student programs can read every file "
                          "(solutions/ included); Bats runs share /tmp").format(
            problem=found.bwrap_problem))
    else:
        outer = ()
        scratch = Path(tempfile.gettempdir())
        warnings.append(_("sandbox: {problem}, and no private network is possible without it "
                          "as a user: tests share this machine's ports and network, student "
                          "programs can read every file you can and signal your "
                          "processes").format(problem=found.bwrap_problem))
    uid: int | None = None
    wrap = [str(launcher()), "--lang", language(), "--locale", str(locale_dir()),
            "--build-dir", str(build_dir), "--scratch-root", str(scratch),
            "--protect", str(impl_root.resolve()), "--protect", str(kit_root.resolve())]
    if found.root:
        uid = UID_BASE + secrets.randbelow(UID_SPAN)
        wrap += ["--uid", str(uid), "--gid", str(uid)]
    else:
        shown = _("the mount view still hides your files") if found.bwrap else \
            _("they can write your files")
        warnings.append(_("sandbox: not root: student programs run as you (no separate user, "
                          "no process limit: it would count all your processes); {what}"
                          ).format(what=shown))
    wrap += ["--cpu", str(CPU_SECONDS), "--as", str(ADDRESS_SPACE),
             "--fsize", str(FILE_SIZE), "--nofile", str(OPEN_FILES)]
    if uid is not None:   # RLIMIT_NPROC counts every process of the user: only a fresh one
        wrap += ["--nproc", str(PROCESSES)]
    if not found.bwrap:
        wrap.append("--no-bwrap")
    wrap.append("--")
    return SandboxPlan(outer, tuple(wrap), tuple(warnings), uid, scratch)
