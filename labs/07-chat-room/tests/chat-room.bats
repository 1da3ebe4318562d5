#!/usr/bin/env bats
# Lab 07 — chat room. Each test's [id] is its key in labs/labs.toml (points, hints).
#
# Most tests are checks of labs/lib/chatroom.py, which runs the room: the server under test,
# the harness's own clients (sockets that type, read and check every line), the lab's client
# programs, nc, socat and the relay, all started through session.py's launch(). A check writes
# "ok" or what went wrong into $S/check.result; the failure message adds how each program ended,
# the commands to run by hand, and the time-stamped transcript.

load ../../lib/socklab

SEED=${SOCKLAB_SEED:-1}     # the relay's random seed: set SOCKLAB_SEED to replay a failure
TRANSCRIPT_SHOWN=60         # lines of the transcript shown in a failure message (the last ones)
# Tests that run alone when a lab's tests run side by side (prerun.bash): [load] bounds the
# time 100 clients take, which other tests sharing the cores would stretch.
SOLO_TESTS=(load)

# room CHECK SERVER CLIENT [OPTION...]: runs chatroom.py's CHECK. SERVER and CLIENT are the
# lab programs it uses (impl, asan, ref, or none); the options go to chatroom.py as they are
# (--relay ARGV, --valgrind server,client).
room() {
    local check=$1 server_side=$2 client_side=$3 options=() dir
    shift 3
    if [[ $server_side != none ]]; then
        require_build "$server_side"
        dir=${server_side^^}_BIN
        options+=(--server "${!dir}/server")
    fi
    if [[ $client_side != none ]]; then
        require_build "$client_side"
        dir=${client_side^^}_BIN
        options+=(--client "${!dir}/client")
    fi
    if [[ $server_side == asan || $client_side == asan ]]; then options+=(--sanitizers); fi
    harness_python chatroom "$check" --out "$S" --cwd "$WORK" "${options[@]}" \
        "$@" 3>&-
}

# assert_room: the check went as the contract says; otherwise what it expected and saw, and
# the context.
assert_room() {
    local result
    slurp result "$S/check.result"
    [[ $result == ok ]] || fail "$([[ -n $result ]] && printf '%s\n' "$result" ||
        printf '%s\n' "$(tr_printf 'chatroom.py wrote no result (a socklab bug)')"; room_context)"
}

# room_context: how each program ended and what it said on stderr, the relay's log, the
# commands to run by hand, and the end of the transcript.
room_context() {
    local status name
    echo
    for status in "$S"/*.status; do
        [[ -f $status ]] || continue
        name=${status##*/}
        name=${name%.status}
        echo "$name: $(cat "$status")"
        if [[ -s "$S/$name.stderr" ]]; then
            tr_printf "%s's stderr:" "$name"; echo
            head -n 10 "$S/$name.stderr" | sed 's/^/    /'
        fi
    done
    if [[ -s "$S/relay.log" ]]; then
        tr_printf 'relay log, first 20 of %s lines (replay: SOCKLAB_SEED=%s):' \
            "$(wc -l <"$S/relay.log")" "$SEED"; echo
        head -n 20 "$S/relay.log" | sed 's/^/    /'
    fi
    tr_printf 'reproduce by hand (from %s): the room, then clients in other terminals' "$IMPL"
    echo
    for name in "$S"/server*.argv "$S"/client*.argv; do
        [[ -f $name ]] && echo "    $(sed "s|$BUILD_DIR/[^/]*/|./|" "$name")"
    done
    printf '    nc 127.0.0.1 PORT      (%s)\n' \
        "$(tr_printf 'a client you type into; ./client ::1 PORT too')"
    tr_printf 'what happened, in order (the last %s lines):' "$TRANSCRIPT_SHOWN"; echo
    tail -n "$TRANSCRIPT_SHOWN" "$S/transcript" 2>/dev/null | sed 's/^/    /'
}

@test "[build] server.c and client.c compile without warnings under gcc and clang" {
    assert_builds
}

@test "[args] bad PORT or too many arguments: a usage line, exit 2, no socket opened" {
    # HOST is a name here: "localhost" is a good HOST, unlike in labs 01-06
    assert_usage "server 0" "server 80x" "server 8080 extra" "client localhost 0" \
        "client ::1 65536" "client localhost 8080 extra"
}

