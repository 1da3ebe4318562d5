#!/usr/bin/env bats
# Lab 01 — TCP hello. Each test's [id] is its key in labs/labs.toml (points, hints).

load ../../lib/socklab

SERVER_LINES=("Message from client: Hello from client" "Hello message sent")
CLIENT_LINES=("Hello message sent" "Message from server: Hello from server")
# Started first when the tests run side by side (prerun.bash): [silent-server] waits out the
# client's 2 s give-up.
FIRST_TESTS=(silent-server)

@test "[build] server.c and client.c compile without warnings under gcc and clang" {
    assert_builds
}

@test "[args] bad arguments print a usage line, exit 2 and open no socket" {
    assert_bad_arguments
}

@test "[hello] server and client exchange their hellos and exit 0" {
    session impl impl
    assert_ok server "${SERVER_LINES[@]}"
    assert_ok client "${CLIENT_LINES[@]}"
}

@test "[ref-client] your server works with the reference client" {
    session impl ref
    assert_ok server "${SERVER_LINES[@]}"
    assert_ok client "${CLIENT_LINES[@]}"
}

@test "[ref-server] your client works with the reference server" {
    session ref impl
    assert_ok client "${CLIENT_LINES[@]}"
    assert_ok server "${SERVER_LINES[@]}"
}

@test "[pieces] your server reads the whole message, however it arrives" {
    # A client that sends its hello one byte at a time, 20 ms apart, then shuts down its
    # sending side: a server that calls recv() once gets "H" (TCP is a byte stream; the lesson's
    # single read() works on loopback by luck, not by design).
    local pieces=("$PYTHON" "$SOCKLAB_LIB/tcppeer.py" '{port}' 'Hello from client')
    session impl peer --peer client pieces
    assert_ok server "${SERVER_LINES[@]}"
    assert_status client "exit 0"
    assert_bytes "$S/client.stdout" "Hello from server" "what the peer received from your server"
}

@test "[nc] your server works with nc, a client that is not ours" {
    printf 'Hello from client' >"$WORK/hello"
    # -N: shut down the sending side at the end of input, as the contract's client does.
    local nc=(nc -N 127.0.0.1 '{port}')
    session impl peer --peer client nc --client-stdin "$WORK/hello"
    assert_ok server "${SERVER_LINES[@]}"
    assert_status client "exit 0"
    [[ $(cat "$S/client.stdout") == "Hello from server" ]] || fail "$(tr_printf "nc should have \
received '%s', it got '%s'" "Hello from server" "$(cat "$S/client.stdout")")$(session_context)"
}

@test "[no-server] client with no server reports the error and exits 1 at once" {
    # under Valgrind: the error path, too, closes what it opened and frees what it allocated
    session none impl --deadline 3 --valgrind client
    assert_status client "exit 1"
    assert_stderr_has client "Connection refused" \
        "that the connection was refused (perror(3) after connect(2) does)"
    assert_memcheck client Valgrind
}

@test "[silent-server] client gives up with a message when the server never answers" {
    # socat accepts the connection and hands it to a shell that keeps what the client sent,
    # then never says a word; -t 60 keeps the connection open after the client's EOF.
    local silent=(socat -t 60 'TCP-LISTEN:{port},reuseaddr' "SYSTEM:cat >received; sleep 60")
    session peer impl --peer server silent --deadline 20 --server-grace 0
    assert_bytes "$WORK/received" "Hello from client" \
        "the client should have connected and sent its hello first; what the peer received"
    assert_status client "exit 1"
    [[ -s "$S/client.stderr" ]] || fail "$(tr_printf "the client gave up but did not say why on \
stderr"; session_context)"
}

@test "[port-in-use] server on a port in use reports the error and exits 1" {
    assert_port_in_use
}

@test "[reuseaddr] server sets SO_REUSEADDR and can start again at once on the same port" {
    session impl impl --server-trace setsockopt
    assert_session_ran server
    assert_reuseaddr_traced
    session impl impl --port "$(cat "$S/port")"
    assert_session_ran server client
}

@test "[valgrind] no memory errors, leaks or open descriptors under Valgrind" {
    session impl impl --valgrind server,client
    assert_session_ran server client
    assert_memcheck server Valgrind
    assert_memcheck client Valgrind
}

@test "[sanitizers] AddressSanitizer and UBSan report nothing" {
    session asan asan
    assert_session_ran server client
    assert_memcheck server "AddressSanitizer/UBSan"
    assert_memcheck client "AddressSanitizer/UBSan"
}
