# chat.bash — what the chat labs' tests share (03 tcp-chat, 04 chat-exit). Load it after
# socklab.bash:
#
#     load ../../lib/socklab
#     load ../../lib/chat
#
# Lab 04's contract is lab 03's plus the `exit` rule, so both labs run the same chat tests:
# each is a function here (test_chat, test_empty, ...), and each lab's .bats file declares the
# @test with its [id] and calls it. Lab 04's own tests live in its .bats file.
#
# A conversation is a session.py script (see its header) given on stdin to `converse`:
#
#     converse impl impl <<'SCRIPT'
#     send client hello
#     expect server Client: hello
#     close client
#     expect server Connection closed by client.
#     SCRIPT
#     assert_conversation
#
# `converse` adds the opening lines every chat starts with (the server's "Waiting for a
# connection..." and "Connection established with client.", the client's "Connected to
# server.") and remembers every `expect` line, so that assert_conversation checks that the
# script went through, that each program printed exactly those lines and nothing else, and
# that both exited 0.

# A test that only replays its record reads no further (socklab.bash says why).
if prerun_replaying; then return 0; fi

SEED=${SOCKLAB_SEED:-1}     # the relay's random seed: set SOCKLAB_SEED to replay a failure

SERVER_OPENING=("Waiting for a connection..." "Connection established with client.")
CLIENT_OPENING=("Connected to server.")

# converse SERVER_SIDE CLIENT_SIDE [session options...] <script: conversation steps on stdin>
converse() {
    local step
    SERVER_EXPECT=("${SERVER_OPENING[@]}")
    CLIENT_EXPECT=("${CLIENT_OPENING[@]}")
    {
        for step in "${SERVER_OPENING[@]}"; do printf 'expect server %s\n' "$step"; done
        for step in "${CLIENT_OPENING[@]}"; do printf 'expect client %s\n' "$step"; done
        while IFS= read -r step; do
            printf '%s\n' "$step"
            case $step in
                "expect server "*) SERVER_EXPECT+=("${step#expect server }") ;;
                "expect client "*) CLIENT_EXPECT+=("${step#expect client }") ;;
            esac
        done
    } >"$WORK/script"
    session "$1" "$2" --script "$WORK/script" "${@:3}"
}

# assert_script: every step of the conversation happened (else its first failed step).
assert_script() {
    local result
    slurp result "$S/script.result"
    [[ $result == ok ]] || fail "$(tr_printf 'the chat did not go as the contract says:'
        printf '\n    %s' "${result:0:600}"; session_context)"
}

# assert_conversation: the script went through; both programs printed exactly the lines it
# expected and exited 0.
assert_conversation() {
    assert_script
    assert_ok server "${SERVER_EXPECT[@]}"
    assert_ok client "${CLIENT_EXPECT[@]}"
}

