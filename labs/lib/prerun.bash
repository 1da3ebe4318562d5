# prerun.bash — runs a test file's tests side by side, and reports them in order, as Bats would.
# socklab.bash loads it; its setup_file, setup and teardown_file call it.
#
# Bats runs a file's tests one after another. Most of a test's time is waiting (a deadline, a
# give-up timer, a server's linger), so when SOCKLAB_TEST_JOBS is set (the grader sets it;
# unset, Bats runs the tests in turn as always) the file's tests are started together instead,
# that many at once. Even at 1 (a class's run, whose labs fill the cores) the bodies run here:
# Bats runs a test body with a DEBUG trap that records a stack trace before every command,
# which made a lab's bash cost more CPU than its programs (six labs: 43 CPU-s, 27 without it).
#
#   setup_file   prerun_start: a scheduler, in the background, runs each test the run selected
#                (setup, the test's own body, teardown: the very same code), at most
#                SOCKLAB_TEST_JOBS at once, in the file's order. Each one's output, status and
#                time land in $BATS_FILE_TMPDIR/prerun/NAME/. A test whose id is in the file's
#                SOLO_TESTS array (a speed measured against the reference) runs alone. Tests
#                whose ids are in FIRST_TESTS (those that wait out a give-up timer by design:
#                the longest) start before the others, so that the short ones fill the other
#                workers meanwhile and the lab takes about as long as its longest test.
#   each @test   setup calls prerun_replay: it waits for its test's record and reports it as
#                the test's own: its output, then pass, fail or skip. Results still come in
#                the file's order, each as soon as it and those before it are known.
#                Such a test runs none of its own code, so Bats neither times it nor traces it
#                (prerun_no_watchdog, prerun_replay): its limit is its body's, enforced here.
#   teardown_file  prerun_stop: nothing a test started outlives the file.
#
# Every test keeps its own folder, ports (session.py hands out each port once per run) and
# deadline (BATS_TEST_TIMEOUT, enforced here too: prerun_one); a test body cannot see another's
# variables (each runs in its own subshell).

PRERUN_TIMED_OUT=124   # a body's status when it was stopped at its limit (as timeout(1) says)

