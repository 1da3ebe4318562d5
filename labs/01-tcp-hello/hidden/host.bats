#!/usr/bin/env bats
# Lab 01 — hidden tests: graded with `socklab grade --hidden`, not handed out to students.

load ../../lib/socklab

@test "[host-arg] client connects to the HOST it is given, not always to 127.0.0.1" {
    # A peer that listens on 127.0.0.2 only: a client that ignores HOST is refused.
    CLIENT_ARGS='127.0.0.2 {port}'
    printf '%s\n' "cat >'$WORK/received'" "printf 'Hello from server'" >"$WORK/peer.sh"
    session none impl --server \
        "socat -t 5 TCP-LISTEN:{port},bind=127.0.0.2,reuseaddr SYSTEM:'sh $WORK/peer.sh'"
    assert_ok client "Hello message sent" "Message from server: Hello from server"
    [[ $(cat "$WORK/received") == "Hello from client" ]] || fail "the peer on 127.0.0.2 \
received '$(cat "$WORK/received")' instead of 'Hello from client'$(session_context)"
}
