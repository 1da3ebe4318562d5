#!/bin/bash
# udp_done_bench.sh — goodput of lab 06's reference on loopback, beside two real peers.
#
#     tests/bench/udp_done_bench.sh [-s SIZE_MIB] [-r RUNS]      (defaults: 64 MiB, 3 runs)
#
# Moves one SIZE_MIB random file client -> server, RUNS times each way, and prints the median
# goodput (file bytes / time until the receiver has the whole file) of:
#   - lab 06's reference (solutions/06-udp-done, built -O2): clean, through the relay with no
#     fault, and through the relay dropping 1% and 5% of datagrams each way;
#   - TCP: nc from netcat-openbsd (the kernel's windowed, reliable transfer);
#   - TFTP: tftpd-hpa's server and tftp-hpa's client (RFC 1350: stop-and-wait, 512-byte
#     blocks), a `put` like our client's upload.
# Every transfer is checked by SHA-256. A benchmark, not a test: it prints figures and checks
# two targets, exit 1 if missed: 06 clean at least 1.5x TFTP; 06 at 1% loss at least half of
# 06 clean through the same relay (the relay's own cost, two more hops per round trip, is
# shown apart: on a busy 2-CPU machine it, not the loss, sets the pace). Ports come from the OS; traffic stays on 127.0.0.1; every run is bounded by
# RUN_TIMEOUT_S. Needs: gcc, python3, nc (netcat-openbsd), in.tftpd (tftpd-hpa), tftp
# (tftp-hpa).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIZE_MIB=64
RUNS=3
RUN_TIMEOUT_S=120
SEED=${SOCKLAB_SEED:-1}
while getopts "s:r:" opt; do
    case $opt in
        s) SIZE_MIB=$OPTARG ;;
        r) RUNS=$OPTARG ;;
        *) sed -n '2,5p' "$0" >&2; exit 2 ;;
    esac
done

for tool in gcc /usr/bin/python3 nc in.tftpd tftp timeout; do
    command -v "$tool" >/dev/null || { echo "udp_done_bench: $tool is missing" >&2; exit 2; }
done

TMP=$(mktemp -d /tmp/udp-done-bench.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

# --- setup ----------------------------------------------------------------------------------

mkdir -p "$TMP/bin" "$TMP/tftp"
for program in server client; do
    gcc -std=c11 -O2 -o "$TMP/bin/$program" "$ROOT/solutions/06-udp-done/$program.c"
done
gcc -std=c11 -O2 -o "$TMP/bin/relay" "$ROOT/labs/lib/relay.c"
/usr/bin/python3 "$ROOT/labs/lib/filecheck.py" make "random:${SIZE_MIB}M" "$TMP/sent.bin" \
    --seed "$SEED"
SIZE=$(stat -c %s "$TMP/sent.bin")
SENT_SHA=$(sha256sum <"$TMP/sent.bin" | cut -c1-64)

free_port() {   # free_port udp|tcp: a port the OS hands out, released at once
    /usr/bin/python3 -c 'import socket, sys
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, kind); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "$1"
}

wait_bound() {  # wait_bound udp|tcp PORT: until something is bound (listening) there, <= 5 s
    local i flag=-uln
    [[ $1 == tcp ]] && flag=-tln
    for (( i = 0; i < 500; i++ )); do
        [[ -n $(ss -H "$flag" "sport = :$2") ]] && return 0
        sleep 0.01
    done
    echo "udp_done_bench: nothing bound to $1 port $2 after 5 s" >&2
    return 1
}

now_ns() { date +%s%N; }

check() {  # check FILE: the transfer arrived whole
    local got
    got=$(sha256sum <"$1" | cut -c1-64)
    [[ $got == "$SENT_SHA" ]] || { echo "udp_done_bench: $1 differs from the file sent" >&2
                                   return 1; }
}

# --- one transfer each; each prints its elapsed nanoseconds ----------------------------------

