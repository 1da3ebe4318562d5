#!/usr/bin/env bats
# Lab 09 — a TFTP server. Each test's [id] is its key in labs/labs.toml (points, hints).
#
# The lab has a server only: its clients are real ones (tftp-hpa's tftp, atftp, curl) and a
# peer that speaks TFTP packet by packet, both driven by labs/lib/tftppeer.py, which starts
# every program through session.py. Each test below is one of its scenarios, named by the
# test's id; the scenario's docstring says what it does, step by step. The server serves
# WORK/root; WORK/secret.txt is outside ROOT, where no request may reach.

# Each test's limit: 32 MiB each way with stop-and-wait clients, or Valgrind, take longer than
# other labs' tests. Set before the library is loaded, which reads it (labs/lib/prerun.bash:
# prerun_no_watchdog).
export BATS_TEST_TIMEOUT=$(( ${BATS_TEST_TIMEOUT:-0} > 120 ? BATS_TEST_TIMEOUT : 120 ))

load ../../lib/socklab

PROGRAMS=(server)          # a server only: there is no client.c in this lab
PROTO=udp
SERVER_ARGS=('{port}' root)
# Tests that run alone when a lab's tests run side by side (prerun.bash): [timeout] times
# when DATA is sent again.
SOLO_TESTS=(timeout)
# Started first when the tests run side by side (prerun.bash): [abandon] waits out 5 tries of the
# server's timeout.
FIRST_TESTS=(abandon)

# tftp_scenario SIDE SCENARIO [DRIVER OPTION...]: plays SCENARIO against SIDE's server (impl or
# asan); fails with the scenario's message, then the session's context, when a check failed.
tftp_scenario() {
    local side=$1 scenario=$2 dir result extra=()
    shift 2
    require_build "$side"
    dir=${side^^}_BIN
    [[ $side == asan ]] && extra+=(--sanitizers)
    harness_python tftppeer "$scenario" --out "$S" --server "${!dir}/server" \
        --work "$WORK" --seed "${SOCKLAB_SEED:-1}" "${extra[@]}" "$@" 3>&-
    slurp result "$S/scenario.result"
    [[ $result == ok ]] || fail "$([[ -n $result ]] && printf '%s' "$result" ||
        tr_printf 'the scenario did not finish (a socklab bug?)')$(session_context)"
}

@test "[build] server.c compiles without warnings under gcc and clang" {
    assert_builds
}

@test "[args] bad arguments print a usage line, exit 2 and open no socket" {
    assert_usage "server 0" "server 80x" "server 65536" "server 6969 root extra"
}

@test "[root] a ROOT that is missing or not a folder: stderr, exit 1" {
    local missing=('{port}' no-such-folder) file=('{port}' plain.txt)
    session impl none --args server missing --deadline 3
    assert_status server "exit 1"
    assert_stderr_has server "No such file or directory" "why it cannot serve no-such-folder \
(strerror(errno) after open(2): 'No such file or directory')"
    printf 'not a folder\n' >"$WORK/plain.txt"
    session impl none --args server file --deadline 3
    assert_status server "exit 1"
    assert_stderr_has server "Not a directory" "why it cannot serve plain.txt, a file \
(open(2) with O_DIRECTORY: 'Not a directory')"
}

@test "[start-stop] it says where it listens, and stops cleanly on SIGTERM and SIGINT" {
    tftp_scenario impl start-stop
}

@test "[read] tftp-hpa reads files of 0, 511, 512, 513 bytes and 100 KB" {
    tftp_scenario impl read
}

@test "[write] tftp-hpa writes files of 0, 511, 512, 513 bytes and 100 KB" {
    tftp_scenario impl write
}

@test "[netascii] netascii translates line ends both ways, across block boundaries" {
    tftp_scenario impl netascii
}

@test "[large] 32 MiB each way: block numbers wrap from 65535 to 0" {
    tftp_scenario impl large
}

@test "[new-tid] each transfer answers from a new port of its own" {
    tftp_scenario impl new-tid
}

@test "[concurrent] 16 transfers at once, and 16 real clients side by side" {
    tftp_scenario impl concurrent
}

@test "[oack] an OACK matches the request: accepted options only, DATA after ACK 0" {
    tftp_scenario impl oack
}

@test "[blksize] DATA follows the negotiated block size (8, 1428, 65464)" {
    tftp_scenario impl blksize
}

@test "[windowsize] windowsize: a window of blocks, resent from a lost one, ACKs per window" {
    tftp_scenario impl windowsize
}

@test "[timeout] the timeout option sets when DATA is sent again" {
    tftp_scenario impl timeout
}

@test "[tsize] tsize gives a read the file's size and confirms a write's" {
    tftp_scenario impl tsize
}

@test "[clients] atftp (blksize 1428, windowsize 16, tsize) and curl, both ways" {
    tftp_scenario impl clients
}

@test "[errors] errors 1, 4 and 6, each ending its transfer; the server goes on" {
    tftp_scenario impl errors
}

@test "[stranger] a stranger's packet gets error 5, and the transfer goes on" {
    tftp_scenario impl stranger
}

@test "[retransmit] a lost DATA and a lost ACK are sent again; a repeated DATA is written once" {
    tftp_scenario impl retransmit
}

@test "[sorcerer] a duplicate ACK never brings a duplicate DATA (Sorcerer's Apprentice)" {
    tftp_scenario impl sorcerer
}

@test "[abandon] a silent client: 5 tries, then the transfer ends; a half write leaves no file" {
    tftp_scenario impl abandon
}

@test "[path-read] reads of names that lead out of ROOT get error 2, never a byte outside" {
    tftp_scenario impl path-read
}

@test "[path-write] writes of names that lead out of ROOT get error 2, nothing is written" {
    tftp_scenario impl path-write
}

@test "[port-in-use] server on a port in use reports the error and exits 1" {
    mkdir -p "$WORK/root"
    assert_port_in_use
}

@test "[reuseaddr] server sets SO_REUSEADDR" {
    mkdir -p "$WORK/root"
    session impl none --deadline 0.5 --server-trace setsockopt
    assert_reuseaddr_traced
}

@test "[valgrind] no memory error, leak or open descriptor, stopped by SIGTERM mid-transfer" {
    tftp_scenario impl valgrind --valgrind
    assert_memcheck server Valgrind
}

@test "[sanitizers] AddressSanitizer and UBSan report nothing, hostile packets included" {
    tftp_scenario asan sanitizers
    assert_memcheck server "AddressSanitizer/UBSan"
}