# long_line N: N printable bytes that do not repeat with a short period, so that a lost,
# doubled or reordered piece shows.
long_line() {
    local n=$1 text="" i=0
    while (( ${#text} < n )); do
        text+="$(( i++ )):The quick brown fox jumps over the lazy dog;"
    done
    printf '%s' "${text:0:n}"
}

# --- tests common to 03 and 04 -----------------------------------------------------------

# A three-turn chat, client first, ended by the client's end of input. The second line is
# shorter than the first, so that bytes left over from a longer line would show.
chat_script() {
    cat <<'SCRIPT'
send client Hello, server!
expect server Client: Hello, server!
send server Hi, client. 안녕하세요.
expect client Server: Hi, client. 안녕하세요.
send client How are you?
expect server Client: How are you?
send server Fine, thanks.
expect client Server: Fine, thanks.
send client Bye!
expect server Client: Bye!
send server Bye, and take care of yourself.
expect client Server: Bye, and take care of yourself.
close client
expect server Connection closed by client.
wait client
wait server
SCRIPT
}

# test_chat SERVER_SIDE CLIENT_SIDE: the three-turn chat between these two sides.
test_chat() {
    converse "$1" "$2" < <(chat_script)
    assert_conversation
}

# Empty and blank lines are messages too. (printf, so that the trailing blanks show here.)
test_empty() {
    printf '%s\n' "send client " "expect server Client: " "send server " \
        "expect client Server: " "send client    " "expect server Client:    " \
        "send server after an empty and a blank line" \
        "expect client Server: after an empty and a blank line" \
        "close client" "expect server Connection closed by client." "wait client" \
        "wait server" >"$WORK/empty.script"
    converse impl impl <"$WORK/empty.script"
    assert_conversation
}

test_long_line() {
    local to_server to_client
    to_server=$(long_line 4095)
    to_client=$(long_line 4096)
    to_client=${to_client:1}     # 4095 bytes too, another text
    converse impl impl <<SCRIPT
send client $to_server
expect server Client: $to_server
send server $to_client
expect client Server: $to_client
send client a short line after the long one
expect server Client: a short line after the long one
send server $to_client
expect client Server: $to_client
close client
expect server Connection closed by client.
wait client
wait server
SCRIPT
    assert_conversation
}

# Every byte in its own TCP segment, both ways: the lines must still be printed whole.
test_split() {
    converse impl impl --relay "$(relay_cmd tcp --split 1 --seed "$SEED")" <<'SCRIPT'
send client one byte at a time
expect server Client: one byte at a time
send server still one line
expect client Server: still one line
send client and again
expect server Client: and again
send server ok
expect client Server: ok
close client
expect server Connection closed by client.
wait client
wait server
SCRIPT
    assert_conversation
}

# Two lines in one segment: printed as two messages, each answered in turn, and the end of
# the client's input after them is still seen. Two chat programs never send two lines in a
# row (turns alternate), so the client is nc, which sends its whole input at once; the relay
# holds what arrives for 50 ms and forwards it in one send(), so the lines surely share one.
test_coalesce() {
    printf 'first line\nsecond line\n' >"$WORK/client.in"
    printf 'first answer\nsecond answer\n' >"$WORK/server.in"
    # -N: shut down the sending side at the end of input, as the contract's client does.
    local nc=(nc -N 127.0.0.1 '{port}')
    session impl peer --peer client nc --client-stdin "$WORK/client.in" \
        --server-stdin "$WORK/server.in" --relay "$(relay_cmd tcp --coalesce 50 --seed "$SEED")"
    assert_ok server "${SERVER_OPENING[@]}" "Client: first line" "Client: second line" \
        "Connection closed by client."
    assert_status client "exit 0"
    [[ $(cat "$S/client.stdout") == $'first answer\nsecond answer' ]] || fail "$(tr_printf "nc \
should have received both answers, one line each; it got:")
$(cat "$S/client.stdout")$(session_context)"
}

test_client_eof() {
    converse impl impl <<'SCRIPT'
close client
expect server Connection closed by client.
wait client
wait server
SCRIPT
    assert_conversation
    converse impl impl <<'SCRIPT'
send client one line, then the end of my input
expect server Client: one line, then the end of my input
send server got it
expect client Server: got it
close client
expect server Connection closed by client.
wait client
wait server
SCRIPT
    assert_conversation
}

server_eof_script() {
    cat <<'SCRIPT'
send client hello
expect server Client: hello
send server hello, and that is all I will say
expect client Server: hello, and that is all I will say
send client really?
expect server Client: really?
close server
expect client Connection closed by server.
wait server
wait client
SCRIPT
}

test_server_eof() {
    converse impl impl < <(server_eof_script)
    assert_conversation
}

# The server closes first (end of its input), so its port is left in TIME_WAIT: only
# SO_REUSEADDR lets it start again at once on the same port.
test_reuseaddr() {
    converse impl impl --server-trace setsockopt < <(server_eof_script)
    assert_conversation
    assert_reuseaddr_traced
    converse impl impl --port "$(cat "$S/port")" < <(chat_script)
    assert_conversation
}

# A client that connects and closes at once, without a word (nc -z).
test_vanish() {
    local nc=(nc -z 127.0.0.1 '{port}')
    session impl peer --peer client nc
    assert_ok server "${SERVER_OPENING[@]}" "Connection closed by client."
}

# Peers that break the contract: an over-long line, a line cut off by the end of the
# connection. The contract does not say what to print, but the server must end cleanly:
# exit 0 or 1, no crash, no hang, nothing for AddressSanitizer.
test_bad_peer() {
    local status nc=(nc -N 127.0.0.1 '{port}')
    long_line 5000 >"$WORK/long.in"
    echo >>"$WORK/long.in"
    printf 'half a li' >"$WORK/half.in"
    for input in long half; do
        session asan peer --peer client nc --client-stdin "$WORK/$input.in"
        [[ $(head -n 2 "$S/server.stdout") == "$(printf '%s\n' "${SERVER_OPENING[@]}")" ]] ||
            fail "$(tr_printf 'the server should first accept the client, printing:'
                printf '\n    %s\n    %s' "${SERVER_OPENING[@]}"; session_context)"
        status=$(cat "$S/server.status")
        [[ $status == "exit 0" || $status == "exit 1" ]] || fail "$(tr_printf "a client sent \
%s; the server should end with exit 0 or 1, but it ended with %s" "$(describe_input "$input")" \
            "$status"; hint_status "$status"; session_context)"
        assert_memcheck server "AddressSanitizer/UBSan"
    done
}

describe_input() {
    local described
    case $1 in
        long) tr_text described 'a 5000-byte line (over the 4095-byte limit)' ;;
        half) tr_text described "'half a li' without its '\\n', then closed the connection" ;;
    esac
    printf '%s\n' "$described"
}

