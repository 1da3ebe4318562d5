# socklab.bash — what every lab's Bats tests share. Load it first:
#
#     load ../../lib/socklab
#
# It finds the implementation under test and the reference, builds both (cached), runs
# sessions through session.py, and asserts on what they recorded, with failure messages that
# say what was expected, what happened, and where to look.
#
# Environment (all optional; the grader sets them):
#   SOCKLAB_IMPL       the lab folder under test          (default: skeletons/<lab>)
#   SOCKLAB_REF        the reference lab folder, or "none" (default: solutions/<lab> if present)
#   SOCKLAB_BUILD_DIR  where builds are cached            (default: Bats' run folder)
#   SOCKLAB_BUILD_KEEP 1: SOCKLAB_BUILD_DIR outlives the run (grader/buildcache.py)
#   SOCKLAB_WRAP       the grader's sandbox launcher, put before every program built from a lab
#                      (words joined with the ASCII unit separator, $'\x1f')
#   SOCKLAB_SEED       the seed of every fault relay (relay_cmd): vary it to try other faults,
#                      set it to the one a failure printed to replay that failure
#   SOCKLAB_TEST_JOBS  how many of the file's tests run at once (prerun.bash; the grader always
#                      sets it, above 1 when it has cores to spare); unset: Bats runs them

bats_require_minimum_version 1.5.0

# A lab's tests make a few hundred folders and FIFOs, and remove as many files (Bats' own `rm`
# of each test's output among them): about 1 ms of CPU each as a process of its own. Debian's
# bash-builtins package has these commands as loadable builtins (grader/install-deps.sh
# installs it); without it, coreutils' programs run as before. The builtins are not the same
# in every case: `mkdir -p` fails when another process makes the same folder at that moment
# (two builds, say), and -m MODE is cut by the umask (coreutils sets MODE as given). So a call
# with -m goes to coreutils' command, and so does any call the builtin fails: coreutils' has the
# last word (and the only message, under its usual name).
# builtin_fits ARG...: whether the builtin may take these arguments (no -m among the options).
builtin_fits() {
    local arg
    for arg; do
        [[ $arg == -- || $arg != -* ]] && return 0
        [[ $arg != -*m* ]] || return 1
    done
    return 0
}
# builtin_or_coreutils COMMAND ARG...: COMMAND's builtin when it fits and succeeds, else
# coreutils' COMMAND.
builtin_or_coreutils() {
    local command=$1
    shift
    { builtin_fits "$@" && builtin "$command" "$@" 2>/dev/null; } ||
        (exec -a "$command" "/usr/bin/$command" "$@")
}
if enable -f /usr/lib/bash/mkdir mkdir 2>/dev/null; then
    mkdir() { builtin_or_coreutils mkdir "$@"; }
fi
if enable -f /usr/lib/bash/mkfifo mkfifo 2>/dev/null; then
    mkfifo() { builtin_or_coreutils mkfifo "$@"; }
fi
if enable -f /usr/lib/bash/rm rm 2>/dev/null; then
    rm() { builtin_or_coreutils rm "$@"; }
fi

# Bats loads this file again in every test's process, where each fork costs ~10 ms (its DEBUG
# trap runs in the child too): paths come from parameter expansion, not $(cd ... && pwd).
# Test files live in labs/NN-slug/tests/ or labs/NN-slug/hidden/ (BATS_TEST_DIRNAME is
# absolute), and load this file as ../../lib/socklab.
_lab_dir=${BATS_TEST_DIRNAME%/*}
if [[ ${BASH_SOURCE[0]} == "$BATS_TEST_DIRNAME/../../lib/socklab.bash" ]]; then
    SOCKLAB_LIB=${_lab_dir%/*}/lib
else
    SOCKLAB_LIB="$(cd "${BASH_SOURCE[0]%/*}" && pwd)"
fi
SOCKLAB_ROOT=${SOCKLAB_LIB%/labs/lib}
LAB=${_lab_dir##*/}
unset _lab_dir
IMPL="${SOCKLAB_IMPL:-$SOCKLAB_ROOT/skeletons/$LAB}"
if [[ -z "${SOCKLAB_REF:-}" && -d "$SOCKLAB_ROOT/solutions/$LAB" ]]; then
    REF="$SOCKLAB_ROOT/solutions/$LAB"
else
    REF="${SOCKLAB_REF:-none}"
fi
BUILD_DIR="${SOCKLAB_BUILD_DIR:-${BATS_RUN_TMPDIR:-/tmp}/socklab-build}"
PYTHON=/usr/bin/python3
USAGE_DEADLINE_S=5        # a program given bad arguments should stop at once
BUILD_WAIT_S=300          # the longest a test waits for the sanitizer build (its own timeout
                          # is usually shorter: a build is seconds, even on a loaded machine)
LINES_SHOWN=40            # lines of output compared line by line in a failure message
# No test may hang the run. A test file that needs longer sets BATS_TEST_TIMEOUT before it
# loads this file.
export BATS_TEST_TIMEOUT="${BATS_TEST_TIMEOUT:-60}"

# --- messages in the student's language -----------------------------------------------------
# Failure messages speak English or Korean, as the grader does (grader/i18n.py): SOCKLAB_LANG
# (the grader always sets it), else the locale the GNU way (LANGUAGE unless the locale is C, then
# the first of LC_ALL, LC_MESSAGES, LANG): a ko one gives Korean. Their fixed text goes through
#     tr_printf FORMAT [ARG...]   printf, FORMAT translated (a printf format: %s for each value,
#                                 %% for a percent sign)
#     tr_text VAR TEXT            VAR gets TEXT translated, as it is (not a format)
# po/extract.py collects the English texts into the catalog (po/ko.po) and gettext(1), from
# gettext-base, translates them with build/locale. In English they cost no fork. In Korean each
# call is a gettext process: about 70 ms inside a Bats test, whose DEBUG trap runs in the child
# too (measured on a loaded 2-core Debian 12 machine, 2026-12-02), so only failure paths call
# them. Contract lines and what the programs printed are never translated.
SOCKLAB_LANGUAGE=${SOCKLAB_LANG:-}
if [[ $SOCKLAB_LANGUAGE != ko && $SOCKLAB_LANGUAGE != en ]]; then
    SOCKLAB_LANGUAGE=en
    _locale=${LC_ALL:-${LC_MESSAGES:-${LANG:-C}}}
    if [[ $_locale != C && $_locale != POSIX && $_locale != C.* ]]; then
        IFS=: read -r -a _wanted <<<"${LANGUAGE:-}"
        for _one in "${_wanted[@]}" "$_locale"; do
            case $_one in ko*) SOCKLAB_LANGUAGE=ko; break ;; en*) break ;; esac
        done
    fi
    unset _locale _wanted _one
