#!/usr/bin/env bats
# Lab 02 — UDP hello. Each test's [id] is its key in labs/labs.toml (points, hints).

load ../../lib/socklab
# shellcheck disable=SC2034  # PROTO and CLIENT_ARGS are read by socklab.bash's session()
PROTO=udp   # session.py waits for the server's UDP port, not for a TCP listener

SERVER_LINES=("Message from client: Hello from client" "Hello message sent")
CLIENT_LINES=("Hello message sent" "Message from server: Hello from server")
ANSWER_TIMEOUT_S=2               # the contract: the client gives up after 2 s without an answer
VALGRIND_SLOWDOWN=4              # Valgrind's start-up and slowdown, in seconds at most
PEER="$BATS_TEST_DIRNAME/udp_peer.py"   # a stand-in server with tricks (see its header)
# Started first when the tests run side by side (prerun.bash): [no-server] and [trickle] wait out
# the client's 2 s give-up.
FIRST_TESTS=(no-server trickle)

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

# nc_got TEXT: what nc printed is TEXT (the server's datagram, without a newline).
nc_got() {
    [[ $(cat "$S/client.stdout") == "$1" ]] || fail "$(tr_printf "nc should have received '%s', \
it got '%s'" "$1" "$(cat "$S/client.stdout")")$(session_context)"
}

@test "[nc] your server works with nc, a client that is not ours" {
    printf 'Hello from client' >"$WORK/hello"
    # -u: UDP, one datagram per read of its input; -W 1: exit after one datagram received.
    local nc=(nc -u -W 1 127.0.0.1 '{port}')
    session impl peer --peer client nc --client-stdin "$WORK/hello" --deadline 5
    assert_ok server "${SERVER_LINES[@]}"
    nc_got "Hello from server"
    assert_status client "exit 0"
}

@test "[reply-address] server answers the address the datagram came from" {
    printf 'Hello from client' >"$WORK/hello"
    # -s 127.0.0.2: nc sends from another loopback address, so an answer sent anywhere but
    # to the datagram's source (127.0.0.1, say) never reaches it.
    local nc=(nc -u -W 1 -s 127.0.0.2 127.0.0.1 '{port}')
    session impl peer --peer client nc --client-stdin "$WORK/hello" --deadline 5
    assert_ok server "${SERVER_LINES[@]}"
    [[ $(cat "$S/client.stdout") == "Hello from server" ]] || fail "$(tr_printf "nc sent its \
datagram from 127.0.0.2 and never got the answer there: the server must sendto() the address \
recvfrom() reported, not one of its own choosing"; session_context)"
    assert_status client "exit 0"
}

@test "[host] client sends to HOST, not to INADDR_ANY" {
    # The stand-in server listens on 127.0.0.2 only: a datagram sent to INADDR_ANY reaches
    # 127.0.0.1 on Linux, where nobody listens.
    local to_host=(127.0.0.2 '{port}') peer=("$PYTHON" "$PEER" '{port}' --bind 127.0.0.2)
    session peer impl --peer server peer --args client to_host --deadline 6
    local received
    received=$(sed -n "s/^received \(.*\) from .*/\1/p" "$S/server.stdout")
    if [[ -z $received ]]; then
        # A client that never said it sent anything fails on its own lines first.
        grep -qx "Hello message sent" "$S/client.stdout" || assert_ok client "${CLIENT_LINES[@]}"
        fail "$(tr_printf "the server at 127.0.0.2 received no hello: the client must send to \
the HOST it is given (sin_addr = args.host), not to INADDR_ANY"; session_context)"
    fi
    [[ $received == "'Hello from client'" ]] || fail "$(tr_printf "the server at 127.0.0.2 \
received %s, not exactly the 17 bytes '%s'" "$received" "Hello from client"
        if [[ $received == *'\x00'* ]]; then
            tr_text note " (the '\\0' that ends a C string is not part of the message: send \
strlen(message) bytes, not sizeof)"
            printf '%s' "$note"
        fi
        session_context)"
    assert_ok client "${CLIENT_LINES[@]}"
}