test_no_server() {
    # under Valgrind: the error path, too, closes what it opened and frees what it allocated
    session none impl --deadline 3 --valgrind client
    assert_status client "exit 1"
    assert_stderr_has client "Connection refused" \
        "that the connection was refused (perror(3) after connect(2) does)"
    assert_memcheck client Valgrind
}



# socket() fails (strace makes it fail with EMFILE, as when a process has used up its
# descriptors): the program must say so and exit 1. socket() returns -1 on failure, never 0,
# so a check for "== 0" (the lesson's) lets -1 through as if it were a socket.
test_socket_error() {
    # --seccomp-bpf with trace=socket: the program stops at its socket() calls only
    local program inject=(strace -f --seccomp-bpf -qq -o /dev/null -e trace=socket
                          -e inject=socket:error=EMFILE)
    for program in server client; do
        if [[ $program == server ]]; then
            session impl none --deadline 3 --prefix server inject
        else
            session none impl --deadline 3 --prefix client inject
        fi
        assert_status "$program" "exit 1"
        # perror-style, as the contract asks: perror("socket failed") passes as well
        assert_perror "$program" socket "Too many open files"
    done
}

test_valgrind() {
    converse impl impl --valgrind server,client < <(chat_script)
    assert_conversation
    assert_memcheck server Valgrind
    assert_memcheck client Valgrind
}

test_sanitizers() {
    local line
    line=$(long_line 4095)
    converse asan asan <<SCRIPT
send client $line
expect server Client: $line
send server short
expect client Server: short
send client bye
expect server Client: bye
send server $line
expect client Server: $line
close client
expect server Connection closed by client.
wait client
wait server
SCRIPT
    assert_conversation
    assert_memcheck server "AddressSanitizer/UBSan"
    assert_memcheck client "AddressSanitizer/UBSan"
}

# --- lab 04: the exit rule -----------------------------------------------------------------

