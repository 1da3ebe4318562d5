"""labs/lib/socklab.bash runs mkdir, mkfifo and rm as bash builtins (Debian's bash-builtins) in
every test's shell, and they behave as coreutils' commands do: the same results, the same
failures, and no failure where coreutils' has none (the builtin `mkdir -p` fails when another
process makes the same folder at that moment, and cuts -m's mode by the umask: a class's grade
once lost a lab to the one, lab 08's FIFO test to the other)."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_prerun import run_bats

RACERS = 40     # processes making the same new folders at once

BUILTINS_BATS = f"""
load ../../lib/socklab
PROGRAMS=(server)

@test "[used] each command is the builtin, behind its fallback" {{
    for command in mkdir mkfifo rm; do
        [[ $(type -t "$command") == function ]] || fail "$command: $(type -t "$command")"
        enable -p | grep -qx "enable $command" || fail "$command is not a builtin here"
    done
}}

@test "[race] mkdir -p of the same new folders at once succeeds in every process" {{
    local pids=() pid failed=0
    for i in $(seq {RACERS}); do
        mkdir -p "$BATS_TEST_TMPDIR/race/a/b/c/d" &
        pids+=("$!")
    done
    for pid in "${{pids[@]}}"; do wait "$pid" || failed=$(( failed + 1 )); done
    (( failed == 0 )) || fail "$failed of {RACERS} mkdir -p failed"
    [[ -d $BATS_TEST_TMPDIR/race/a/b/c/d ]]
}}

@test "[fails] what fails still fails, with coreutils' message" {{
    mkdir "$BATS_TEST_TMPDIR/once"
    run mkdir "$BATS_TEST_TMPDIR/once"
    (( status != 0 )) && [[ $output == "mkdir: cannot create directory"*"File exists" ]] \\
        || fail "mkdir of an existing folder: $status, '$output'"
    run mkfifo "$BATS_TEST_TMPDIR/once"
    (( status != 0 )) && [[ $output == "mkfifo: cannot create fifo"*"File exists" ]] \\
        || fail "mkfifo over a folder: $status, '$output'"
    run rm "$BATS_TEST_TMPDIR/missing"
    (( status != 0 )) && [[ $output == "rm: cannot remove"*"No such file or directory" ]] \\
        || fail "rm of a missing file: $status, '$output'"
}}

@test "[works] mkdir -m, mkfifo -m (as given, whatever the umask), rm -f, rm -rf" {{
    local dir=$BATS_TEST_TMPDIR/w
    umask 022
    mkdir -p -m 0777 "$dir/x/y"
    [[ $(stat -c %a "$dir/x/y") == 777 ]] || fail "mkdir -m 0777: $(stat -c %a "$dir/x/y")"
    mkdir -pm 0757 "$dir/z"
    [[ $(stat -c %a "$dir/z") == 757 ]] || fail "mkdir -pm 0757: $(stat -c %a "$dir/z")"
    mkfifo -m 666 "$dir/f"
    [[ -p $dir/f && $(stat -c %a "$dir/f") == 666 ]] || fail "mkfifo -m 666: $(stat -c %a "$dir/f")"
    rm -f "$dir/missing" "$dir/f"
    [[ ! -e $dir/f ]] || fail "rm -f left the FIFO"
    rm -rf "$dir"
    [[ ! -e $dir ]] || fail "rm -rf left $dir"
}}
"""


@pytest.mark.parametrize("jobs", [None, 2])
def test_builtins_behave_as_coreutils(tmp_path: Path, jobs: int | None) -> None:
    results, out, _ = run_bats(tmp_path, jobs, BUILTINS_BATS)
    assert set(results) == {"used", "race", "fails", "works"}, out
    failed = {test: text for test, (verdict, text) in results.items() if verdict != "ok"}
    assert not failed, out
