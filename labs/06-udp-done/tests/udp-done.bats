#!/usr/bin/env bats
# Lab 06 — reliable UDP file transfer with the DONE handshake. Each test's [id] is its key in
# labs/labs.toml (points, hints). Test files and the relay's faults come from a seed:
# SOCKLAB_SEED=N changes both, and replays a failure.

# Each test's limit: above LOSSY_DEADLINE_S (below), with room for the checks. Set before the
# library is loaded, which reads it (labs/lib/prerun.bash: prerun_no_watchdog).
export BATS_TEST_TIMEOUT=90

load ../../lib/socklab
load ../../lib/filelab

# The lossy link of the contract: 5% of datagrams dropped, 5% duplicated and 5% reordered,
# each way. The client's first DONE is always lost as well, so that every run exercises it.
LOSSY=(--drop 0.05 --dup 0.05 --reorder 0.05 --drop-nth DONE:1:c2s)

GIVE_UP_S=5        # the contract: the client gives up after 5 s without an answer
GIVE_UP_LOW_S=4    # a client that gives up sooner takes a slow server for a gone one
GIVE_UP_HIGH_S=9   # room for a loaded machine; a client that never gives up meets --deadline
# Started first when the tests run side by side (prerun.bash): [no-server] waits out the client's
# 5 s give-up.
FIRST_TESTS=(no-server)
# The lossy link's limit (docs/contract.md): 256 KiB through it within LOSSY_DEADLINE_S. A
# sender with a fixed 500 ms retransmission timeout, slow but correct, needs 15 to 25 s.
LOSSY_DEADLINE_S=50

# The 16 MiB test runs client and server on one CPU (pin_to_one_cpu). Pinned together, they
# take turns on it: a sender that does not wait for acknowledgements fills the receiver's socket
# buffer long before the receiver runs, and loses about half of a large file every time
# (measured), instead of anything from 3% to 80% depending on scheduling.

@test "[build] server.c and client.c compile without warnings under gcc and clang" {
    assert_builds
}

@test "[args] bad arguments print a usage line, exit 2 and open no socket" {
    assert_bad_arguments out.bin in.bin
}

@test "[files] empty, 1-byte, 1024-byte, 1025-byte, text and binary files arrive intact" {
    transfers impl impl "${SMALL_FILES[@]}"
}

@test "[done-data] a file whose second block begins with DONE arrives intact" {
    make_file done-block
    session impl impl
    assert_transfer
}

@test "[large] a 16 MiB file arrives intact (client and server on one CPU)" {
    require_build impl
    harness_python filecheck make random:16M "$WORK/sent.bin" --seed "$SEED"
    pin_to_one_cpu
    session impl impl --deadline 30 --prefix server PINNED --prefix client PINNED
    assert_transfer
}

@test "[lossy] 256 KiB arrive intact through 5% loss, duplication and reordering each way" {
    harness_python filecheck make random:256K "$WORK/sent.bin" --seed "$SEED"
    session impl impl --deadline "$LOSSY_DEADLINE_S" --relay "$(relay_cmd udp "${LOSSY[@]}")"
    assert_transfer
}

@test "[done-lost] the server's first DONE is lost: the client asks again, both exit 0" {
    make_file block-plus
    session impl impl --relay "$(relay_cmd udp --drop-nth DONE:1:s2c)"
    assert_transfer
    grep -q 'dropped (drop-nth' "$S/relay.log" || fail "$(tr_printf "the relay never saw the \
server's DONE, so it could not drop it"; session_context)"
}

@test "[no-server] with no server, the client gives up after about 5 s and exits 1" {
    make_file text
    session none impl --deadline 12
    assert_status client "exit 1"
    [[ -s "$S/client.stderr" ]] || fail "$(tr_printf "the client gave up but did not say why on \
stderr"; session_context)"
    # The client's own run, from the harness's stamps: the harness's start-up, slow on a
    # loaded machine, is not the client's time.
    local ran low=$GIVE_UP_LOW_S
    ran=$(seconds_between ' harness +starts client' ' harness +client ended')
    # A client that connect()s its socket learns at once that nobody listens (ECONNREFUSED):
    # giving up then, and saying so, is right; so is retrying through it until the 5 s.
    ! grep -q "Connection refused" "$S/client.stderr" || low=0
    awk -v s="$ran" -v low="$low" -v high="$GIVE_UP_HIGH_S" \
        'BEGIN { exit !(s >= low && s <= high) }' || fail "$(tr_printf "the client should give up \
after about %d s without an answer; it ran for %s s" "$GIVE_UP_S" "$ran"; session_context)"
}

@test "[dup] a duplicate DATA block is acknowledged again but never written twice" {
    local zero='\x00\x00\x00\x00' one='\x00\x00\x00\x01' two='\x00\x00\x00\x02'
    local sender=("$PYTHON" "$SOCKLAB_LIB/udppeer.py" send --replies '{port}' "DATA${zero}abc"
                  "DATA${zero}abc" "DATA${one}def" "DATA${zero}abc" "DONE${two}")
    session impl peer --peer client sender
    assert_ok server "$SERVER_DONE"
    [[ $(cat "$WORK/received.bin") == abcdef ]] || fail "$(tr_printf "after DATA 0 \"abc\" twice, \
DATA 1 \"def\", DATA 0 \"abc\" again and DONE 2, received.bin should hold \"abcdef\"; it holds \"%s\"" \
        "$(cat "$WORK/received.bin")"; session_context)"
    local answers
    mapfile -t answers <"$S/client.stdout"
    [[ ${answers[1]:-} == "reply ACK $zero" ]] ||
        fail "$(tr_text nothing 'nothing'; tr_printf "a repeated DATA 0 should be acknowledged \
again (its ACK may have been lost), got: %s" "${answers[1]:-$nothing}"; session_context)"
    [[ ${answers[4]:-} == "reply DONE$two" ]] || fail "$(tr_text nothing 'nothing'
        tr_printf 'DONE 2 should be answered with DONE 2, got: %s' "${answers[4]:-$nothing}"
        session_context)"
}

@test "[missing-input] a missing INPUT: stderr, exit 1, nothing sent" {
    assert_missing_input
}

@test "[bad-output] an OUTPUT that cannot be created: stderr, exit 1" {
    assert_bad_output
}

@test "[ref-client] your server works with the reference client" {
    transfers impl ref binary
}

@test "[ref-server] your client works with the reference server" {
    transfers ref impl binary
}

@test "[port-in-use] server on a port in use reports the error and exits 1" {
    assert_port_in_use
}

@test "[reuseaddr] server sets SO_REUSEADDR" {
    assert_reuseaddr
}

@test "[valgrind] no memory errors, leaks or open descriptors under Valgrind" {
    make_file binary
    session impl impl --valgrind server,client
    assert_transfer
    assert_memcheck server Valgrind
    assert_memcheck client Valgrind
}

@test "[sanitizers] AddressSanitizer and UBSan report nothing, through the lossy link" {
    harness_python filecheck make random:256K "$WORK/sent.bin" --seed "$SEED"
    session asan asan --deadline "$LOSSY_DEADLINE_S" --relay "$(relay_cmd udp "${LOSSY[@]}")"
    assert_transfer
    assert_memcheck server "AddressSanitizer/UBSan"
    assert_memcheck client "AddressSanitizer/UBSan"
}
