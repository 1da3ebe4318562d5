#!/usr/bin/env bats
# Lab 05 — UDP file transfer. Each test's [id] is its key in labs/labs.toml (points, hints).
# Test files are generated with a seed: SOCKLAB_SEED=N changes them, and replays a failure.

load ../../lib/socklab
load ../../lib/filelab

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
    session impl none --client "$PYTHON $SOCKLAB_LIB/udppeer.py send {port} abc def ''"
    assert_ok server "$SERVER_DONE"
    [[ $(cat "$WORK/received.bin") == abcdef ]] || fail "$(printf 'after the datagrams "abc", '
        printf '"def" and an empty one, received.bin should hold "abcdef"; it holds "%s"' \
            "$(cat "$WORK/received.bin")"; session_context)"
    # The client side: what it sends for a 2500-byte file, seen by a plain receiver.
    "$PYTHON" "$SOCKLAB_LIB/filecheck.py" make random:2500 "$WORK/sent.bin" --seed "$SEED"
    session none impl --server "$PYTHON $SOCKLAB_LIB/udppeer.py recv {port}"
    assert_ok client "$CLIENT_DONE"
    local sizes total
    sizes=$(sed -n 's/^datagram \([0-9]*\) bytes$/\1/p' "$S/server.stdout")
    total=$(awk '{ t += $1 } END { print t + 0 }' <<<"$sizes")
    [[ $(tail -n 1 "$S/server.stdout") == "end mark" ]] || fail "$(printf 'the client should '
        printf 'end with an empty datagram; a receiver saw:\n%s' "$(cat "$S/server.stdout")"
        session_context)"
    (( total == 2500 )) || fail "$(printf 'the client sent %s bytes of a 2500-byte file' "$total"
        session_context)"
    if awk '$1 > 1024 { bad = 1 } END { exit !bad }' <<<"$sizes"; then
        fail "$(printf 'the client sent datagrams longer than 1024 bytes: %s' "$sizes"
            session_context)"
    fi
}

@test "[host] the client sends to the HOST it is given, not to INADDR_ANY" {
    make_file text
    session impl impl --client "${SOCKLAB_WRAP:-} strace -f -qq -o $WORK/strace \
-e trace=sendto,connect $(bin impl client) $CLIENT_ARGS"
    grep -q 'inet_addr("127.0.0.1")' "$WORK/strace" || fail "$(printf 'the client was given '
        printf 'HOST 127.0.0.1 but never sent to it; its sendto/connect calls were:\n'
        head -n 5 "$WORK/strace"; session_context)"
    if grep -q 'inet_addr("0.0.0.0")' "$WORK/strace"; then
        fail "$(printf 'the client sent to 0.0.0.0 (INADDR_ANY), which is not an address to send '
            printf 'to: Linux delivers it to this machine, so it only works when the server '
            printf 'runs here. Use the HOST argument (args.host). Its calls:\n'
            grep 'inet_addr("0.0.0.0")' "$WORK/strace" | head -n 3; session_context)"
    fi
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
    session impl none --occupy --deadline 3
    assert_status server "exit 1"
    grep -q bind "$S/server.stderr" || fail "$(printf 'the server should report the failed '
        printf 'bind(2) on stderr (perror("server: bind"))'; session_context)"
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