fi
SOCKLAB_CATALOG=$SOCKLAB_ROOT/build/locale/ko/LC_MESSAGES/socklab.mo
# The grader compiles the catalog before it runs Bats; a Bats run by hand compiles it here when
# it is missing or older than po/ko.po. Without msgfmt, messages stay in English.
if [[ $SOCKLAB_LANGUAGE == ko && -f $SOCKLAB_ROOT/po/ko.po ]] \
        && [[ ! -f $SOCKLAB_CATALOG || $SOCKLAB_ROOT/po/ko.po -nt $SOCKLAB_CATALOG ]]; then
    { mkdir -p "${SOCKLAB_CATALOG%/*}" && msgfmt -o "$SOCKLAB_CATALOG.$$" "$SOCKLAB_ROOT/po/ko.po" \
        && mv -f "$SOCKLAB_CATALOG.$$" "$SOCKLAB_CATALOG"; } 2>/dev/null \
        || rm -f "$SOCKLAB_CATALOG.$$"
fi

tr_text() {
    local -n _tt_text=$1
    _tt_text=$2
    if [[ $SOCKLAB_LANGUAGE == ko && -f $SOCKLAB_CATALOG ]]; then
        _tt_text=$(LANGUAGE=ko LC_ALL=C.UTF-8 TEXTDOMAIN=socklab \
            TEXTDOMAINDIR="$SOCKLAB_ROOT/build/locale" gettext -- "$2" 2>/dev/null) || _tt_text=$2
    fi
    return 0
}

tr_printf() {
    local _tp_format
    tr_text _tp_format "$1"
    shift
    # shellcheck disable=SC2059  # the format is the message (from the catalog in Korean)
    printf -- "$_tp_format" "$@"
}

