"""The build cache a student's own runs share: `socklab test`, `check`, `hint` and `watch`.

Every run builds the lab's programs, the student's and the reference's (labs/lib/socklab.bash:
build_variant), each in a folder named after what it was built from: the sources' path, names
and contents, and the variant (gcc, clang, asan). Kept in build/cache/STAMP/ between runs, the
reference is built once per kit, and a student's programs again only when their sources change.
STAMP names what else a build depends on: the compilers' and glibc's versions and the build
recipe (labs/lib/socklab.bash, which holds the flags). A build that failed is never kept: it
stays with the run that saw it.

The sandbox shows a student's program its own build folder only, read-only
(grader/sandbox-exec.c), as it does with a run's own temporary cache.

Class grading (`socklab grade`, the Gradescope run) never uses this cache: a grade depends on
nothing an earlier run left behind. `make clean` removes it.

Each opening prunes it: other stamps' folders nobody used for a day, this stamp's builds nobody
used for two weeks and, past the MAX_BUILDS used last, the older ones, and builds left
unfinished (a run that was killed). A build in use is touched when a run looks it up, and
nothing used in the last hour is removed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RECIPE = Path("labs/lib/socklab.bash")     # relative to the kit's root: the flags, the steps
# the compilers and the C library (ldd is glibc's): their versions
TOOLCHAIN = (("gcc", "--version"), ("clang", "--version"), ("ldd", "--version"))
VERSION_DEADLINE_S = 10.0
OTHER_STAMP_AGE_S = 24 * 3600      # a stamp nobody used for a day: an older kit or compiler
BUILD_AGE_S = 14 * 24 * 3600       # a build nobody used for two weeks
IN_USE_S = 3600                    # a build used in the last hour is never removed
UNFINISHED_AGE_S = 3600            # a build folder still unfinished after an hour was killed
MAX_BUILDS = 300                   # about 0.2 MB each: a student's day of saves, and more


def root(kit_root: Path) -> Path:
    return kit_root / "build" / "cache"


def stamp(kit_root: Path) -> str:
    """A short digest of what a build depends on besides its sources."""
    digest = hashlib.sha256((kit_root / RECIPE).read_bytes())
    for command in TOOLCHAIN:
        try:
            found = subprocess.run(command, capture_output=True, timeout=VERSION_DEADLINE_S,
                                   check=False)
            digest.update(found.stdout)
        except (OSError, subprocess.TimeoutExpired):
            digest.update(f"no {command[0]}".encode())
    return digest.hexdigest()[:16]


def age(path: Path, now: float) -> float:
    try:
        return now - path.stat().st_mtime
    except FileNotFoundError:    # pruned by another run at the same moment
        return 0.0


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def prune(cache: Path, now: float | None = None) -> None:
    """Removes what the header says from `cache` (one stamp's folder) and from its siblings."""
    now = time.time() if now is None else now
    for other in cache.parent.iterdir():
        if other != cache and other.is_dir() and age(other, now) > OTHER_STAMP_AGE_S:
            remove(other)
    builds = []
    for entry in cache.iterdir():
        if entry.name.startswith(".tmp."):
            if age(entry, now) > UNFINISHED_AGE_S:
                remove(entry)
        elif entry.is_dir():
            builds.append((age(entry, now), entry))
    builds.sort()
    for rank, (entry_age, entry) in enumerate(builds):
        if entry_age > IN_USE_S and (entry_age > BUILD_AGE_S or rank >= MAX_BUILDS):
            remove(entry)


def reachable_by_all(folder: Path) -> bool:
    """Whether `folder` and every folder leading to it let any user through (o+x)."""
    folder = folder.resolve()
    return all(stat.S_IMODE(step.stat().st_mode) & stat.S_IXOTH
               for step in (folder, *folder.parents))


def open_cache(kit_root: Path) -> Path | None:
    """This kit's cache for the compilers here, pruned; None when it cannot be written (a
    read-only kit), or when root runs the programs as another user (grader/sandbox.py) and a
    folder on the way keeps that user out (a kit in /root): the run then keeps its builds to
    itself, in a temporary folder that user can reach."""
    try:
        cache = root(kit_root) / stamp(kit_root)
        cache.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0 and not reachable_by_all(cache):
            return None
        os.utime(cache)          # in use: other kits' prunes leave it alone
        prune(cache)
    except OSError:
        return None
    return cache


@contextmanager
def build_dir(kit_root: Path) -> Iterator[tuple[Path, bool]]:
    """Where a student's run builds, and whether that folder is kept between runs: this kit's
    cache when it can be used, otherwise a temporary folder removed afterwards."""
    cache = open_cache(kit_root)
    if cache is not None:
        yield cache, True
        return
    with tempfile.TemporaryDirectory(prefix="socklab-build-") as scratch:
        yield Path(scratch), False
