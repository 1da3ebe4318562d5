#!/bin/bash
# udp_window_bench.sh — lab 08's reference beside lab 06's, atftp and TCP, on loopback.
#
#     tests/bench/udp_window_bench.sh [-s SIZE_MIB] [-r RUNS]      (defaults: 16 MiB, 5 runs)
#
# Moves one SIZE_MIB random file client -> server, RUNS times each, and prints the best goodput
# (file bytes / time until the client is done) of each, with every run's time beside it. The
# best run, not the median: on a shared machine the other runs measure the neighbours too (a
# clean 16 MiB transfer takes about 0.15 s, and one busy moment doubles it). Measured:
#   - lab 08's reference (solutions/08-udp-window, built -O2, the default window of 64), and
#     lab 06's (stop-and-wait): clean, and through the relay (labs/lib/relay.c) with no fault,
#     with 1% and with 5% of datagrams dropped each way;
#   - atftp uploading to atftpd (RFC 7440's windowsize 16, at lab 08's block size, 1024), a
#     real windowed transfer over UDP;
#   - TCP: nc from netcat-openbsd.
# atftp and TCP are measured clean only: the relay cannot carry them (a TFTP server answers
# from a new port, and the relay's TCP mode loses nothing), and this kernel has no netem.
# Then the ratios, all from this one run. Every transfer is checked by SHA-256. A benchmark,
# not a test: it exits 1 when the contract's targets are missed (08 at least 4x 06 clean; 08 at
# 1% loss at least half of 08 through the relay without loss), and prints the goals beside:
# at least atftp's figure, and, as a moonshot, half of TCP's. Ports come from the OS; traffic
# stays on 127.0.0.1; every run is bounded by RUN_TIMEOUT_S.
# Needs: gcc, python3, nc (netcat-openbsd), atftp, ss — grader/install-deps.sh bench — and
# atftpd: when it is not installed (it conflicts with tftpd-hpa), its package is fetched with
# `apt-get download` into build/bench/ and run from there, as tests/bench/tftp_bench.sh does.
set -euo pipefail
shopt -s inherit_errexit   # a failed check inside $(...) stops the benchmark too

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIZE_MIB=16
RUNS=5
RUN_TIMEOUT_S=300
SEED=${SOCKLAB_SEED:-1}
ATFTP_OPTIONS=(--option "blksize 1024" --option "windowsize 16")
SPEEDUP_TARGET=4        # the contract: 08 clean / 06 clean
LOSS_TARGET=0.5         # the contract: 08 at 1% loss / 08 through the relay without loss
while getopts "s:r:" opt; do
    case $opt in
        s) SIZE_MIB=$OPTARG ;;
        r) RUNS=$OPTARG ;;
        *) sed -n '2,5p' "$0" >&2; exit 2 ;;
    esac
done

for tool in gcc /usr/bin/python3 nc atftp timeout ss; do
    command -v "$tool" >/dev/null || { echo "udp_window_bench: $tool is missing" \
        "(grader/install-deps.sh bench)" >&2; exit 2; }
done
ATFTPD=$(command -v atftpd || true)
if [[ -z $ATFTPD ]]; then
    ATFTPD="$ROOT/build/bench/atftpd/usr/sbin/atftpd"
    if [[ ! -x $ATFTPD ]]; then
        mkdir -p "$ROOT/build/bench"
        (cd "$ROOT/build/bench" && apt-get download atftpd >/dev/null 2>&1 &&
            dpkg-deb -x atftpd_*.deb atftpd) || { echo "udp_window_bench: could not fetch" \
            "atftpd's package (apt-get download atftpd)" >&2; exit 2; }
    fi
fi

TMP=$(mktemp -d /tmp/udp-window-bench.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

# --- setup ----------------------------------------------------------------------------------

mkdir -p "$TMP/bin" "$TMP/tftp"
# atftpd drops to the user nobody, who must reach the folder it serves and write there
chmod 755 "$TMP"
chmod 777 "$TMP/tftp"
for lab in 06-udp-done 08-udp-window; do
    for program in server client; do
        gcc -std=c11 -O2 -o "$TMP/bin/${lab:0:2}-$program" \
            "$ROOT/solutions/$lab/$program.c"
    done
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
    echo "udp_window_bench: nothing bound to $1 port $2 after 5 s" >&2
    return 1
}

now_ns() { date +%s%N; }

check() {  # check FILE: the transfer arrived whole
    local got
    got=$(sha256sum <"$1" | cut -c1-64)
    [[ $got == "$SENT_SHA" ]] || { echo "udp_window_bench: $1 differs from the file sent" >&2
                                   return 1; }
}

# --- one transfer each; each prints its elapsed nanoseconds ----------------------------------

