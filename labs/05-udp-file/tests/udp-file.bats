#!/usr/bin/env bats
# Lab 05 — UDP file transfer. Each test's [id] is its key in labs/labs.toml (points, hints).
# Test files are generated with a seed: SOCKLAB_SEED=N changes them, and replays a failure.

load ../../lib/socklab
load ../../lib/filelab

IDLE_S=5           # the contract: once a transfer has started, 5 s of silence end it
IDLE_LOW_S=4       # a server that gives up sooner cuts off a slow client
IDLE_HIGH_S=9      # room for a loaded machine; a server that never gives up meets the deadline
# Started first when the tests run side by side (prerun.bash): [gives-up] waits out the server's
# 5 s of silence.
FIRST_TESTS=(gives-up)

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

@test "[end-mark] the server stops at an empty datagram; the client ends with one" {
    # The server side: three exact datagrams, the last one empty.
    local sender=("$PYTHON" "$SOCKLAB_LIB/udppeer.py" send '{port}' abc def '')
    session impl peer --peer client sender
    assert_ok server "$SERVER_DONE"
    [[ $(cat "$WORK/received.bin") == abcdef ]] || fail "$(tr_printf "after the datagrams \"abc\", \
\"def\" and an empty one, received.bin should hold \"abcdef\"; it holds \"%s\"" \
            "$(cat "$WORK/received.bin")"; session_context)"
    # The client side: what it sends for a 2500-byte file, seen by a plain receiver.
    harness_python filecheck make random:2500 "$WORK/sent.bin" --seed "$SEED"
    local receiver=("$PYTHON" "$SOCKLAB_LIB/udppeer.py" recv '{port}')
    session peer impl --peer server receiver
    assert_ok client "$CLIENT_DONE"
    local sizes total
    sizes=$(sed -n 's/^datagram \([0-9]*\) bytes$/\1/p' "$S/server.stdout")
    total=$(awk '{ t += $1 } END { print t + 0 }' <<<"$sizes")
    [[ $(tail -n 1 "$S/server.stdout") == "end mark" ]] || fail "$(tr_printf "the client should \
end with an empty datagram; a receiver saw:"; printf '\n%s' "$(cat "$S/server.stdout")"
        session_context)"
    (( total == 2500 )) || fail "$(tr_printf 'the client sent %s bytes of a 2500-byte file' \
        "$total"; session_context)"
    if awk '$1 > 1024 { bad = 1 } END { exit !bad }' <<<"$sizes"; then
        fail "$(tr_printf 'the client sent datagrams longer than 1024 bytes: %s' "$sizes"
            session_context)"
    fi
}

@test "[gives-up] after the first datagram, 5 s of silence: the server gives up, exit 1" {
    # Two datagrams, then nothing: no end mark will ever come. Timed from the sender's end
    # (right after its last datagram) to the server's, from the harness's own stamps.
    local sender=("$PYTHON" "$SOCKLAB_LIB/udppeer.py" send '{port}' abc def)
    session impl peer --peer client sender --deadline 20 --server-grace 12
    assert_status server "exit 1"
    assert_stderr_has server . "why it gave up"
    local waited
    waited=$(seconds_between ' harness +client ended' ' harness +server ended')
    awk -v s="$waited" -v low="$IDLE_LOW_S" -v high="$IDLE_HIGH_S" \
        'BEGIN { exit !(s >= low && s <= high) }' || fail "$(tr_printf "after the last datagram, \
the server should give up after about %d s of silence; it waited %s s" \
            "$IDLE_S" "${waited:-?}"; session_context)"
}

@test "[host] the client sends to the HOST it is given, not to INADDR_ANY or 127.0.0.1" {
    # A plain receiver on 127.0.0.2 only: a client that sends to INADDR_ANY or to 127.0.0.1
    # (Linux delivers both to 127.0.0.1) reaches nobody. What it received is the judge, not
    # which system call sent it.
    make_file text
    local to_host=(127.0.0.2 '{port}' sent.bin)
    local receiver=("$PYTHON" "$SOCKLAB_LIB/udppeer.py" recv '{port}' --bind 127.0.0.2
                    --save peer.bin)
    session peer impl --peer server receiver --args client to_host
    if [[ ! -s "$S/server.stdout" ]]; then
        fail "$(tr_printf "a receiver on 127.0.0.2 got nothing: the client must send to the HOST \
it is given (args.host), not to INADDR_ANY or a fixed 127.0.0.1"; session_context)"
    fi
    # the bytes only: the end mark is [end-mark]'s business
    cmp -s "$WORK/sent.bin" "$WORK/peer.bin" ||
        fail "$(tr_printf "a receiver on 127.0.0.2 got the datagrams below, not the whole \
file:"; printf '\n%s' "$(head -n 20 "$S/server.stdout")"
            session_context)"
    assert_ok client "$CLIENT_DONE"
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

@test "[sanitizers] AddressSanitizer and UBSan report nothing" {
    make_file binary
    session asan asan
    assert_transfer
    assert_memcheck server "AddressSanitizer/UBSan"
    assert_memcheck client "AddressSanitizer/UBSan"
}