# prerun_start: from setup_file. Does nothing unless SOCKLAB_TEST_JOBS >= 1 and this Bats
# exposes the list of tests it will run (bats-exec-file's tests_to_run, as Bats 1.8 does:
# Debian 12's); with another Bats, each test runs its own body, in turn.
prerun_start() {
    local jobs=${SOCKLAB_TEST_JOBS:-0} name
    [[ $jobs =~ ^[0-9]+$ ]] && (( jobs >= 1 )) || return 0
    declare -p tests_to_run &>/dev/null && (( ${#tests_to_run[@]} > 0 )) || return 0
    for name in "${tests_to_run[@]}"; do
        declare -F "$name" >/dev/null || return 0   # not a list of test functions after all
    done
    export PRERUN_DIR=$BATS_FILE_TMPDIR/prerun
    # Every test's folder exists before setup_file returns: a test that finds its folder waits
    # for its record there, one that does not (a Bats we do not know) runs its body itself.
    # They appear all at once (a rename), or none does.
    # Each test's harness folder (socklab.bash: harness_python) is made here too, private: one
    # chmod for the file's tests, rather than a mkdir -m process in each.
    local staging=$PRERUN_DIR.new private=() fifos=()
    fifos+=("$staging/ended")   # the scheduler's; `local` expands its words before it sets any
    for name in "${tests_to_run[@]}"; do
        private+=("$staging/$name/tmp/$HARNESS_FOLDER")
        fifos+=("$staging/$name/done" "$staging/$name/status-pipe")
    done
    mkdir -p "${private[@]}" && chmod 0700 "${private[@]}" && mkfifo "${fifos[@]}" \
        && mv -T "$staging" "$PRERUN_DIR" || { unset PRERUN_DIR; return 0; }
    # fd 3 is Bats' report: a background job holding it would keep the formatter waiting.
    prerun_schedule "$jobs" "${tests_to_run[@]}" </dev/null >/dev/null 2>&1 3>&- &
    echo "$!" >"$PRERUN_DIR/scheduler.pid"
}

# prerun_schedule JOBS NAME...: starts each test in turn, FIRST_TESTS first, with at most JOBS
# running; a test in SOLO_TESTS waits until the others have ended, and runs alone.
#
# Each test that ends writes a line to the FIFO $PRERUN_DIR/ended, and the scheduler counts those
# lines; it never asks bash which jobs ended. Bash forgets a background job that has ended as
# soon as it starts another one, and `wait -n` then waits for the next job still running: a free
# worker would stay idle until then.
prerun_schedule() {
    local jobs=$1 name running=0 first=() rest=() ended
    shift
    trap - DEBUG ERR EXIT   # Bats' tracing of setup_file is not wanted here
    exec {ended}<>"$PRERUN_DIR/ended"   # read-write: opening it never blocks
    for name in "$@"; do
        if prerun_listed FIRST_TESTS "$name" && ! prerun_listed SOLO_TESTS "$name"; then
            first+=("$name")
        else
            rest+=("$name")
        fi
    done
    for name in "${first[@]}" "${rest[@]}"; do
        if prerun_listed SOLO_TESTS "$name"; then
            prerun_wait_ended "$ended" 0   # the others end first
            prerun_one "$name" "$ended" &
            running=1
            prerun_wait_ended "$ended" 0   # and it ends before the next starts
            continue
        fi
        prerun_wait_ended "$ended" $(( jobs - 1 ))
        prerun_one "$name" "$ended" &
        running=$(( running + 1 ))
    done
    wait   # every job, ended or not: a plain wait forgets none
    exec {ended}>&-
}

# prerun_wait_ended FD LEFT: reads a line from FD (the `ended` FIFO) for each test that ends,
# until no more than LEFT are running; counts them down in prerun_schedule's `running`.
prerun_wait_ended() {
    while (( running > $2 )); do
        read -r -u "$1" _ || return 0
        running=$(( running - 1 ))
    done
}

# prerun_listed ARRAY NAME: whether test function NAME's id is listed in the file's ARRAY
# (SOLO_TESTS, FIRST_TESTS). Bats names a test's function after its description: a space
# becomes '_', any other character but a letter or a digit -XX (hex): "[speed] 16 MiB ..."
# becomes test_-5bspeed-5d_16_MiB...
prerun_listed() {
    local description id listed
    local -n _pl_ids=$1
    [[ -n ${_pl_ids[*]:-} ]] || return 1
    description=${2#test_}
    printf -v description '%b' "${description//-/\\x}"
    [[ $description =~ ^\[([^]]+)\] ]] || return 1
    id=${BASH_REMATCH[1]}
    for listed in "${_pl_ids[@]}"; do [[ $id == "$listed" ]] && return 0; done
    return 1
}

# prerun_one NAME ENDED: runs test NAME (setup, body, teardown) with a time limit of
# BATS_TEST_TIMEOUT, and records `output`, `status` (its exit status; PRERUN_TIMED_OUT when
# stopped), `skipped` (a skip's reason), `ms` (how long it ran); then wakes a test waiting on
# its `done` FIFO, and tells the scheduler through fd ENDED.
#
# The body's status comes back through the FIFO `status-pipe`, read with a time limit (read -t):
# no watchdog process, and nothing lost when the body ends before this shell looks, as a
# `wait -n` on the body and a watchdog lost it (bash forgets an ended job at its next fork, and
# the test waited out its whole limit).
prerun_one() {
    local name=$1 ended=$2 dir=$PRERUN_DIR/$1 pipe body status started finished wake
    started=${EPOCHREALTIME/./}
    exec {pipe}<>"$dir/status-pipe"
    {
        # A failing body is recorded, not obeyed: without this, the errexit of setup_file,
        # inherited, ended this group before it could say so. (Not `( ... ) || status=$?`:
        # on the left of || bash ignores errexit inside the body too, and its own set -e.)
        set +e
        # the body's own subshell, whose pid prerun_kill is given (it and its children)
        ( echo "$BASHPID" >"$dir/pid"; prerun_body "$name" "$dir" ) >"$dir/output" 2>&1
        echo "$?" >&"$pipe"
    } </dev/null &
    body=$!
    if ! read -r -t "${BATS_TEST_TIMEOUT:-60}" -u "$pipe" status; then
        [[ ! -f $dir/pid ]] || prerun_kill "$(<"$dir/pid")"
        status=$PRERUN_TIMED_OUT
    fi
    wait "$body" 2>/dev/null || true   # a plain wait on one pid: bash keeps its status
    exec {pipe}>&-
    if [[ $status == "$PRERUN_TIMED_OUT" ]]; then
        tr_printf 'the test was stopped after %s s (is something waiting forever?)' \
            "${BATS_TEST_TIMEOUT:-60}" >>"$dir/output"
        echo >>"$dir/output"
    fi
    BATS_TEST_TMPDIR=$dir/tmp teardown   # whatever the body left running: its process groups
    finished=${EPOCHREALTIME/./}
    echo $(( (finished - started) / 1000 )) >"$dir/ms"
    # One write of a few bytes, the record's last: a reader takes a status file that is not
    # empty as complete (no rename, which was a process of its own for every test).
    printf '%s\n' "$status" >"$dir/status"
    # Opened read-write, a FIFO never blocks; a test already waiting has it open and wakes.
    exec {wake}<>"$dir/done"
    echo >&"$wake"
    exec {wake}>&-
    echo >&"$ended"
}

# prerun_body NAME DIR: test NAME's function, as Bats runs it (setup first, `set -e` rules).
# prerun_one starts it as a background job: a subshell of its own, whose children (session.py)
# prerun_kill reaches. A skip is recorded in DIR/skipped.
prerun_body() {
    trap - DEBUG ERR EXIT RETURN
    BATS_TEST_NAME=$1
    BATS_TEST_TMPDIR=$2/tmp
    BATS_EXTENDED_SYNTAX=''   # Bats' `begin` lines belong to the test's report, not here
    PRERUN_BODY=1             # setup: this is the body itself, not the test that reports it
    PRERUN_SKIPPED=$2/skipped
    skip() { printf '%s' "${1:-}" >"$PRERUN_SKIPPED"; exit 0; }
    set -eET
    "$1"
}

# prerun_kill PID: stops PID (a body's subshell) and its children (session.py...).
prerun_kill() {
    pkill -KILL -P "$1" 2>/dev/null || true
    kill -KILL "$1" 2>/dev/null || true
}

# prerun_replaying: whether this Bats process is a test whose body runs in the background
# (prerun_one), so that it only replays the record (prerun_replay).
prerun_replaying() {
    [[ -z ${PRERUN_BODY:-} && -n ${PRERUN_DIR:-} && -n ${BATS_TEST_NAME:-} \
       && -d $PRERUN_DIR/$BATS_TEST_NAME ]]
}

# prerun_no_watchdog: from socklab.bash, as a test file loads it (a file sets its own
# BATS_TEST_TIMEOUT before that: tests/test_prerun.py checks). A test that replays a record
# unsets BATS_TEST_TIMEOUT, so that Bats starts no watchdog for it: its body has the limit
# (prerun_one), and the watchdog raced with such a quick test. Bats 1.8 starts it as a
# subshell that runs `sleep LIMIT` and only then sets the trap by which Bats stops it, so a
# test that ended first signalled it before that trap was set, and its `sleep` ran on, holding
# Bats' report open: the lab's run waited out the whole limit (60 s) after its last test.
prerun_no_watchdog() {
    if prerun_replaying; then unset BATS_TEST_TIMEOUT; fi
    return 0
}

# prerun_replay: from setup. When this test ran in the background, waits for its record and
# ends the test with it (it never returns); otherwise returns, and the test runs here.
prerun_replay() {
    prerun_replaying || return 0
    # Bats' DEBUG trap records a stack trace before every command of the test (here, and in
    # teardown): of no use to a record, whose own messages say what failed.
    trap - DEBUG
    local dir=$PRERUN_DIR/$BATS_TEST_NAME wake status ms reason scheduler
    exec {wake}<>"$dir/done"   # opened before the check: a wake-up after it is not lost
    slurp scheduler "$PRERUN_DIR/scheduler.pid"
    while [[ ! -s $dir/status ]]; do
        # No watchdog of Bats' times this wait (prerun_no_watchdog): should the scheduler be
        # gone without a record (killed), the test fails rather than waits forever.
        if [[ -n $scheduler ]] && ! kill -0 "$scheduler" 2>/dev/null; then
            [[ -s $dir/status ]] && break   # it recorded the test just before it ended
            exec {wake}>&-
            tr_printf 'the test ran in the background, which ended without its result (a socklab bug)'
            echo
            return 1
        fi
        read -r -t 5 -u "$wake" _ || true   # woken by prerun_one; 5 s: a lost wake-up costs 5 s
    done
    exec {wake}>&-
    slurp status "$dir/status"
    slurp ms "$dir/ms"
    # Bats reports the time since BATS_TEST_START_TIME: the body's own time, not the wait.
    BATS_TEST_START_TIME=$(( ${EPOCHREALTIME/./} / 1000 - ${ms:-0} ))
    [[ ! -s $dir/output ]] || cat "$dir/output"   # as it is (a passing test usually said nothing)
    if [[ -f $dir/skipped ]]; then
        slurp reason "$dir/skipped"
        skip "$reason"
    fi
    if [[ $status == 0 ]]; then
        BATS_TEST_COMPLETED=1   # what Bats checks to say `ok`; teardown still runs
        exit 0
    fi
    return 1   # the test failed in the background: its messages are above
}

# prerun_stop: from teardown_file. Ends the scheduler and every body still running, and what
# they started (a run interrupted, or a test stopped by Bats' own timeout).
prerun_stop() {
    [[ -n ${PRERUN_DIR:-} && -f $PRERUN_DIR/scheduler.pid ]] || return 0
    local pid_file pid
    prerun_kill "$(<"$PRERUN_DIR/scheduler.pid")"
    for pid_file in "$PRERUN_DIR"/*/pid; do
        # a test with a status has ended, and its teardown has run (prerun_one)
        [[ -f $pid_file && ! -s ${pid_file%/pid}/status ]] || continue
        pid=$(<"$pid_file")
        prerun_kill "$pid"
        BATS_TEST_TMPDIR=${pid_file%/pid}/tmp teardown
    done
    return 0
}
