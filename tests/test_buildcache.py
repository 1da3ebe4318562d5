"""The build cache a student's runs share (grader/buildcache.py, labs/lib/socklab.bash's
build_variant): a second run of an unchanged lab compiles nothing, an edit rebuilds the
program it touched (both, for a header) and not the reference, a failed build is never kept,
a build in use is touched, pruning removes only what nobody used for long, and root keeps no
cache its sandbox user cannot reach."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import KIT, recording_lab
from grader import buildcache
from grader.runner import RunConfig, run_lab

BATS_DEADLINE_S = 300
DAY_S = 24 * 3600

# A lab whose one test records where the harness put each build, after the sanitizer build.
FAKE_BATS = """
load ../../lib/socklab

@test "[where] the builds' folders" {
    require_build asan || true
    local dir
    for dir in "$IMPL_BIN" "$CLANG_BIN" "$ASAN_BIN" "$REF_BIN"; do
        echo "$dir $(cat "$dir/status" 2>/dev/null || echo none)" >>"$WHERE"
    done
    [[ $(cat "$IMPL_BIN/status") == 0 ]] || { cat "$IMPL_BIN/log"; false; }
}
"""

# Every compiler call goes through these (first in PATH): each appends a line to CALLS, with
# the folder it compiles in (the sources' own).
COMPILER_SHIM = """#!/bin/sh
echo "$(basename "$0") in $(pwd): $*" >>"$CALLS"
exec /usr/bin/$(basename "$0") "$@"
"""

PROGRAM = "int main(void) {{ return {code}; }}\n"


def fake_kit(root: Path) -> Path:
    tests = root / "labs" / "00-fake" / "tests"
    tests.mkdir(parents=True)
    (root / "labs" / "lib").symlink_to(KIT / "labs" / "lib")
    (tests / "fake.bats").write_text(FAKE_BATS)
    for tree in ("impl", "ref"):
        (root / tree).mkdir()
        for program in ("server", "client"):
            (root / tree / f"{program}.c").write_text(PROGRAM.format(code=0))
    shims = root / "shims"
    shims.mkdir()
    for compiler in ("gcc", "clang"):
        (shims / compiler).write_text(COMPILER_SHIM)
        (shims / compiler).chmod(0o755)
    return root


def run_bats(root: Path, cache: Path) -> tuple[list[str], dict[str, tuple[str, str]], str]:
    """One Bats run of the fake lab with `cache` kept between runs: the compiler calls it made,
    {variant: (folder, status)} of its builds, and its output."""
    calls, where = root / "calls", root / "where"
    calls.unlink(missing_ok=True)
    where.unlink(missing_ok=True)
    env = {"PATH": f"{root / 'shims'}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
           "CALLS": str(calls), "WHERE": str(where),
           "SOCKLAB_IMPL": str(root / "impl"), "SOCKLAB_REF": str(root / "ref"),
           "SOCKLAB_BUILD_DIR": str(cache), "SOCKLAB_BUILD_KEEP": "1"}
    proc = subprocess.run(["bats", "--tap", str(root / "labs/00-fake/tests/fake.bats")],
                          capture_output=True, text=True, env=env, timeout=BATS_DEADLINE_S,
                          cwd=root)
    folders = {}
    if where.exists():
        for variant, line in zip(("gcc", "clang", "asan", "ref"), where.read_text().splitlines()):
            folder, status = line.split()
            folders[variant] = (folder, status)
    made = calls.read_text().splitlines() if calls.exists() else []
    return made, folders, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fake_kit(tmp_path_factory.mktemp("buildcache"))


def test_a_second_run_of_an_unchanged_lab_compiles_nothing(kit: Path) -> None:
    cache = kit / "cache-unchanged"
    first, folders, out = run_bats(kit, cache)
    assert "ok 1" in out, out
    # gcc: the student's two programs, the reference's two, the sanitizer build's two;
    # clang: the student's two (warnings only)
    assert len([c for c in first if c.startswith("gcc")]) == 6, first
    assert len([c for c in first if c.startswith("clang")]) == 2, first
    assert all(Path(folder).parent == cache for folder, _ in folders.values()), folders
    second, again, out = run_bats(kit, cache)
    assert "ok 1" in out, out
    assert second == [], "a second run of the same sources compiled again: " + repr(second)
    assert again == folders


def test_an_edit_rebuilds_the_program_it_touched_only(kit: Path) -> None:
    cache = kit / "cache-edit"
    run_bats(kit, cache)
    server, header = kit / "impl" / "server.c", kit / "impl" / "common.h"
    server.write_text("/* edited */\n" + PROGRAM.format(code=0))
    try:
        calls, _folders, out = run_bats(kit, cache)
    finally:
        server.write_text(PROGRAM.format(code=0))
    assert "ok 1" in out, out
    assert len(calls) == 3, calls            # gcc, clang and asan of the student's server
    assert all(f" in {kit / 'impl'}:" in call and call.endswith(" server.c") for call in calls), \
        calls
    # a header may be included by either program: both are compiled again
    header.write_text("/* a header */\n")
    try:
        calls, _folders, out = run_bats(kit, cache)
    finally:
        header.unlink()
    assert "ok 1" in out, out
    assert sorted(call.rsplit(" ", 1)[1] for call in calls) == ["client.c"] * 3 + ["server.c"] * 3


def test_a_failed_build_is_never_kept(kit: Path) -> None:
    cache = kit / "cache-failed"
    client = kit / "impl" / "client.c"
    client.write_text("int main(void) { return undeclared; }\n")
    try:
        first, folders, out = run_bats(kit, cache)
        second, _again, out2 = run_bats(kit, cache)
    finally:
        client.write_text(PROGRAM.format(code=0))
    assert "not ok 1" in out and "undeclared" in out, out
    assert folders["gcc"][1] == "1" and folders["ref"][1] == "0", folders
    assert not Path(folders["gcc"][0]).is_relative_to(cache), folders
    assert not Path(folders["asan"][0]).exists(), folders    # where a success would have gone
    kept = sorted(path.name for path in cache.iterdir() if not path.name.startswith("."))
    assert all((cache / name / "status").read_text().strip() == "0" for name in kept), kept
    # the failing client is compiled again (gcc, clang, asan); the server and the reference,
    # successes, are not
    assert "not ok 1" in out2, out2
    assert sorted(call.split()[0] for call in second) == ["clang", "gcc", "gcc"], second
    assert all(call.endswith(" client.c") for call in second), second


def test_a_build_in_use_is_touched(kit: Path) -> None:
    cache = kit / "cache-touched"
    _calls, folders, _out = run_bats(kit, cache)
    long_ago = time.time() - 30 * DAY_S
    for folder, _status in folders.values():
        os.utime(folder, (long_ago, long_ago))
    run_bats(kit, cache)
    for folder, _status in folders.values():
        assert time.time() - Path(folder).stat().st_mtime < 3600, folder


def make_entry(parent: Path, name: str, age_s: float) -> Path:
    entry = parent / name
    entry.mkdir(parents=True)
    (entry / "status").write_text("0\n")
    then = time.time() - age_s
    os.utime(entry, (then, then))
    return entry


def test_pruning_removes_only_what_nobody_used_for_long(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "current"
    cache.mkdir(parents=True)
    old_stamp = make_entry(tmp_path / "cache", "older-kit", 2 * DAY_S)
    young_stamp = make_entry(tmp_path / "cache", "other-kit-now", 60)
    unfinished = make_entry(cache, ".tmp.killed", 2 * 3600)
    building = make_entry(cache, ".tmp.building", 5)
    stale = make_entry(cache, "aaaa-gcc", 15 * DAY_S)
    recent = make_entry(cache, "bbbb-gcc", DAY_S)
    buildcache.prune(cache)
    assert not old_stamp.exists() and not unfinished.exists() and not stale.exists()
    assert young_stamp.exists() and building.exists() and recent.exists()


def test_pruning_keeps_the_builds_used_last_and_any_in_use(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(buildcache, "MAX_BUILDS", 3)
    cache = tmp_path / "cache" / "current"
    cache.mkdir(parents=True)
    # ages in hours: the three used last stay, the older ones go, except one used just now
    entries = {hours: make_entry(cache, f"{hours:04d}-gcc", hours * 3600 + 60)
               for hours in (2, 3, 4, 5, 6)}
    in_use = make_entry(cache, "now-gcc", 10)
    buildcache.prune(cache)
    assert [hours for hours, entry in entries.items() if entry.exists()] == [2, 3]
    assert in_use.exists()


def test_the_stamp_follows_the_recipe(tmp_path: Path) -> None:
    recipe = tmp_path / buildcache.RECIPE
    recipe.parent.mkdir(parents=True)
    recipe.write_text("CFLAGS_STRICT=(-std=c11 -Wall)\n")
    before = buildcache.stamp(tmp_path)
    recipe.write_text("CFLAGS_STRICT=(-std=c11 -Wall -Wextra)\n")
    assert buildcache.stamp(tmp_path) != before
    assert buildcache.stamp(KIT) == buildcache.stamp(KIT)


def test_without_a_writable_cache_a_run_builds_in_a_folder_of_its_own(tmp_path: Path) -> None:
    # no recipe (a kit without labs/lib): the cache cannot be opened
    with buildcache.build_dir(tmp_path) as (folder, kept):
        assert not kept and folder.is_dir() and not folder.is_relative_to(tmp_path)
    assert not folder.exists()


def test_root_keeps_no_cache_where_the_programs_user_cannot_reach_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """As root, the sandbox runs the programs as another user (grader/sandbox.py): a kit behind
    a folder that keeps others out (0700, like /root) builds in a temporary folder instead."""
    # Not in tmp_path: pytest's own folders are 0700.
    private = Path(tempfile.mkdtemp(prefix="socklab-private-"))
    try:
        kit = private / "kit"
        recipe = kit / buildcache.RECIPE
        recipe.parent.mkdir(parents=True)
        recipe.write_text("CFLAGS_STRICT=(-std=c11)\n")
        monkeypatch.setattr(os, "geteuid", lambda: 0)
        private.chmod(0o700)
        assert buildcache.open_cache(kit) is None
        with buildcache.build_dir(kit) as (folder, kept):
            assert not kept and not folder.is_relative_to(kit)
        private.chmod(0o755)
        assert buildcache.open_cache(kit) == buildcache.root(kit) / buildcache.stamp(kit)
    finally:
        shutil.rmtree(private)


def test_the_grader_tells_bats_the_cache_is_kept(tmp_path: Path) -> None:
    """runner.run_lab passes RunConfig.keep_builds to Bats as SOCKLAB_BUILD_KEEP."""
    manifest, impl, seen = recording_lab(tmp_path, "SOCKLAB_BUILD_KEEP")
    for keep in (True, False):
        config = RunConfig(impl_root=impl, build_dir=tmp_path / "build", keep_builds=keep)
        assert run_lab(manifest, manifest.labs[0], config).tests[0].status == "OK"
    assert seen.read_text().split() == ["x1", "x"]