run_06() {   # run_06 [RELAY FAULT OPTIONS...] (no argument: no relay)
    local port target start end server relay=""
    port=$(free_port udp)
    rm -f "$TMP/received.bin"
    "$TMP/bin/server" "$port" "$TMP/received.bin" >/dev/null &
    server=$!
    PIDS+=("$server")
    wait_bound udp "$port"
    target=$port
    if (( $# > 0 )); then
        target=$(free_port udp)
        "$TMP/bin/relay" --proto udp --listen "$target" --to "$port" --seed "$SEED" "$@" &
        relay=$!
        PIDS+=("$relay")
        wait_bound udp "$target"
    fi
    start=$(now_ns)
    timeout "$RUN_TIMEOUT_S" "$TMP/bin/client" 127.0.0.1 "$target" "$TMP/sent.bin" >/dev/null
    end=$(now_ns)
    [[ -n $relay ]] && { kill "$relay"; wait "$relay" || true; }
    wait "$server"      # it lingers one second after its DONE: not part of the transfer
    check "$TMP/received.bin"
    echo $(( end - start ))
}

run_tcp() {
    local port start end receiver
    port=$(free_port tcp)
    rm -f "$TMP/received.bin"
    timeout "$RUN_TIMEOUT_S" nc -l 127.0.0.1 "$port" >"$TMP/received.bin" &
    receiver=$!
    PIDS+=("$receiver")
    wait_bound tcp "$port"
    start=$(now_ns)
    timeout "$RUN_TIMEOUT_S" nc -N 127.0.0.1 "$port" <"$TMP/sent.bin"
    wait "$receiver"    # the receiver has written everything when it sees the EOF
    end=$(now_ns)
    check "$TMP/received.bin"
    echo $(( end - start ))
}

run_tftp() {
    local port start end server
    port=$(free_port udp)
    rm -f "$TMP/tftp/received.bin"
    # -L: foreground; -s: serve this folder; -c: uploads may create files; -u: stay this user
    # (the default, nobody, could not write here). One tftpd per run, killed afterwards.
    in.tftpd -L -a "127.0.0.1:$port" -s "$TMP/tftp" -c -u "$(id -un)" &
    server=$!
    PIDS+=("$server")
    wait_bound udp "$port"
    start=$(now_ns)
    timeout "$RUN_TIMEOUT_S" tftp -m binary 127.0.0.1 "$port" -c put "$TMP/sent.bin" \
        received.bin >/dev/null
    end=$(now_ns)
    kill "$server"
    wait "$server" 2>/dev/null || true
    check "$TMP/tftp/received.bin"
    echo $(( end - start ))
}

# --- the table -------------------------------------------------------------------------------

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mbps() { awk -v b="$SIZE" -v ns="$1" 'BEGIN { printf "%.1f", b / (ns / 1e9) / 1e6 }'; }

declare -A GOODPUT
measure() {   # measure NAME COMMAND...: RUNS runs, keeps the median
    local name=$1 times=() i ns
    shift
    for (( i = 0; i < RUNS; i++ )); do
        ns=$("$@")
        times+=("$ns")
    done
    ns=$(printf '%s\n' "${times[@]}" | median)
    GOODPUT[$name]=$(mbps "$ns")
    printf '  %-34s %8s MB/s   (runs: %s s)\n' "$name" "${GOODPUT[$name]}" \
        "$(for t in "${times[@]}"; do awk -v t="$t" 'BEGIN { printf "%.2f ", t / 1e9 }'; done)"
}

echo "udp_done_bench: ${SIZE_MIB} MiB, ${RUNS} runs each (median), seed $SEED, $(nproc) CPUs," \
     "load $(cut -d' ' -f1-3 /proc/loadavg)"
measure "TCP (nc)" run_tcp
measure "TFTP (tftp-hpa, 512-byte blocks)" run_tftp
measure "06 reference, clean" run_06
measure "06 reference, relay, no loss" run_06 --drop 0
measure "06 reference, relay, 1% loss" run_06 --drop 0.01
measure "06 reference, relay, 5% loss" run_06 --drop 0.05

ratio() { awk -v a="${GOODPUT[$1]}" -v b="${GOODPUT[$2]}" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "ratios:"
echo "  06 clean / TFTP              $(ratio "06 reference, clean" "TFTP (tftp-hpa, 512-byte blocks)")   (target >= 1.5)"
echo "  06 relay 1% loss / no loss  $(ratio "06 reference, relay, 1% loss" "06 reference, relay, no loss")   (target >= 0.5)"
echo "  06 relay 5% loss / no loss  $(ratio "06 reference, relay, 5% loss" "06 reference, relay, no loss")"
echo "  06 relay no loss / clean    $(ratio "06 reference, relay, no loss" "06 reference, clean")   (the relay's own cost)"
echo "  06 relay 1% loss / clean    $(ratio "06 reference, relay, 1% loss" "06 reference, clean")"
echo "  TCP / 06 clean              $(ratio "TCP (nc)" "06 reference, clean")"

awk -v a="$(ratio "06 reference, clean" "TFTP (tftp-hpa, 512-byte blocks)")" \
    -v b="$(ratio "06 reference, relay, 1% loss" "06 reference, relay, no loss")" \
    'BEGIN { exit !(a >= 1.5 && b >= 0.5) }' || { echo "udp_done_bench: a target was missed"; exit 1; }
echo "udp_done_bench: both targets met"