# Bats 1.8 times each test with its get_mills_since_epoch, which runs `date` (twice a test:
# 190 processes for six labs). Bash reads the same clock without one ($EPOCHREALTIME, in
# microseconds; the separator is the locale's). Bats defines its own before it loads a test
# file and calls it only after, as the test starts and ends: this one is used. A Bats that no
# longer has the function never calls this one.
get_mills_since_epoch() {
    local now=${EPOCHREALTIME//[!0-9]/}
    printf '%d\n' $(( now / 1000 ))
}

# Tests side by side (prerun.bash): the file's tests start together once the programs they run
# first are built (the sanitizer build may still be going on). A file whose tests need more
# built (lab 08: lab 06's reference) defines setup_file_builds, which runs just before they
# start; it does not write a setup_file of its own.
source "$SOCKLAB_LIB/prerun.bash"
prerun_no_watchdog
setup_file() {
    harness_start
    socklab_build_all
    if declare -F setup_file_builds >/dev/null; then setup_file_builds; fi
    # From here on, this process (Bats' runner of the file) only schedules the tests and
    # reports them. Bats' DEBUG trap, which records a stack trace before each command for a
    # failure's message, cost ~5 ms a test here (prerun_start's loops, then Bats' own loop over
    # the tests): it stays for what may fail above, and goes now.
    trap - DEBUG
    prerun_start
}
teardown_file() { prerun_stop; harness_stop; socklab_build_wait; }

# slurp VAR FILE [MAX]: VAR gets FILE's text (its first MAX bytes if given) without trailing
# newlines, like VAR=$(head -c MAX FILE) but without a fork (~15 ms each in a Bats test, whose
# DEBUG trap runs in the child too). For small files; a missing file gives an empty VAR.
slurp() {
    local -n _slurped=$1
    local limit=(${3:+-N "$3"})
    _slurped=""
    # read stops with status 1 at the end of the file: that is the normal case here
    [[ ! -r $2 ]] || IFS= read -r -d '' "${limit[@]}" _slurped <"$2" || true
    while [[ $_slurped == *$'\n' ]]; do _slurped=${_slurped%$'\n'}; done
    return 0
}

setup() {
    prerun_replay                          # a test run in the background ends here
    S="$BATS_TEST_TMPDIR/session"          # where session.py records what happened
    WORK="$BATS_TEST_TMPDIR/work"          # the programs' working folder
    mkdir -p "$WORK"
}

# Kills whatever a failed or timed-out test left running: every process group it started.
teardown() {
    local pids_file pid
    for pids_file in "$BATS_TEST_TMPDIR"/*/pids; do
        [[ -f $pids_file ]] || continue
        while read -r pid; do
            kill -KILL -- "-$pid" 2>/dev/null || true
        done <"$pids_file"
    done
}

# --- a test that only replays its record ---------------------------------------------------

# A test whose body ran in the background (prerun.bash) only replays the record it left: what
# it needs is above (paths, messages, setup, teardown, the clock, prerun's replay); builds,
# sessions and assertions below are of no use to it. Bats loads this file again in every
# test's process: stopping here spares bash reading the rest (about 4 ms a test, 95 tests for
# a student's labs 01-06). chat.bash and filelab.bash stop at once in such a test too.
if prerun_replaying; then return 0; fi

# bats-support gives `fail`. Its load.bash forks a subshell for each file it sources, and Bats
# loads this file again for every test: its three sources are read directly instead, which
# saves a few tenths of a second a test. (Our assertions are the contract's own: bats-assert's
# generic ones are not needed.)
for _dir in ${BATS_LIB_PATH//:/ } /usr/lib/bats; do
    if [[ -f $_dir/bats-support/src/error.bash ]]; then
        for _part in output error lang; do source "$_dir/bats-support/src/$_part.bash"; done
        break
    fi
done
unset _dir _part

# Compiler flags. The contract asks for a warning-free build under gcc and clang; the
# sanitizer build checks memory and undefined behaviour at run time. It is built as the labs'
# hints tell a student to build it by hand (gcc -std=c11 -g -fsanitize=address,undefined),
# without optimisation, so that a report reproduced by hand is the report the test saw; only
# -fno-sanitize-recover=undefined is added, so that undefined behaviour ends the program, as an
# AddressSanitizer error does. (At -O1 each program took ~0.045 CPU-s more to build, and found
# nothing more: the patches of tests/broken/ are caught alike.)
CFLAGS_STRICT=(-std=c11 -Wall -Wextra -Werror -g)
CFLAGS_SANITIZE=(-std=c11 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined)
# Linked by gold where binutils has it: with the sanitizers' runtime libraries GNU ld was the
# slowest step of this build (gold: 0.093 to 0.067 CPU-s a program). It links the same program
# from the same objects; the reports are the same.
[[ ! -x /usr/bin/ld.gold ]] || CFLAGS_SANITIZE+=(-fuse-ld=gold)

# The lab's programs, each built from its NAME.c: a lab is a server and a client, except lab
# 09, whose clients are real TFTP programs (its Bats file sets PROGRAMS=(server)).
PROGRAMS=(server client)
# Default arguments (arrays, one word an element); file labs override them. {port} becomes the
# session's port.
SERVER_ARGS=('{port}')
CLIENT_ARGS=(127.0.0.1 '{port}')
PROTO=tcp
ARGV_SEP=$'\x1f'   # joins a command line's words when it crosses to session.py as one argument

HARNESS_FOLDER=harness    # a test's requests to the harness server, in its own folder

# harness_python MODULE [ARG...]: runs the harness's labs/lib/MODULE.py (session, chatroom,
# tftppeer, filecheck, relaylog): its main(ARGS), with this shell's folder and environment, its
# output as this command's, its exit status as this command's status. Once setup_file has
# started the file's harness server (harness_start), in a fork of that one warm Python
# (labs/lib/harness_server.py: a Python start with session.py's imports is ~50 ms of CPU, and a
# lab starts dozens of sessions); before, in a Python of its own. As a module either way, so
# that Python loads its compiled bytecode from __pycache__. (A peer's argv, run by session.py
# with a clean environment, names its script instead.)
harness_python() {
    if [[ -z ${HARNESS_FIFO:-} ]]; then
        PYTHONPATH=$SOCKLAB_LIB "$PYTHON" -m "$@"
        return
    fi
    local dir=${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}/$HARNESS_FOLDER req arg name names wake status
    HARNESS_CALLS=$(( ${HARNESS_CALLS:-0} + 1 ))
    req=$dir/$BASHPID.$HARNESS_CALLS      # a background job has a BASHPID of its own
    # Its user's alone, and all in it (a test run in the background finds it made: prerun_start)
    [[ -d $dir ]] || mkdir -p -m 0700 "$dir"
    compgen -e >"$req.names"              # the exported variables' names, without a fork
    mapfile -t names <"$req.names"
    {
        printf '%s\0%s\0%s\0' "$PWD" "$1" "$(( $# - 1 ))"
        for arg in "${@:2}"; do printf '%s\0' "$arg"; done
        for name in "${names[@]}"; do printf '%s=%s\0' "$name" "${!name}"; done
    } >"$req"
    mkfifo "$req.done"
    exec {wake}<>"$req.done"              # opened before asking: the wake-up cannot be lost
    printf '%s\n' "$req" >"$HARNESS_FIFO"  # one short line: written at once (PIPE_BUF)
    until [[ -f $req.status ]]; do
        # The server is gone (killed): nobody will answer. Else wait for its wake-up; the
        # timeout only bounds the cost of a wake-up lost.
        kill -0 "$HARNESS_PID" 2>/dev/null || break
        read -r -t 5 -u "$wake" _ || true
    done
    exec {wake}>&-
    harness_copy "$req.out"
    harness_copy "$req.err" >&2
    if [[ ! -f $req.status ]]; then
        tr_printf "the harness server (labs/lib/harness_server.py) stopped before %s ended \
(a socklab bug)" "$1" >&2
        echo >&2
        return 1
    fi
    slurp status "$req.status"
    return "$status"
}

# harness_copy FILE: prints FILE's text as it is, without a fork (a missing FILE prints nothing).
harness_copy() {
    local text
    [[ -f $1 ]] || return 0
    IFS= read -r -d '' text <"$1" || true
    printf '%s' "$text"
}

# harness_start: from setup_file. Starts the file's harness server (see harness_python), which
# lives until harness_stop, from teardown_file.
harness_start() {
    export HARNESS_FIFO=$BATS_FILE_TMPDIR/harness.fifo
    # Its user's alone: a request runs a harness tool as the grader, never as a student program
    # (which a sandbox without its own mount view runs as another user, beside these folders).
    mkfifo -m 600 "$HARNESS_FIFO"
    # fd 3 is Bats' report: a background job holding it would keep the formatter waiting.
    PYTHONPATH=$SOCKLAB_LIB "$PYTHON" -m harness_server "$HARNESS_FIFO" </dev/null \
        >/dev/null 2>&1 3>&- &
    export HARNESS_PID=$!
    disown "$HARNESS_PID"   # harness_stop kills it: no "Killed" line from Bats' shell then
}

# harness_stop: from teardown_file. Ends the harness server, and whatever a tool it ran
# outside a test (from setup_file) left running.
harness_stop() {
    [[ -n ${HARNESS_PID:-} ]] || return 0
    kill -KILL "$HARNESS_PID" 2>/dev/null || true
    BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR teardown
}

# --- building -------------------------------------------------------------------------------

# BUILD_DIR holds successful builds only, each in a folder named after what it was built from
# (content, variant): another run, or another lab of this run, may take it as it is. When the
# grader keeps it between runs (SOCKLAB_BUILD_KEEP=1: grader/buildcache.py), a folder used is
# touched, so that pruning takes the ones nobody used for long. A build that failed stays with
# this Bats run (RUN_BUILDS), never in the cache: a compiler's verdict is kept only for the run
# that saw it. No program of a failed build ever runs, so the sandbox never needs that folder.
RUN_BUILDS="${BATS_RUN_TMPDIR:-$BUILD_DIR}/socklab-run-builds"

# build_key SRC [PROGRAM]: a short digest of SRC's path and of its sources (names and
# contents): all of them, the name of SRC's builds; or PROGRAM.c and the headers (what it may
# include), the name of PROGRAM's. The path counts, since the debugging information records it.
build_key() {
    local digest
    digest=$( { printf '%s\n' "$@"
                cd "$1" 2>/dev/null || exit 0
                if [[ -n ${2:-} ]]; then set -- "$2.c"; else set -- *.c; fi
                sha256sum -- "$@" *.h 2>/dev/null; } | sha256sum)
    echo "${digest:0:16}"
}

# build_found NAME: prints the folder of the build NAME (KEY-VARIANT, or KEY-VARIANT-PROGRAM),
# from the cache or from this run's failures; fails when there is none yet.
build_found() {
    if [[ -e $BUILD_DIR/$1/status ]]; then
        [[ ${SOCKLAB_BUILD_KEEP:-} != 1 ]] || touch -c -- "$BUILD_DIR/$1"
        echo "$BUILD_DIR/$1"
    elif [[ -e $RUN_BUILDS/$1/status ]]; then
        echo "$RUN_BUILDS/$1"
    else
        return 1
    fi
}

# build_tmp VAR: makes a new folder for a build, unfinished (named .tmp.*), and sets VAR to it.
# Readable by everyone (0755), unlike mktemp -d's (0700): the sandbox shows a program its build
# folder as it is, to the program's own unprivileged user (grader/sandbox-exec.c), which would
# otherwise have to open it up before every program it starts. (mkdir -m is coreutils' own, a
# process, as mktemp was.)
build_tmp() {
    local -n _bt_dir=$1
    local try
    mkdir -p "$BUILD_DIR"
    for try in 1 2 3 4 5; do
        _bt_dir=$BUILD_DIR/.tmp.$BASHPID.${SRANDOM:-$RANDOM}
        mkdir -m 0755 -- "$_bt_dir" 2>/dev/null && return 0
    done
    mkdir -m 0755 -- "$_bt_dir"   # it fails again, and says why
}

# build_keep TMP NAME RC: files the finished build in TMP as NAME (see above) and prints its
# folder. A parallel build of the same NAME may have won: then TMP goes and the winner stays.
build_keep() {
    local tmp=$1 name=$2 rc=$3 into=$BUILD_DIR
    echo "$rc" >"$tmp/status"
    if [[ $rc != 0 ]]; then
        into=$RUN_BUILDS
        mkdir -p "$into"
    fi
    mv -T "$tmp" "$into/$name" 2>/dev/null || rm -rf "$tmp"
    echo "$into/$name"
}

# build_variant SRC VARIANT [KEY]: builds PROGRAMS (SRC/server.c, SRC/client.c) in VARIANT
# (gcc, clang, asan) once per content, into a folder named KEY-VARIANT (KEY: build_key SRC,
# computed when not given) that holds each program, with `log` and `status` beside, and prints
# the folder. Each program is compiled on its own (build_program) and linked in: an edit of
# server.c compiles the server again, and the client is taken as it was.
# It runs in a subshell of its own, without Bats' DEBUG trap (setup_file's), which records a
# stack trace before every command, for a failure's message: under it, a student's builds cost
# ~1.4 CPU-s more. A build never fails its caller: the tests report it.
build_variant() (
    trap - DEBUG
    local src=$1 variant=$2 key=${3:-} tmp program unit rc=0 text
    [[ -n $key ]] || key=$(build_key "$src")
    build_found "$key-$variant" && return
    build_tmp tmp
    for program in "${PROGRAMS[@]}"; do
        if [[ ! -f "$src/$program.c" ]]; then
            { tr_printf '%s: no such file' "$src/$program.c"; echo; } >>"$tmp/log"
            rc=1
            continue
        fi
        unit=$(build_program "$src" "$program" "$variant")
        slurp text "$unit/log"           # the compiler's words (read here: no process)
        [[ -z $text ]] || printf '%s\n' "$text" >>"$tmp/log"
        slurp text "$unit/status"
        [[ $text == 0 ]] || rc=1
        if [[ -e $unit/$program ]]; then     # a hard link: the same file, no copy
            ln -- "$unit/$program" "$tmp/$program" 2>/dev/null \
                || cp -- "$unit/$program" "$tmp/$program"
        fi
    done
    build_keep "$tmp" "$key-$variant" "$rc"
)

# build_program SRC PROGRAM VARIANT: compiles SRC/PROGRAM.c in VARIANT once per content (its
# own and the headers'), into a folder of its own (PROGRAM, log, status), and prints it.
build_program() {
    local src=$1 program=$2 variant=$3 name tmp rc=0 compiler=gcc flags=("${CFLAGS_STRICT[@]}")
    local wrap=() sandbox=() output
    name="$(build_key "$src" "$program")-$variant-$program"
    build_found "$name" && return
    [[ $variant == clang ]] && compiler=clang
    [[ $variant == asan ]] && flags=("${CFLAGS_SANITIZE[@]}")
    build_tmp tmp
    # The student's sources are compiled in the grader's sandbox too (an #include can name
    # any file): they and the output folder are all the compiler sees.
    # It gets a clean environment, like every program the tests start.
    if [[ $src != "$REF" && -n ${SOCKLAB_WRAP:-} ]]; then
        IFS=$ARGV_SEP read -r -a sandbox <<<"$SOCKLAB_WRAP"
        wrap=(env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 SOCKLAB_SANDBOX_RO="$src"
              SOCKLAB_SANDBOX_RW="$tmp" "${sandbox[@]}")
    fi
    # clang is asked for its warnings only: its programs are never run
    output=(-o "$tmp/$program")
    [[ $variant == clang ]] && output=(-fsyntax-only)
    (cd "$src" && "${wrap[@]}" "$compiler" "${flags[@]}" "${output[@]}" "$program.c") \
        >>"$tmp/log" 2>&1 3>&- || rc=1
    build_keep "$tmp" "$name" "$rc"
}

# build_relay: compiles the harness's network-fault relay (labs/lib/relay.c) once per content,
# optimised (it must never be the bottleneck), into a folder of BUILD_DIR, and prints it.
build_relay() {
    local key tmp rc=0
    key=$(sha256sum <"$SOCKLAB_LIB/relay.c")
    key=${key:0:16}
    build_found "$key-relay" && return
    build_tmp tmp
    gcc "${CFLAGS_STRICT[@]}" -O2 -o "$tmp/relay" "$SOCKLAB_LIB/relay.c" >>"$tmp/log" 2>&1 3>&- \
        || rc=1
    build_keep "$tmp" "$key-relay" "$rc"
}

# Builds everything the file's tests need, in parallel. Called from setup_file; never fails
# there (a failure in setup_file would hide which test is about the build): tests check.
# The sanitizer build, the slowest, goes on in the background while the first tests run: it
# holds ASAN_LOCK until it is done, and require_build asan waits for that.
socklab_build_all() {
    local -A pids=()
    local variant lock impl_key ref_key=""
    impl_key=$(build_key "$IMPL")
    [[ $REF == none ]] || ref_key=$(build_key "$REF")
    for variant in gcc clang; do
        build_variant "$IMPL" "$variant" "$impl_key" >/dev/null &
        pids[$variant]=$!
    done
    [[ $REF == none ]] || build_variant "$REF" gcc "$ref_key" >/dev/null
    for variant in "${!pids[@]}"; do wait "${pids[$variant]}"; done
    # Each is built now: these only look them up.
    export IMPL_BIN REF_BIN ASAN_BIN CLANG_BIN ASAN_LOCK="$RUN_BUILDS/asan.lock"
    IMPL_BIN=$(build_variant "$IMPL" gcc "$impl_key")
    CLANG_BIN=$(build_variant "$IMPL" clang "$impl_key")
    REF_BIN=none
    [[ $REF == none ]] || REF_BIN=$(build_variant "$REF" gcc "$ref_key")
    if ! ASAN_BIN=$(build_found "$impl_key-asan"); then
        # Until it is built, ASAN_BIN names where a success will be (require_build asan looks
        # again). Locked here, before the build starts, so that no test can look before it
        # holds the lock; the build inherits the lock and holds it alone once this copy is
        # closed.
        ASAN_BIN=$BUILD_DIR/$impl_key-asan
        mkdir -p "$RUN_BUILDS"
        exec {lock}>"$ASAN_LOCK"
        flock -x "$lock"
        build_variant "$IMPL" asan "$impl_key" </dev/null >/dev/null 2>&1 3>&- &
        ASAN_BUILD_PID=$!
        exec {lock}>&-
    fi
    return 0   # the relay is built on first use (relay_cmd): most labs never need it
}

# socklab_build_wait: from teardown_file. No build outlives the file.
socklab_build_wait() {
    [[ -z ${ASAN_BUILD_PID:-} ]] || wait "$ASAN_BUILD_PID" 2>/dev/null || true
}

# require_build [impl|asan|ref]: stops the test, as failed, when what it needs did not build.
require_build() {
    local what=${1:-impl} dir status
    case $what in
        impl) dir=$IMPL_BIN ;;
        asan)
            dir=$ASAN_BIN
            if [[ ! -e $dir/status ]]; then
                # still building (socklab_build_all): wait until the build lets go of its
                # lock, then look where build_keep filed it (a failure stays with this run)
                flock -s -w "$BUILD_WAIT_S" "$ASAN_LOCK" true 2>/dev/null || true
                dir=$(build_found "${dir##*/}") || dir=$ASAN_BIN
            fi ;;
        ref)
            if [[ $REF_BIN == none ]]; then
                skip "the reference solution is not available here (student release)"
            fi
            dir=$REF_BIN ;;
    esac
    slurp status "$dir/status"
    if [[ $status != 0 ]]; then
        if [[ $what == ref ]]; then
            fail "$(tr_printf 'the reference solution did not build (a socklab bug): %s' \
                "$(cat "$dir/log")")"
        fi
        fail "$(tr_printf 'not run: your code does not build — see the test [build]')"
    fi
}

