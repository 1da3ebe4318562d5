#!/usr/bin/env bats
# Lab 04 — chat with exit. Each test's [id] is its key in labs/labs.toml (points, hints).
# Lab 04's contract is lab 03's plus the exit rule. The core of lab 03's tests runs here too
# (labs/lib/chat.bash): the chat, split lines, the ends of input, the common tests; lab 03's
# finer points (long, empty or coalesced lines, restarts, bad peers) are graded there.

load ../../lib/socklab
load ../../lib/chat

@test "[build] server.c and client.c compile without warnings under gcc and clang" {
    assert_builds
}

@test "[args] bad arguments print a usage line, exit 2 and open no socket" {
    assert_bad_arguments
}

@test "[chat] a three-turn chat, client first, each line printed once and whole" {
    test_chat impl impl
}

@test "[split] lines that arrive one byte per TCP segment are printed whole" {
    test_split
}

@test "[client-eof] end of the client's input: it closes, the server says so, both exit 0" {
    test_client_eof
}

@test "[server-eof] end of the server's input: it closes, the client says so, both exit 0" {
    test_server_eof
}

@test "[no-server] client with no server reports the error and exits 1 at once" {
    test_no_server
}

@test "[ref-client] your server chats with the reference client" {
    test_chat impl ref
}

@test "[ref-server] your client chats with the reference server" {
    test_chat ref impl
}

@test "[exit-client] exit typed by the client ends the chat: both exit 0" {
    test_exit_client
}

@test "[exit-server] exit typed by the server ends the chat: both exit 0" {
    test_exit_server
}

@test "[exit-wire] the side that types exit sends it before it closes" {
    test_exit_wire
}

@test "[not-exit] exited, exit now, ' exit', exits, EXIT and exit! are ordinary messages" {
    test_not_exit
}

@test "[exit-split] exit arriving one byte per TCP segment still ends the chat" {
    test_exit_split
}

@test "[valgrind] no memory errors, leaks or open descriptors under Valgrind, exit paths too" {
    test_valgrind_exit
}

@test "[sanitizers] AddressSanitizer and UBSan report nothing, exit path too" {
    test_sanitizers_exit
}