@test "[stranger] client ignores datagrams that do not come from the server" {
    # Before its answer, the stand-in server has two other sockets send the client longer
    # datagrams: one from another port, one from the server's port on another address.
    local peer=("$PYTHON" "$PEER" '{port}' --strangers)
    session peer impl --peer server peer --deadline 6
    assert_ok client "${CLIENT_LINES[@]}"
    grep -q "^sent two stray datagrams" "$S/server.stdout" || fail "$(tr_printf "the stand-in \
server did not send its stray datagrams (a socklab bug)"; session_context)"
}

@test "[no-server] client with no server reports the timeout on stderr and exits 1" {
    session none impl --deadline 5 --valgrind client
    assert_status client "exit 1"
    assert_stderr_has client . "why it gave up"
    assert_memcheck client Valgrind
    # Its wait is timed from its hello to its end: Valgrind's own start, slow on a loaded
    # machine, is not the client's wait (and a client that never sent its hello never waited).
    grep -qx "Hello message sent" "$S/client.stdout" || fail "$(tr_printf "the client should \
first send its hello to the server (then wait for the answer)"; session_context)"
    local waited
    waited=$(seconds_between ' client out +Hello message sent' ' harness +client ended')
    # A client that connect()s its socket learns at once that nobody listens (the ICMP "port
    # unreachable" becomes ECONNREFUSED): a prompt give-up that says so is right. Any other
    # give-up must wait most of the 2 s (nothing can answer that fast when no server is there).
    # At most twice as long, and Valgrind's slowdown: room for a loaded machine. The wording
    # is the student's.
    if ! grep -q "Connection refused" "$S/client.stderr"; then
        awk -v w="$waited" -v t="$ANSWER_TIMEOUT_S" 'BEGIN { exit !(w >= t * 0.75) }' \
            || fail "$(tr_printf "the client gave up %s s after it sent its hello: wait for \
the answer for %s s before giving up (poll(2), or SO_RCVTIMEO in socket(7))" "$waited" \
            "$ANSWER_TIMEOUT_S"; session_context)"
    fi
    awk -v w="$waited" -v t="$ANSWER_TIMEOUT_S" -v slow="$VALGRIND_SLOWDOWN" \
        'BEGIN { exit !(w <= t * 2 + slow) }' \
        || fail "$(tr_printf "the client gave up %s s after it sent its hello, long after the \
contract's %s s" "$waited" "$ANSWER_TIMEOUT_S"; session_context)"
}

@test "[trickle] the 2 s are one deadline: strangers' datagrams do not extend it" {
    # The stand-in server never answers, but a stranger sends the client a datagram every
    # 0.25 s for 8 s: a client that starts its 2 s again on each one waits all 8.
    local peer=("$PYTHON" "$PEER" '{port}' --trickle)
    session peer impl --peer server peer --deadline 12 --server-grace 0
    # what the hello holds is [host]'s business: here only that one was sent
    grep -q "^received " "$S/server.stdout" || fail "$(tr_printf "the client \
should first send its hello to the server (then wait for the answer)"; session_context)"
    assert_status client "exit 1"
    assert_stderr_has client . "why it gave up"
    local waited
    waited=$(seconds_between ' harness +starts client' ' harness +client ended')
    awk -v w="$waited" -v t="$ANSWER_TIMEOUT_S" 'BEGIN { exit !(w <= t * 2) }' \
        || fail "$(tr_printf "the client gave up %s s after it started, while strangers kept \
sending it datagrams: its %s s must be one deadline for the whole wait, not a timeout that \
starts again with every datagram (poll(2) with the time left, clock_gettime(2))" "$waited" \
        "$ANSWER_TIMEOUT_S"; session_context)"
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
