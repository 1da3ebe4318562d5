#!/bin/bash
# tftp_bench.sh — lab 09's reference TFTP server beside tftpd-hpa and atftpd, on loopback.
#
#     tests/bench/tftp_bench.sh [-s SIZE_MIB] [-r RUNS]      (defaults: 64 MiB, 3 runs)
#
# Three servers serve the same SIZE_MIB random file: lab 09's reference (solutions/09-tftp-
# server, built -O2), tftpd-hpa (in.tftpd) and atftpd. The same clients, with the same options,
# read it and write it back, RUNS times each, and the median goodput (file bytes / time the
# client took) is printed for each, with the reference's ratio to each other server:
#   - atftp with blksize 1428 and windowsize 16 (tftpd-hpa knows no windowsize, and answers
#     stop-and-wait with blocks of 1428: that is the difference the window makes);
#   - tftp-hpa's tftp, which asks for no option (RFC 1350: 512-byte blocks, stop-and-wait).
# Every transfer is checked by SHA-256. A benchmark, not a test: it prints figures, and exits 1
# when the reference is slower than either other server with atftp's options (the goal: at
# least as fast as both). All in one run, so that the ratios compare like with like; ports come
# from the OS, traffic stays on 127.0.0.1, every transfer is bounded by RUN_TIMEOUT_S.
# Needs: gcc, python3, in.tftpd (tftpd-hpa), atftp, tftp (tftp-hpa) — grader/install-deps.sh
# bench — and atftpd. Debian's atftpd conflicts with tftpd-hpa (both install in.tftpd): when it
# is not installed, its package is fetched with `apt-get download` into build/bench/ and run
# from there (its libraries are in the bench group).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIZE_MIB=64
RUNS=3
RUN_TIMEOUT_S=300
SEED=${SOCKLAB_SEED:-1}
WINDOWED=(--option "blksize 1428" --option "windowsize 16")
while getopts "s:r:" opt; do
    case $opt in
        s) SIZE_MIB=$OPTARG ;;
        r) RUNS=$OPTARG ;;
        *) sed -n '2,5p' "$0" >&2; exit 2 ;;
    esac
done

for tool in gcc /usr/bin/python3 in.tftpd atftp tftp timeout ss; do
    command -v "$tool" >/dev/null || { echo "tftp_bench: $tool is missing" \
        "(grader/install-deps.sh bench)" >&2; exit 2; }
done
# in.tftpd must be tftpd-hpa's: with atftpd installed, it is atftpd under another name.
[[ $(readlink -f "$(command -v in.tftpd)") != *atftpd ]] || { echo "tftp_bench: in.tftpd is" \
    "atftpd's here; install tftpd-hpa (grader/install-deps.sh bench)" >&2; exit 2; }
ATFTPD=$(command -v atftpd || true)
if [[ -z $ATFTPD ]]; then
    ATFTPD="$ROOT/build/bench/atftpd/usr/sbin/atftpd"
    if [[ ! -x $ATFTPD ]]; then
        mkdir -p "$ROOT/build/bench"
        (cd "$ROOT/build/bench" && apt-get download atftpd >/dev/null 2>&1 &&
            dpkg-deb -x atftpd_*.deb atftpd) || { echo "tftp_bench: could not fetch atftpd's" \
            "package (apt-get download atftpd)" >&2; exit 2; }
    fi
fi

TMP=$(mktemp -d /tmp/tftp-bench.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true   # reaped here, not reported as "Killed"
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

# --- setup ----------------------------------------------------------------------------------

chmod 755 "$TMP"   # the servers drop to other users, who must reach their folders
mkdir -p "$TMP/bin" "$TMP/client"
gcc -std=c11 -O2 -o "$TMP/bin/server" "$ROOT/solutions/09-tftp-server/server.c"
/usr/bin/python3 "$ROOT/labs/lib/filecheck.py" make "random:${SIZE_MIB}M" "$TMP/file.bin" \
    --seed "$SEED"
SIZE=$(stat -c %s "$TMP/file.bin")
FILE_SHA=$(sha256sum <"$TMP/file.bin" | cut -c1-64)

free_port() {   # a UDP port the OS hands out, released at once
    /usr/bin/python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

wait_bound() {  # wait_bound PORT: until a UDP socket is bound there, <= 5 s
    local i
    for (( i = 0; i < 500; i++ )); do
        [[ -n $(ss -H -uln "sport = :$1") ]] && return 0
        sleep 0.01
    done
    echo "tftp_bench: nothing bound to UDP port $1 after 5 s" >&2
    return 1
}

# Each server serves a folder of its own holding the file; uploads go there too (the servers
# drop to other users: the folders are open to all). Started once, for every run.
declare -A PORT=()
start_server() {   # start_server NAME
    local dir="$TMP/$1" port
    mkdir -p "$dir"
    chmod 777 "$dir"
    cp "$TMP/file.bin" "$dir/file.bin"
    chmod 666 "$dir/file.bin"
    port=$(free_port)
    case $1 in
        reference) "$TMP/bin/server" "$port" "$dir" >/dev/null & ;;
        # -L: foreground; -s: serve this folder; -c: uploads may create files
        tftpd-hpa) in.tftpd -L -a "127.0.0.1:$port" -s "$dir" -c & ;;
        atftpd) "$ATFTPD" --daemon --no-fork --port "$port" --bind-address 127.0.0.1 \
                    --logfile /dev/null "$dir" & ;;
    esac
    PIDS+=($!)
    wait_bound "$port"
    PORT[$1]=$port
}

