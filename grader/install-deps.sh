#!/bin/sh
# Installs the Debian packages socklab needs, by group, and does nothing when they are there.
#
#   grader/install-deps.sh [GROUP...]      groups: core (default), test, bench, docs
#
# As root it runs apt-get; otherwise it prints the exact command to run and exits 1.
set -eu

# tftp-hpa, atftp and curl: lab 09's tests use real TFTP clients; bash-builtins: mkdir, mkfifo
# and rm as builtins in the tests' shells (labs/lib/socklab.bash)
core="gcc clang make libc6-dev valgrind strace bats bats-support bats-assert python3
      netcat-openbsd socat patch iproute2 procps bubblewrap util-linux tftp-hpa atftp curl
      gettext gettext-base bash-builtins"
test="python3-pytest chromium"       # chromium: the class report is checked in a real browser
# atftpd conflicts with tftpd-hpa (both are in.tftpd): tests/bench/tftp_bench.sh runs it from
# its .deb (apt-get download), and needs only its libraries installed.
bench="tftpd-hpa tftp-hpa libwrap0 libpcre2-8-0 hyperfine"
docs="pandoc"

wanted=""
for group in "${@:-core}"; do
    case $group in
        core) wanted="$wanted $core" ;;
        test) wanted="$wanted $core $test" ;;
        bench) wanted="$wanted $core $bench" ;;
        docs) wanted="$wanted $docs" ;;
        *) echo "install-deps: unknown group '$group' (core, test, bench, docs)" >&2; exit 2 ;;
    esac
done

missing=""
for package in $wanted; do
    # dpkg-query answers from the local database: fast, and no network when all is there.
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    case $status in
        *"ok installed"*) ;;
        *) case " $missing " in *" $package "*) ;; *) missing="$missing $package" ;; esac ;;
    esac
done
[ -z "$missing" ] && exit 0

command="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "socklab needs these Debian packages:$missing" >&2
    echo "install them with:  sudo apt-get update && sudo $command" >&2
    exit 1
fi
echo "socklab: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086  # one word a package
$command >/dev/null
