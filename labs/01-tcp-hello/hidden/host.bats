#!/usr/bin/env bats
# Lab 01 — hidden tests: graded with `socklab grade --hidden`, not handed out to students.

load ../../lib/socklab

@test "[host-arg] client connects to the HOST it is given, not always to 127.0.0.1" {
    # A peer that listens on 127.0.0.2 only: a client that ignores HOST is refused.
    local to_host=(127.0.0.2 '{port}')
    local peer=(socat -t 5 'TCP-LISTEN:{port},bind=127.0.0.2,reuseaddr' 'SYSTEM:sh peer.sh')
    # the peer's script, in its working folder: socat's SYSTEM address splits no quotes
    printf '%s\n' "cat >received" "printf 'Hello from server'" >"$WORK/peer.sh"
    session peer impl --peer server peer --args client to_host
    assert_ok client "Hello message sent" "Message from server: Hello from server"
    assert_bytes "$WORK/received" "Hello from client" "what the peer on 127.0.0.2 received"
}