run_lab() {   # run_lab 06|08 [RELAY FAULT OPTIONS...] (no option: no relay)
    local lab=$1 port target start end server relay=""
    shift
    port=$(free_port udp)
    rm -f "$TMP/received.bin"
    "$TMP/bin/$lab-server" "$port" "$TMP/received.bin" >/dev/null &
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
    timeout "$RUN_TIMEOUT_S" "$TMP/bin/$lab-client" 127.0.0.1 "$target" "$TMP/sent.bin" \
        >/dev/null
    end=$(now_ns)
    [[ -n $relay ]] && { kill "$relay"; wait "$relay" || true; }
    wait "$server"      # it lingers one second after its DONE: not part of the transfer
    check "$TMP/received.bin"
    echo $(( end - start ))
}

run_atftp() {
    local port start end server
    port=$(free_port udp)
    rm -f "$TMP/tftp/received.bin"
    "$ATFTPD" --daemon --no-fork --port "$port" --bind-address 127.0.0.1 --logfile /dev/null \
        "$TMP/tftp" &
    server=$!
    PIDS+=("$server")
    wait_bound udp "$port"
    start=$(now_ns)
    timeout "$RUN_TIMEOUT_S" atftp "${ATFTP_OPTIONS[@]}" --put -l "$TMP/sent.bin" \
        -r received.bin 127.0.0.1 "$port" >/dev/null
    end=$(now_ns)
    kill "$server"
    wait "$server" 2>/dev/null || true
    check "$TMP/tftp/received.bin"
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

# --- the table -------------------------------------------------------------------------------

fastest() { sort -n | head -n 1; }
mbps() { awk -v b="$SIZE" -v ns="$1" 'BEGIN { printf "%.1f", b / (ns / 1e9) / 1e6 }'; }

declare -A GOODPUT
measure() {   # measure NAME COMMAND...: RUNS runs, keeps the fastest
    local name=$1 times=() i ns
    shift
    for (( i = 0; i < RUNS; i++ )); do
        ns=$("$@")
        times+=("$ns")
    done
    ns=$(printf '%s\n' "${times[@]}" | fastest)
    GOODPUT[$name]=$(mbps "$ns")
    printf '  %-36s %8s MB/s   (runs: %s s)\n' "$name" "${GOODPUT[$name]}" \
        "$(for t in "${times[@]}"; do awk -v t="$t" 'BEGIN { printf "%.2f ", t / 1e9 }'; done)"
}

echo "udp_window_bench: ${SIZE_MIB} MiB, ${RUNS} runs each (the best), seed $SEED," \
     "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d)"
measure "08 reference, clean" run_lab 08
measure "06 reference, clean" run_lab 06
measure "atftp -> atftpd, windowsize 16" run_atftp
measure "TCP (nc)" run_tcp
measure "08 reference, relay, no loss" run_lab 08 --drop 0
measure "08 reference, relay, 1% loss" run_lab 08 --drop 0.01
measure "08 reference, relay, 5% loss" run_lab 08 --drop 0.05
measure "06 reference, relay, no loss" run_lab 06 --drop 0
measure "06 reference, relay, 1% loss" run_lab 06 --drop 0.01
measure "06 reference, relay, 5% loss" run_lab 06 --drop 0.05

ratio() { awk -v a="${GOODPUT[$1]}" -v b="${GOODPUT[$2]}" 'BEGIN { printf "%.2f", a / b }'; }
SPEEDUP=$(ratio "08 reference, clean" "06 reference, clean")
LOSS=$(ratio "08 reference, relay, 1% loss" "08 reference, relay, no loss")
echo
echo "ratios:"
show() { printf '  %-36s %6s   %s\n' "$1" "$2" "${3:-}"; }   # show LABEL RATIO [TARGET]
show "08 clean / 06 clean" "$SPEEDUP" "(contract >= $SPEEDUP_TARGET)"
show "08 clean / atftp windowsize 16" \
    "$(ratio "08 reference, clean" "atftp -> atftpd, windowsize 16")" "(goal >= 1)"
show "08 clean / TCP" "$(ratio "08 reference, clean" "TCP (nc)")" "(moonshot >= 0.5)"
show "08 relay 1% loss / no loss" "$LOSS" "(contract >= $LOSS_TARGET)"
show "08 relay 5% loss / no loss" \
    "$(ratio "08 reference, relay, 5% loss" "08 reference, relay, no loss")"
for fault in "no loss" "1% loss" "5% loss"; do
    show "08 / 06 through the relay, $fault" \
        "$(ratio "08 reference, relay, $fault" "06 reference, relay, $fault")"
done
show "08 relay no loss / 08 clean" \
    "$(ratio "08 reference, relay, no loss" "08 reference, clean")" "(the relay's own cost)"

awk -v s="$SPEEDUP" -v l="$LOSS" -v st="$SPEEDUP_TARGET" -v lt="$LOSS_TARGET" \
    'BEGIN { exit !(s >= st && l >= lt) }' || { echo "udp_window_bench: a target was missed"
                                                 exit 1; }
echo "udp_window_bench: both targets met"
