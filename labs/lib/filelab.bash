# filelab.bash — what the file-transfer labs' tests (05 udp-file, 06 udp-done) share.
# Load it after socklab:
#
#     load ../../lib/socklab
#     load ../../lib/filelab
#
# Test files are generated (labs/lib/filecheck.py, seeded by SOCKLAB_SEED) and compared by
# SHA-256; a mismatch reports both sizes and the first differing offset and its block.

# A test that only replays its record reads no further (socklab.bash says why).
if prerun_replaying; then return 0; fi

SERVER_ARGS=('{port}' received.bin)
CLIENT_ARGS=(127.0.0.1 '{port}' sent.bin)
PROTO=udp
SEED=${SOCKLAB_SEED:-1}
SERVER_DONE="File received successfully."
CLIENT_DONE="File sent successfully."
# The small files every lab must move intact (filecheck.py says what each one is).
SMALL_FILES=(empty one-byte block block-plus text binary)

# make_file KIND [FOLDER]: writes a KIND test file as FOLDER/sent.bin (default: $WORK).
make_file() {
    harness_python filecheck make "$1" "${2:-$WORK}/sent.bin" --seed "$SEED" ||
        fail "$(tr_printf "could not make the '%s' test file (a socklab bug)" "$1")"
}

# assert_same_file: $WORK/received.bin is $WORK/sent.bin byte for byte, as cmp(1) compares
# them: one program, which reads two 16 MiB files in ~5 ms (two sha256sum(1) digests took
# 0.14 CPU-s, lab 08 compares a dozen such pairs). Only a mismatch starts Python, to say how
# they differ: on a busy machine each start costs.
assert_same_file() {
    [[ -f "$WORK/received.bin" ]] && cmp -s -- "$WORK/sent.bin" "$WORK/received.bin" && return 0
    run harness_python filecheck compare "$WORK/sent.bin" "$WORK/received.bin"
    fail "$output$(session_context)"
}

# assert_transfer: the file arrived intact, and both programs said their line and exited 0.
# The file first: when data was lost, how much (and from which block) says the most.
assert_transfer() {
    assert_same_file
    assert_ok server "$SERVER_DONE"
    assert_ok client "$CLIENT_DONE"
}

# use_files KIND: points S and WORK at the session and folder of the KIND file.
use_files() {
    S="$BATS_TEST_TMPDIR/session-$1"
    WORK="$BATS_TEST_TMPDIR/work-$1"
}

# transfers SERVER_SIDE CLIENT_SIDE KIND... [-- session options]: moves each KIND of file in
# its own session, all at once (each session mostly waits), then checks each transfer in
# turn. The file being checked is named in the output shown on failure.
transfers() {
    local server_side=$1 client_side=$2 kinds=() kind pids=() pairs=()
    shift 2
    while (( $# > 0 )) && [[ $1 != -- ]]; do kinds+=("$1"); shift; done
    (( $# == 0 )) || shift
    for kind in "${kinds[@]}"; do    # one Python start for all the files: it is not free
        use_files "$kind"
        mkdir -p "$WORK"
        pairs+=("$kind" "$WORK/sent.bin")
    done
    harness_python filecheck make "${pairs[@]}" --seed "$SEED" ||
        fail "$(tr_printf 'could not make the test files (a socklab bug)')"
    for kind in "${kinds[@]}"; do
        use_files "$kind"
        session "$server_side" "$client_side" "$@" &
        pids+=($!)
    done
    wait "${pids[@]}" || true
    for kind in "${kinds[@]}"; do
        use_files "$kind"
        # shown with a failure only; no words, so that no language is needed (no fork)
        echo "== $kind: labs/lib/filecheck.py make $kind --seed $SEED"
        assert_transfer
    done
}

# assert_missing_input: a client given an INPUT that does not exist says why on stderr, exits
# 1, and sends nothing (strace, from outside the sandbox, would show any way of sending: the
# send calls, or a write(2) to a descriptor past 2, as on a connected socket).
assert_missing_input() {
    local missing=(127.0.0.1 '{port}' no-such-file) stderr sent
    session none impl --args client missing --client-trace sendto,sendmsg,sendmmsg,write \
        --deadline 3
    assert_status client "exit 1"
    slurp stderr "$S/client.stderr"
    [[ $stderr == *"No such file or directory"* ]] || fail "$(tr_printf "a client given a \
missing INPUT should say why on stderr (strerror(errno) after fopen(3): 'No such file or \
directory'); its stderr was: '%s'" "$stderr"; session_context)"
    sent=$(grep -E ' (sendto|sendmsg|sendmmsg)\(| write\(([3-9]|[1-9][0-9]+),' "$S/client.trace" \
        || true)   # grep's status 1: nothing was sent, the good case
    [[ -z $sent ]] || fail "$(tr_printf "a client given a missing INPUT sent something (open \
the file before the socket):"; printf '\n%s' "$sent"; session_context)"
}

# assert_bad_output: a server whose OUTPUT cannot be created (its folder does not exist) says
# why on stderr and exits 1.
assert_bad_output() {
    local unwritable=('{port}' no-such-folder/received.bin)
    session impl none --args server unwritable --deadline 3
    assert_status server "exit 1"
    grep -q "No such file or directory" "$S/server.stderr" || fail "$(tr_printf "the server \
should say on stderr why it cannot create its OUTPUT (strerror(errno) after fopen(3): 'No such \
file or directory')"; session_context)"
}

# assert_reuseaddr: the server sets SO_REUSEADDR (strace shows the setsockopt call). The
# server runs alone: it has set its options once it is bound, and is stopped after that.
assert_reuseaddr() {
    session impl none --deadline 0.5 --server-trace setsockopt
    assert_reuseaddr_traced
}
