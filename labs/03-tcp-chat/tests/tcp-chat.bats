#!/usr/bin/env bats
# Lab 03 — TCP chat. Each test's [id] is its key in labs/labs.toml (points, hints).
# The tests themselves are in labs/lib/chat.bash: lab 04 runs them too.

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

@test "[empty] empty and blank lines are messages too" {
    test_empty
}

@test "[long-line] lines of 4095 bytes go both ways, and a short line after them" {
    test_long_line
}

@test "[split] lines that arrive one byte per TCP segment are printed whole" {
    test_split
}

@test "[coalesce] two lines in one TCP segment are two messages" {
    test_coalesce
}

@test "[client-eof] end of the client's input: it closes, the server says so, both exit 0" {
    test_client_eof
}

@test "[server-eof] end of the server's input: it closes, the client says so, both exit 0" {
    test_server_eof
}

@test "[reuseaddr] server sets SO_REUSEADDR and can start again at once on the same port" {
    test_reuseaddr
}

@test "[vanish] a client that connects and leaves without a word ends the chat cleanly" {
    test_vanish
}

@test "[bad-peer] an over-long or cut-off line ends the server cleanly, without a crash" {
    test_bad_peer
}

@test "[no-server] client with no server reports the error and exits 1 at once" {
    test_no_server
}

@test "[port-in-use] server on a port in use reports the error and exits 1" {
    assert_port_in_use
}

@test "[socket-error] a failing socket() is reported and ends the program with status 1" {
    test_socket_error
}

@test "[ref-client] your server chats with the reference client" {
    test_chat impl ref
}

@test "[ref-server] your client chats with the reference server" {
    test_chat ref impl
}

@test "[valgrind] no memory errors, leaks or open descriptors under Valgrind" {
    test_valgrind
}

@test "[sanitizers] AddressSanitizer and UBSan report nothing" {
    test_sanitizers
}