# --- running programs -----------------------------------------------------------------------

# allowed_cpus NAME: the CPUs this test may run on (Cpus_allowed_list in proc(5)), one number
# an element, into the array NAME. A grader's cpuset may leave CPU 0 out.
allowed_cpus() {
    local -n _allowed=$1
    local key value range first last cpu
    _allowed=()
    while read -r key value; do
        [[ $key == Cpus_allowed_list: ]] && break
    done </proc/self/status
    IFS=, read -ra value <<<"$value"
    for range in "${value[@]}"; do
        first=${range%-*} last=${range#*-}
        for (( cpu = first; cpu <= last; cpu++ )); do _allowed+=("$cpu"); done
    done
}

# pin_to_one_cpu: PINNED becomes a taskset prefix (session's --prefix) that puts a program on
# the first CPU this test may use; give it to both sides to make them take turns on one CPU.
pin_to_one_cpu() {
    local cpus
    allowed_cpus cpus
    PINNED=(taskset -c "${cpus[0]}")
}

# session SERVER CLIENT [OPTION...]: runs a server and a client on a fresh port (session.py,
# the one place that starts programs); what happened lands in $S. SERVER and CLIENT are
#   impl | asan | ref   the lab's program from the tree under test, its sanitizer build, or the
#                       reference: run in the grader's sandbox, with a clean environment
#   peer                a harness tool in that side's place (nc, socat, a scripted peer), given
#                       with --peer; run outside the sandbox (it is the kit's own)
#   none                no program on that side
# Options that say what to run (ARRAY is the name of a bash array: words travel as words):
#   --prefix SIDE ARRAY   words before SIDE's program, outside the sandbox, where the program
#                         cannot touch what they write: strace, taskset, a fault injection
#   --args SIDE ARRAY     SIDE's arguments instead of SERVER_ARGS / CLIENT_ARGS
#   --peer SIDE ARRAY     the command line of a `peer` side
# Every other option goes to session.py as it is (--deadline, --relay, --script, --valgrind...).
session() {
    local server_side=$1 client_side=$2
    local -A given=()    # "server prefix" -> the name of the array given with --prefix server
    local passed=() server=() client=()
    shift 2
    while (( $# > 0 )); do
        case $1 in
            --prefix|--args|--peer)
                [[ ${2:-} == server || ${2:-} == client ]] || fail "$(tr_printf "session: %s \
takes server or client, then an array's name, not '%s' (a socklab bug)" "$1" "${2:-}")"
                given["$2 ${1#--}"]=$3
                shift 3 ;;
            *) passed+=("$1"); shift ;;
        esac
    done
    side_options server "$server_side"
    side_options client "$client_side"
    if [[ $server_side == asan || $client_side == asan ]]; then
        passed=(--sanitizers "${passed[@]}")
    fi
    [[ " ${passed[*]} " != *" --relay "* ]] || require_relay
    harness_python session --out "$S" --proto "$PROTO" --cwd "$WORK" \
        "${server[@]}" "${client[@]}" "${passed[@]}" 3>&-
}

# side_options SIDE KIND: session's helper; fills session's array named SIDE with the
# session.py options that start that side (see session). Locals are prefixed: a nameref to a
# caller's array of the same name would see the local instead.
side_options() {
    local _so_side=$1 _so_kind=$2 _so_joined _so_dir
    local -n _so_options=$_so_side
    case $_so_kind in
        none) return 0 ;;
        peer)
            [[ -n ${given["$_so_side peer"]:-} ]] || fail "$(tr_printf "session: a peer %s \
