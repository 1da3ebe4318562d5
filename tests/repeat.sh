#!/usr/bin/env bash
# repeat.sh — proves that labs' tests do not depend on timing luck: runs them again and again.
#
#   tests/repeat.sh LAB... [-n N] [-s SEED] [-j JOBS] [--impl DIR] [--filter REGEX]
#
# LAB is a lab's number or folder name (03, 04-chat-exit). Each run tests the reference
# solutions (or the tree given with --impl) with the next SOCKLAB_SEED — SEED, SEED+1, ...
# (default: a random start) — so that the relay's faults differ from run to run. The first
# failing run stops the loop: its failed tests, its seed and the command that replays it are
# printed, and the exit status is 1. Otherwise a summary line ends the output.
# --filter runs only the tests whose titles match REGEX (Bats' --filter), e.g. lab 07's load
# test alone: tests/repeat.sh 07 -n 20 --filter '\[load\]'.
# -j runs JOBS of a lab's tests at once (SOCKLAB_TEST_JOBS, labs/lib/prerun.bash), as the grader
# does for one student's lab; more than the machine's cores overcommits it, on purpose.
# Builds are cached across runs (one SOCKLAB_BUILD_DIR), so the runs time the tests only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs=20
seed=$(( RANDOM % 10000 + 1 ))
impl_tree="$ROOT/solutions"
labs=()
filter=()
jobs=1

usage() {
    echo "usage: $0 LAB... [-n RUNS] [-s FIRST_SEED] [-j JOBS] [--impl TREE] [--filter REGEX]" >&2
    exit 2
}

while (( $# > 0 )); do
    case $1 in
        -n) runs=${2:-}; shift 2 || usage ;;
        -s) seed=${2:-}; shift 2 || usage ;;
        -j) jobs=${2:-}; shift 2 || usage ;;
        --impl) impl_tree=$(cd "${2:-}" && pwd); shift 2 || usage ;;
        --filter) filter=(--filter "${2:-}"); shift 2 || usage ;;
        -h|--help) usage ;;
        -*) usage ;;
        *)
            matches=("$ROOT"/labs/"$1"*/tests)
            [[ -d ${matches[0]} && ${#matches[@]} == 1 ]] || {
                echo "$0: no single lab matches '$1' in $ROOT/labs" >&2
                exit 2
            }
            labs+=("$(basename "$(dirname "${matches[0]}")")")
            shift ;;
    esac
done
(( ${#labs[@]} > 0 )) || usage
[[ $runs =~ ^[1-9][0-9]*$ && $seed =~ ^[0-9]+$ && $jobs =~ ^[1-9][0-9]*$ ]] || usage
export SOCKLAB_TEST_JOBS=$jobs

work=$(mktemp -d "${TMPDIR:-/tmp}/socklab-repeat.XXXXXX")
trap 'rm -rf "$work"' EXIT
export SOCKLAB_BUILD_DIR="$work/build"

first_seed=$seed
start=$(date +%s.%N)
for (( run = 1; run <= runs; run++, seed++ )); do
    run_start=$(date +%s.%N)
    for lab in "${labs[@]}"; do
        tap="$work/$lab.tap"
        if ! SOCKLAB_SEED=$seed SOCKLAB_IMPL="$impl_tree/$lab" \
                bats --tap "${filter[@]}" "$ROOT/labs/$lab/tests/" >"$tap" 2>&1; then
            echo "run $run/$runs: $lab FAILED with SOCKLAB_SEED=$seed"
            grep -A 80 '^not ok' "$tap" | head -n 200
            echo
            echo "replay: SOCKLAB_SEED=$seed SOCKLAB_TEST_JOBS=$jobs SOCKLAB_IMPL=$impl_tree/$lab" \
                 "bats --tap ${filter[*]} $ROOT/labs/$lab/tests/"
            echo "repeat: FAILED at run $run of $runs ($(( run - 1 )) passed before)"
            exit 1
        fi
    done
    printf 'run %d/%d: ok, SOCKLAB_SEED=%d, %.1f s\n' "$run" "$runs" "$seed" \
        "$(echo "$(date +%s.%N) - $run_start" | bc)"
done
total=$(echo "$(date +%s.%N) - $start" | bc)
printf 'repeat: %d/%d runs passed for %s, seeds %d..%d, -j %d, %.0f s in all (%.1f s a run)\n' \
    "$runs" "$runs" "${labs[*]}" "$first_seed" "$(( seed - 1 ))" "$jobs" "$total" \
    "$(echo "$total / $runs" | bc -l)"