now_ns() { date +%s%N; }

check() {  # check FILE: the transfer arrived whole
    local got
    got=$(sha256sum <"$1" | cut -c1-64)
    [[ $got == "$FILE_SHA" ]] || { echo "tftp_bench: $1 differs from the file" >&2; return 1; }
}

# one SERVER CLIENT DIRECTION: one transfer; prints its nanoseconds.
one() {
    local server=$1 client=$2 direction=$3 port=${PORT[$1]} start end copy="$TMP/client/copy.bin"
    local argv=()
    rm -f "$copy" "$TMP/$server/up.bin"
    case $client-$direction in
        atftp-read) argv=(atftp "${WINDOWED[@]}" --get -r file.bin -l "$copy" 127.0.0.1 "$port") ;;
        atftp-write) argv=(atftp "${WINDOWED[@]}" --put -l "$TMP/file.bin" -r up.bin
                           127.0.0.1 "$port") ;;
        tftp-read) argv=(tftp 127.0.0.1 "$port" -m binary -c get file.bin "$copy") ;;
        tftp-write) argv=(tftp 127.0.0.1 "$port" -m binary -c put "$TMP/file.bin" up.bin) ;;
    esac
    start=$(now_ns)
    timeout "$RUN_TIMEOUT_S" "${argv[@]}" >/dev/null 2>&1 || true
    end=$(now_ns)
    if [[ $direction == read ]]; then check "$copy"; else check "$TMP/$server/up.bin"; fi
    echo $(( end - start ))
}

median_rate() {   # median_rate SERVER CLIENT DIRECTION: the median goodput in MB/s
    local run time times=()
    for (( run = 0; run < RUNS; run++ )); do
        time=$(one "$@") || { echo "tftp_bench: $2 failed to $3 the file with $1" >&2; exit 1; }
        times+=("$time")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk -v size="$SIZE" \
        '{ t[NR] = $1 } END { printf "%.1f", size / (t[int((NR + 1) / 2)] / 1e9) / 1e6 }'
}

# --- the runs -------------------------------------------------------------------------------

SERVERS=(reference tftpd-hpa atftpd)
for server in "${SERVERS[@]}"; do start_server "$server"; done
echo "tftp_bench: $SIZE_MIB MiB, median of $RUNS runs, loopback; $(nproc) CPUs, load average" \
    "$(cut -d' ' -f1-3 /proc/loadavg) at the start; $(date -u '+%Y-%m-%d %H:%M UTC')"
printf '\n%-44s %12s %12s %12s %11s %11s\n' "client, options, direction" "reference" \
    "tftpd-hpa" "atftpd" "ref/hpa" "ref/atftpd"
missed=0
for client in atftp tftp; do
    for direction in read write; do
        declare -A rate=()
        for server in "${SERVERS[@]}"; do
            rate[$server]=$(median_rate "$server" "$client" "$direction") || exit 1
        done
        label="atftp, blksize 1428, windowsize 16, $direction"
        [[ $client == tftp ]] && label="tftp-hpa, no options (512, stop-and-wait), $direction"
        ratios=$(awk -v r="${rate[reference]}" -v h="${rate[tftpd-hpa]}" \
            -v a="${rate[atftpd]}" 'BEGIN { printf "%10.2fx %10.2fx", r / h, r / a }')
        printf '%-44s %9s MB/s %7s MB/s %7s MB/s %s\n' "$label" "${rate[reference]}" \
            "${rate[tftpd-hpa]}" "${rate[atftpd]}" "$ratios"
        if [[ $client == atftp ]] && ! awk -v r="${rate[reference]}" -v h="${rate[tftpd-hpa]}" \
                -v a="${rate[atftpd]}" 'BEGIN { exit !(r >= h && r >= a) }'; then
            missed=1
        fi
        unset rate
    done
done
echo
if (( missed )); then
    echo "tftp_bench: goal missed: with atftp's options the reference should be at least as" \
        "fast as both other servers"
    exit 1
fi
echo "tftp_bench: goal met: with atftp's options the reference is at least as fast as both"