needs --peer %s ARRAY (a socklab bug)" "$_so_side" "$_so_side")"
            local -n _so_words=${given["$_so_side peer"]}
            join_into _so_joined "${_so_words[@]}"
            _so_options+=("--$_so_side-peer" "$_so_joined") ;;
        impl|asan|ref)
            require_build "$_so_kind"
            _so_dir=${_so_kind^^}_BIN
            local -n _so_words=${given["$_so_side args"]:-${_so_side^^}_ARGS}
            join_into _so_joined "${!_so_dir}/$_so_side" "${_so_words[@]}"
            _so_options+=("--$_so_side" "$_so_joined")
            [[ $_so_side$_so_kind != serverref ]] || _so_options+=(--server-is-reference) ;;
        *) fail "$(tr_printf "session: no side '%s' (impl, asan, ref, peer or none; a \
socklab bug)" "$_so_kind")" ;;
    esac
    if [[ -n ${given["$_so_side prefix"]:-} ]]; then
        local -n _so_prefix=${given["$_so_side prefix"]}
        join_into _so_joined "${_so_prefix[@]}"
        _so_options+=("--$_so_side-prefix" "$_so_joined")
    fi
}

# join_into VAR WORD...: VAR gets the words as one argument for session.py, joined with
# ARGV_SEP (no fork): a command line crosses as words, never as a string to split again.
join_into() {
    local -n _ji_joined=$1
    local IFS=$ARGV_SEP
    shift
    _ji_joined="$*"
}