# The client types exit, as its first line or after a turn: it sends it, closes and exits 0
# without a word; the server says the client closed the connection.
test_exit_client() {
    converse impl impl <<'SCRIPT'
send client exit
expect server Connection closed by client.
wait client
wait server
SCRIPT
    assert_conversation
    converse impl impl <<'SCRIPT'
send client hello
expect server Client: hello
send server hello to you
expect client Server: hello to you
send client exit
expect server Connection closed by client.
wait client
wait server
SCRIPT
    assert_conversation
}

exit_server_script() {
    cat <<'SCRIPT'
send client hello
expect server Client: hello
send server exit
expect client Connection closed by server.
wait server
wait client
SCRIPT
}

test_exit_server() {
    converse impl impl < <(exit_server_script)
    assert_conversation
}

# Lines that look like exit but are not exactly "exit" are ordinary messages, both ways.
test_not_exit() {
    converse impl impl <<'SCRIPT'
send client exited
expect server Client: exited
send server exit now
expect client Server: exit now
send client  exit
expect server Client:  exit
send server exits
expect client Server: exits
send client EXIT
expect server Client: EXIT
send server exit!
expect client Server: exit!
send client exit
expect server Connection closed by client.
wait client
wait server
SCRIPT
    assert_conversation
}

# "exit\n" one byte per segment, each way: the line is reassembled, then recognised.
test_exit_split() {
    local relay
    relay=$(relay_cmd tcp --split 1 --seed "$SEED")
    converse impl impl --relay "$relay" <<'SCRIPT'
send client ex
expect server Client: ex
send server it
expect client Server: it
send client exit
expect server Connection closed by client.
wait client
wait server
SCRIPT
    assert_conversation
    converse impl impl --relay "$relay" < <(exit_server_script)
    assert_conversation
}

# Nothing leaks on the exit paths: exit typed by the client, then by the server.
test_valgrind_exit() {
    converse impl impl --valgrind server,client <<'SCRIPT'
send client hello
expect server Client: hello
send server hi
expect client Server: hi
send client exit
expect server Connection closed by client.
wait client
wait server
SCRIPT
    assert_conversation
    assert_memcheck server Valgrind
    assert_memcheck client Valgrind
    converse impl impl --valgrind server,client < <(exit_server_script)
    assert_conversation
    assert_memcheck server Valgrind
    assert_memcheck client Valgrind
}

test_sanitizers_exit() {
    local line
    line=$(long_line 4095)
    converse asan asan <<SCRIPT
send client $line
expect server Client: $line
send server $line
expect client Server: $line
send client short
expect server Client: short
send server exit
expect client Connection closed by server.
wait server
wait client
SCRIPT
    assert_conversation
    assert_memcheck server "AddressSanitizer/UBSan"
    assert_memcheck client "AddressSanitizer/UBSan"
}

# exit crosses the wire: the side that types it sends "exit\n" before it closes (a side that
# just closes looks the same to a chat peer, which prints the same line on EOF). The peers
# here are real tools that show the bytes: socat writes what it receives to a file; nc prints
# what it receives.
test_exit_wire() {
    local recorder=(socat -u 'TCP-LISTEN:{port},reuseaddr' 'CREATE:received')
    printf '%s\n' "expect client ${CLIENT_OPENING[0]}" "send client exit" "wait client" \
        >"$WORK/exit-client.script"
    session peer impl --peer server recorder --script "$WORK/exit-client.script"
    assert_script
    assert_ok client "${CLIENT_OPENING[@]}"
    assert_bytes "$WORK/received" $'exit\n' "the client typed exit; what the server received"
    local nc=(nc 127.0.0.1 '{port}')
    printf '%s\n' "${SERVER_OPENING[@]/#/expect server }" "send client hello" \
        "expect server Client: hello" "send server exit" "wait server" "close client" \
        "wait client" >"$WORK/exit-server.script"
    session impl peer --peer client nc --script "$WORK/exit-server.script"
    assert_script
    assert_ok server "${SERVER_OPENING[@]}" "Client: hello"
    assert_bytes "$S/client.stdout" $'exit\n' "the server typed exit; what the client received"
}