@test "[room] joins, lines to every other client, leaving, names never reused, SIGTERM" {
    room room impl none
    assert_room
}

@test "[commands] /who, /nick, /quit and unknown commands, answered to the asker alone" {
    room commands impl none
    assert_room
}

@test "[nc-socat] nc and socat join the room and talk both ways" {
    room nc-socat impl none
    assert_room
}

@test "[ipv6] your clients over 127.0.0.1, ::1 and localhost meet in one room" {
    room ipv6 impl impl
    assert_room
}

@test "[bad-host] a HOST that does not resolve: the client says so and exits 1" {
    local host=(no-such-host.invalid '{port}')
    session none impl --args client host --deadline 10
    assert_status client "exit 1"
    grep -q "no-such-host.invalid" "$S/client.stderr" || fail "$(tr_printf "the client should \
say on stderr that no-such-host.invalid does not resolve, naming it (getaddrinfo(3) failed: \
print the HOST and gai_strerror() of its code)"; session_context)"
    ! grep -q "Connected" "$S/client.stdout" || fail "$(tr_printf "the client printed \
'Connected' for a HOST that does not resolve"; session_context)"
}

@test "[no-server] client with no server reports the error and exits 1 at once" {
    session none impl --deadline 3
    assert_status client "exit 1"
    assert_stderr_has client "Connection refused" \
        "that the connection was refused (strerror(errno) after the last connect(2))"
}

@test "[load] 100 clients, 20 lines each: every line to every other client once, in order" {
    room load impl none
    assert_room
}

@test "[one-thread] a busy room: the server stays one thread and starts no process" {
    room one-thread impl none
    assert_room
}

@test "[slow-reader] a client that never reads stalls nobody, and is dropped past 64 KiB" {
    room slow-reader impl none
    assert_room
}

@test "[half-line] half a line and a pause block nobody; the line arrives whole" {
    room half-line impl none
    assert_room
}

@test "[split] a client heard one byte per TCP segment: whole lines, and nobody waits" {
    require_relay
    room split impl none --relay "$(relay_cmd tcp --split 1 --seed "$SEED")"
    assert_room
}

@test "[reset] a client that vanishes (reset) with lines waiting: it left, the room goes on" {
    room reset impl none
    assert_room
}

@test "[too-long] 4095 bytes pass; 1 MiB without a newline gets its sender dropped" {
    room too-long impl none
    assert_room
}

@test "[silent] a client that connects and says nothing changes nothing for the others" {
    room silent impl none
    assert_room
}

@test "[flood] 200 connects and disconnects: the room goes on, no descriptor is left open" {
    room flood impl none
    assert_room
}

@test "[client-poll] your client prints the room's lines while it waits for input" {
    room client-poll none impl
    assert_room
}

@test "[client-ends] your client: end of input, exit 0; the room closes, it says so, exit 0" {
    room client-ends none impl
    assert_room
}

@test "[sigterm] SIGTERM and SIGINT: every connection closed, 'Chat room closed.', exit 0" {
    room sigterm impl none
    assert_room
}

@test "[ref-client] your server with three reference clients" {
    room conversation impl ref
    assert_room
}

@test "[ref-server] three of your clients in the reference server's room" {
    room conversation ref impl
    assert_room
}

@test "[port-in-use] server on a port in use reports the error and exits 1" {
    session impl none --occupy --deadline 3
    assert_status server "exit 1"
    assert_stderr_has server "bind" "that bind failed (perror(\"server: bind\") does)"
}

@test "[reuseaddr] server sets SO_REUSEADDR and can start again at once on the same port" {
    room reuseaddr impl none
    assert_room
}

@test "[valgrind] no memory error, leak or open descriptor under Valgrind, SIGTERM included" {
    room memory impl impl --valgrind server,client
    assert_room
    assert_memcheck server Valgrind
    assert_memcheck client Valgrind
}

@test "[sanitizers] AddressSanitizer and UBSan report nothing" {
    room memory asan asan
    assert_room
    assert_memcheck server "AddressSanitizer/UBSan"
    assert_memcheck client "AddressSanitizer/UBSan"
}