# --- the network-fault relay ----------------------------------------------------------------

SOCKLAB_SEED_DEFAULT=1   # the relay's seed when neither the test nor SOCKLAB_SEED gives one

# relay_cmd tcp|udp [FAULT OPTIONS...]: the --relay command line for `session` (its words
# joined with ARGV_SEP), e.g.
#     session impl impl --relay "$(relay_cmd tcp --split 1)"
# The relay listens on {port} (where the client is sent), forwards to {server_port}, and logs
# every chunk or datagram to $S/relay.log (shown in failure messages). Its seed is the test's
# own --seed if given, else SOCKLAB_SEED_DEFAULT; SOCKLAB_SEED, when set, overrides both, so
# that a loop can try many seeds and a failure replays with SOCKLAB_SEED=N.
relay_cmd() {
    local proto=$1 seed="" args=()
    shift
    while (( $# > 0 )); do
        if [[ $1 == --seed ]]; then
            seed=${2:-}
            shift 2 || shift
        else
            args+=("$1")
            shift
        fi
    done
    seed=${SOCKLAB_SEED:-${seed:-$SOCKLAB_SEED_DEFAULT}}
    local joined
    join_into joined "$(build_relay)/relay" --proto "$proto" --listen '{port}' \
        --to '{server_port}' --seed "$seed" --log "$S/relay.log" "${args[@]}"
    printf '%s' "$joined"
}

# require_relay: stops the test, as failed, when the relay did not build (a socklab bug).
require_relay() {
    local dir status
    dir=$(build_relay)
    slurp status "$dir/status"
    [[ $status == 0 ]] || fail "$(tr_printf "the relay (labs/lib/relay.c) did not build — a \
socklab bug: %s" "$(cat "$dir/log" 2>/dev/null)")"
}

# seconds_between FROM TO: the seconds (e.g. "5.02") from the transcript's first line matching
# the awk pattern FROM to its first line matching TO; nothing if either is missing. Timing a
# program from its own stamps, e.g.
#     seconds_between ' harness +starts client' ' harness +client ended'
# leaves out the harness's start-up, which a loaded machine makes slow.
seconds_between() {
    awk -v from="$1" -v to="$2" '
        !seen && $0 ~ from { start = $1 + 0; seen = 1 }
        seen && $0 ~ to { printf "%.2f\n", $1 - start; exit }' "$S/transcript"
}

# --- assertions -----------------------------------------------------------------------------

# Context for every failure message: how each program ended, its stderr, how to run the same
# thing by hand, and the time-stamped transcript.
session_context() {
    local name
    echo
    for name in server client relay; do
        [[ -f "$S/$name.status" ]] || continue
        echo "$name: $(cat "$S/$name.status")"
        if [[ -s "$S/$name.stderr" ]]; then
            tr_printf "%s's stderr:" "$name"; echo
            head -n 15 "$S/$name.stderr" | sed 's/^/    /'
        fi
    done
    if [[ -f "$S/relay.log" ]]; then
        local seed
        seed=$(grep -o -- '--seed [0-9]*' "$S/relay.argv" 2>/dev/null | cut -d' ' -f2)
        tr_printf 'relay seed: %s (replay: SOCKLAB_SEED=%s; try others: SOCKLAB_SEED=N)' \
            "${seed:-?}" "${seed:-?}"; echo
        tr_printf 'relay log, first 40 of %s lines (time, direction, size, first bytes, fate):' \
            "$(wc -l <"$S/relay.log")"; echo
        head -n 40 "$S/relay.log" | sed 's/^/    /'
        if (( $(wc -l <"$S/relay.log") > 40 )); then
            tr_printf 'relay log, all lines counted by direction and fate:'; echo
            # The fate follows the quoted bytes, which may hold spaces: cut up to the last '"'.
            awk '{ fate = $0; sub(/.*"(\.\.\.)? /, "", fate); split(fate, word, " ")
                   count[$2 " " word[1]]++ }
                 END { for (k in count) print "    " k ": " count[k] }' "$S/relay.log" | sort
        fi
    fi
    if [[ -f "$S/script.result" && $(cat "$S/script.result") != ok ]]; then
        echo "harness: $(cat "$S/script.result")"
    fi
    tr_printf 'reproduce by hand (from %s):' "$IMPL"; echo
    for name in server client; do
        [[ -f "$S/$name.argv" ]] && echo "    $(sed "s|$BUILD_DIR/[^/]*/|./|" "$S/$name.argv")"
    done
    tr_printf 'what happened, in order:'; echo
    sed 's/^/    /' "$S/transcript" | head -n 60
}

# assert_lines NAME EXPECTED_LINE...: NAME's stdout is exactly these lines. The message's
# first line names the first difference; then every line is marked GOOD, BAD, MISSING or
# UNEXPECTED.
assert_lines() {
    local name=$1 i report="" first="" text
    shift
    local expected=("$@") actual=()
    mapfile -t actual <"$S/$name.stdout"
    local n=$(( ${#expected[@]} > ${#actual[@]} ? ${#expected[@]} : ${#actual[@]} ))
    local shown=$(( n < LINES_SHOWN ? n : LINES_SHOWN ))   # a flood is not worth reporting
    # The loop runs for every test, passing or not: it notes the first difference (its kind and
    # line) and no text; the message is written, in the student's language, only on failure.
    for (( i = 0; i < shown; i++ )); do
        if (( i >= ${#actual[@]} )); then
            report+="  MISSING     ${expected[i]}"$'\n'
            : "${first:=missing $i}"
        elif (( i >= ${#expected[@]} )); then
            report+="  UNEXPECTED  ${actual[i]}"$'\n'
            : "${first:=unexpected $i}"
        elif [[ ${actual[i]} == "${expected[i]}" ]]; then
            report+="  GOOD        ${actual[i]}"$'\n'
        else
            report+="  BAD         ${actual[i]}"$'\n'"   expected    ${expected[i]}"$'\n'
            : "${first:=bad $i}"
        fi
    done
    if (( n > shown )); then
        report+="  $(tr_printf '... and %d more lines' $(( n - shown )))"$'\n'
        : "${first:=count 0}"
    fi
    if [[ -z $first && -s "$S/$name.stdout" ]]; then   # the lines matched: a short file
        IFS= read -r -d '' text <"$S/$name.stdout" || true   # status 1: the end of the file
        [[ $text == *$'\n' ]] || first="newline 0"
    fi
    [[ -z $first ]] || fail "$(lines_difference "$name" "$first"
        printf '\n'; tr_printf "%s's stdout, line by line, against the contract:" "$name"
        lines_marked "$report"; session_context)"
}

# lines_difference NAME "KIND I": assert_lines' first line, about the first difference it found
# (KIND missing, unexpected, bad, count or newline, at line I from 0). assert_lines' arrays are
# visible here (bash's locals are dynamically scoped).
lines_difference() {
    local name=$1 kind=${2% *} i=${2#* } ended
    case $kind in
        missing)
            slurp ended "$S/$name.status"
            tr_printf "%s's output: line %d missing: expected '%s', got nothing more (%s: %s)" \
                "$name" $(( i + 1 )) "${expected[i]}" "$name" "$ended" ;;
        unexpected)
            tr_printf "%s's output: line %d unexpected: '%s' (after all the lines the contract \
asks for)" "$name" $(( i + 1 )) "${actual[i]}" ;;
        bad)
            tr_printf "%s's output: line %d: expected '%s', got '%s'" "$name" $(( i + 1 )) \
                "${expected[i]}" "${actual[i]}" ;;
        count)
            tr_printf "%s's output: it printed %d lines where the contract asks for %d" "$name" \
                "${#actual[@]}" "${#expected[@]}" ;;
        newline)
            tr_printf "%s's output: the last line has no '\\\\n' at its end" "$name" ;;
    esac
}

# lines_marked REPORT: assert_lines' line-by-line report, a newline before it, with its marks
# (GOOD, BAD, MISSING, UNEXPECTED, expected) in the student's language: one catalog look-up.
lines_marked() {
    local report=$'\n'$1 marks translated=() i
    # the marks as assert_lines writes them, at the start of their lines
    local english=("  GOOD        " "  BAD         " "  MISSING     " "  UNEXPECTED  "
                   "   expected    ")
    if [[ $SOCKLAB_LANGUAGE == ko ]]; then
        # TRANSLATORS: the five marks of a line-by-line comparison, in this order, one word each
        tr_text marks 'GOOD BAD MISSING UNEXPECTED expected'
        read -r -a translated <<<"$marks"
    fi
    if (( ${#translated[@]} == ${#english[@]} )); then
        for i in "${!english[@]}"; do
            report=${report//$'\n'"${english[i]}"/$'\n'"  ${translated[i]}  "}
        done
    fi
    printf '%s' "$report"
}

# assert_status NAME STATUS: NAME ended this way ("exit 0", "exit 1", ...).
assert_status() {
    local got
    slurp got "$S/$1.status"
    [[ $got == "$2" ]] || fail "$(tr_printf 'expected %s to end with %s, but it ended with %s' \
        "$1" "$2" "$got"; hint_status "$got"; session_context)"
}

hint_status() {
    case $1 in
        timeout) printf '\n'; tr_printf "(it was still running at the deadline and was killed: \
is it waiting for something that never comes?)" ;;
        "signal SIGSEGV") printf '\n'; tr_printf "(a segmentation fault: an invalid pointer or \
an overrun buffer; the sanitizer test shows where)" ;;
        "signal SIGPIPE") printf '\n'; tr_printf "(SIGPIPE: it wrote to a connection the peer \
had closed; see MSG_NOSIGNAL in send(2))" ;;
    esac
}

# assert_ok NAME EXPECTED_LINE...: exactly these lines, then exit 0.
assert_ok() {
    assert_lines "$@"
    assert_status "$1" "exit 0"
}

# assert_session_ran NAME...: each program printed something and exited 0 — the session
# really happened, whatever its exact words (memory tests check memory, not messages).
assert_session_ran() {
    local name
    for name in "$@"; do
        assert_status "$name" "exit 0"
        [[ -s "$S/$name.stdout" ]] || fail "$(tr_printf '%s exited 0 but printed nothing' \
            "$name"; session_context)"
    done
}

# assert_memcheck NAME TOOL: Valgrind (or the sanitizers) found nothing in NAME.
assert_memcheck() {
    local report
    slurp report "$S/$1.memcheck"
    [[ $report == clean ]] || fail "$(tr_printf '%s reported a problem in %s:' "$2" "$1"; echo
        echo "$report" | head -n 5 | sed 's/^/    /'; session_context)"
}

# assert_bytes FILE TEXT WHAT: FILE holds exactly TEXT's bytes. Compared as bytes: bash's
# $(cat FILE) would drop a '\0' (a client that sends sizeof(message) bytes). A mismatch shows
# both, byte by byte (od -c), under WHAT (e.g. "what the peer received").
assert_bytes() {
    local expected="$BATS_TEST_TMPDIR/expected-bytes"
    printf '%s' "$2" >"$expected"
    cmp -s -- "$expected" "$1" && return 0
    local what
    tr_text what "$3"   # the callers' WHATs are in the catalog too
    fail "$(tr_printf '%s: expected these bytes:' "$what"; echo
        od -An -c "$expected" | sed 's/^/    /'
        if [[ -e $1 ]]; then
            tr_printf 'got these %s bytes:' "$(wc -c <"$1")"; echo
            od -An -c "$1" | head -n 8 | sed 's/^/    /'
        else
            tr_printf 'got nothing'; echo
        fi
        if [[ -e $1 ]] && cmp -s -- <(printf '%s\0' "$2") "$1"; then
            tr_text what "(a '\\0' after the text: send strlen(message) bytes, not sizeof — the \
'\\0' that ends a C string is not part of the message)"
            printf '%s' "$what"
        fi
        session_context)"
}

# assert_reuseaddr_traced: the server of a session run with `--server-trace setsockopt` set
# SO_REUSEADDR (setsockopt(2), socket(7)).
assert_reuseaddr_traced() {
    local calls
    slurp calls "$S/server.trace"
    # any non-zero value turns the option on: [1], or [2] from an `int yes = 2`
    local none
    [[ $calls =~ SO_REUSEADDR,\ \[[1-9][0-9]*\] ]] || fail "$(tr_text none 'none'
        tr_printf "the server never set SO_REUSEADDR (setsockopt(2), socket(7)); its setsockopt \
calls were:"; printf '\n%s' "${calls:-$none}"
        session_context)"
}

# assert_perror NAME CALL REASON: one line of NAME's stderr is perror-style, as the contract
# asks: it names the failed CALL (the word itself: "bind", "socket"), then strerror's REASON
# ("Address already in use"). The rest of the wording is the student's: perror("server: bind"),
# perror("bind failed") and fprintf(stderr, "server: cannot bind port %d: %s\n", ...) all pass.
assert_perror() {
    local line
    while IFS= read -r line; do
        [[ $line =~ (^|[^A-Za-z_])$2([^A-Za-z_]|$) && $line == *"$3"* ]] && return 0
    done <"$S/$1.stderr"
    fail "$(tr_printf "%s should report on stderr what failed, then why, as perror(3) does: a \
line that names %s and says '%s' (strerror(errno)), e.g. '%s: %s: %s'" "$1" "$2" "$3" "$1" "$2" "$3"
        session_context)"
}

# assert_port_in_use: the server, given a port another program holds, reports the failed
# bind(2) perror-style and exits 1; under Valgrind, so that this error path too closes what it
# opened and frees what it allocated. Its bind calls are traced: a server that binds another
# port (a fixed 8080) gets the same error whenever something else holds that port (another
# test of the run, side by side), and must not pass for it. So the port comes first once the
# server has bound one: whether that port was free (it runs on) or held (it exits 1 as a
# correct server would), the port is what is wrong, and what the message says. A server that
# bound nothing hears about its exit first.
assert_port_in_use() {
    session impl none --occupy --deadline 3 --valgrind server --server-trace bind
    [[ ! -s $S/server.trace ]] || assert_bound_port server
    assert_status server "exit 1"
    assert_bound_port server
    assert_perror server bind "Address already in use"
    assert_memcheck server Valgrind
}

# assert_bound_port NAME: NAME's traced bind(2) calls (--NAME-trace bind) include the session's
# port, the PORT argument, whichever address family it used.
assert_bound_port() {
    local calls port none
    slurp calls "$S/$1.trace"
    slurp port "$S/port"
    [[ $calls == *"_port=htons($port)"* ]] || fail "$(tr_text none 'none'
        tr_printf "%s should bind the port it was given (%s, its PORT argument); its bind(2) \
calls were:" "$1" "$port"; printf '\n%s' "${calls:-$none}"
        session_context)"
}

# assert_stderr_has NAME PATTERN WHY: NAME's stderr matches the extended regex PATTERN.
assert_stderr_has() {
    local why
    grep -Eq "$2" "$S/$1.stderr" || fail "$(tr_text why "$3"   # the callers' WHYs: in the catalog
        tr_printf '%s should say on stderr %s' "$1" "$why"; session_context)"
}

# assert_builds: the lab's programs (server.c, client.c) compile without a warning under gcc
# and clang, with the contract's flags; otherwise the compiler's first lines say why.
# setup_file built them: their folders are in IMPL_BIN and CLANG_BIN.
assert_builds() {
    local variant dir status
    for variant in gcc clang; do
        dir=$IMPL_BIN
        [[ $variant == clang ]] && dir=$CLANG_BIN
        slurp status "$dir/status"
        [[ $status == 0 ]] || fail "$(tr_printf "the %s build failed (flags: %s); the compiler \
said:" "$variant" "${CFLAGS_STRICT[*]}")
$(head -n 30 "$dir/log")"
    done
}

# assert_bad_arguments [OUTPUT INPUT]: the contract's argument rules, one case each — a port
# that is 0, too large or not a number, a host that is not a dotted address, one argument too
# many. args.h does the work (handed out, the same in every lab, tested case by case in
# tests/test_args_h.py); these show that main() calls it before opening anything. The file
# labs pass their OUTPUT and INPUT names.
assert_bad_arguments() {
    local output=${1:+ $1} input=${2:+ $2}
    assert_usage "server 0$output" "server 80x$output" "server 8080$output extra" \
        "client localhost" "client 127.0.0.1 65536$input" "client 127.0.0.1 8080$input extra"
}

# assert_usage CASE...: each CASE, "PROGRAM ARG..." (words without spaces or quotes), is a run
# with bad arguments that must print one usage line on stderr, exit 2 and open no socket. The
# cases run side by side in one session (one harness start, not one a case).
assert_usage() {
    require_build impl
    local out="$BATS_TEST_TMPDIR/usage" runs=() case words joined number=0
    # Through session.py, like every run of student code: in the sandbox, in the scratch
    # folder, with a deadline, capped output, and the whole process group killed whatever the
    # program does; strace traces it from outside, where the program cannot touch its log.
    for case in "$@"; do
        read -r -a words <<<"$case"
        words[0]=$IMPL_BIN/${words[0]}
        join_into joined "${words[@]}"
        runs+=(--run "$joined")
    done
    harness_python session --out "$out" --cwd "$WORK" "${runs[@]}" \
        --run-trace socket --deadline "$USAGE_DEADLINE_S" 3>&-
    number=0
    for case in "$@"; do
        (( ++number ))
        local shown="./$case" trace="$out/run$number.trace" ended stdout stderr
        slurp ended "$out/run$number.status"
        slurp stdout "$out/run$number.stdout" 2000
        slurp stderr "$out/run$number.stderr" 2000
        [[ $ended == "exit 2" ]] || fail "$(tr_printf "'%s' should exit with status 2 (bad \
arguments); it ended with %s" "$shown" "$ended")$(hint_status "$ended")
stdout: '$stdout'
stderr: '$stderr'"
        [[ $stderr == usage:* && $stderr != *$'\n'* ]] || fail "$(tr_printf "'%s' should print \
one 'usage: ...' line on stderr; stderr was: '%s'" "$shown" "$stderr")"
        [[ ! -s $trace ]] || fail "$(tr_printf "'%s' opened a socket before checking its \
arguments:" "$shown")
$(cat "$trace")"
    done
}
