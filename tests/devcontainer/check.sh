#!/usr/bin/env bash
# Builds the dev container (.devcontainer/) with podman and runs the README's test command,
# `make test`, inside it: proof that the recipe a Windows or macOS student opens in VS Code or
# Codespaces gives a working kit.
#
#   tests/devcontainer/check.sh [COMMAND...]    (as root; `make check-devcontainer` runs it bare)
#
# COMMAND runs in the container instead of `make test`, e.g. `./socklab test 05 --impl solutions`.
#
# Steps:
#   1. install podman, runc and debootstrap (Debian packages) when they are missing;
#   2. the base image the Containerfile's FROM names: used if there, else pulled, else (no
#      registry reachable) built with debootstrap from the Debian mirror and tagged under that
#      exact name;
#   3. build the recipe, with the repository's root as the context (as devcontainer.json says);
#   4. run `make test` in the container, in a copy of the last commit (what a student clones)
#      mounted where VS Code mounts a workspace, with devcontainer.json's runArgs, and no network
#      (the suite needs none).
#
# Not part of `make test`: the first run downloads about 360 MB of packages and took 65 minutes
# on 2 busy cores (the image 8, make test inside 55); later runs reuse the image. The logs are
# kept in build/devcontainer/ (check.log, build.log, test.log).
#
# Environment: DEBIAN_MIRROR (default: the first URI of this machine's Debian sources, else
# deb.debian.org), SOCKLAB_IMAGE (the built image's name, default localhost/socklab-dev:latest),
# SOCKLAB_CHECK_TREE=worktree to test the working tree, uncommitted changes included, instead of
# the last commit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RECIPE=$ROOT/.devcontainer/Containerfile
SETTINGS=$ROOT/.devcontainer/devcontainer.json
IMAGE=${SOCKLAB_IMAGE:-localhost/socklab-dev:latest}
# The base this script can build when no registry answers: Debian 12 (bookworm), under the name
# the Containerfile's FROM must give (tests/test_devcontainer.py checks they agree).
BASE_IMAGE=docker.io/library/debian:12
SUITE=bookworm
WORKSPACE=/workspaces/socklab          # where VS Code and Codespaces mount the repository
PULL_DEADLINE_S=60
OUT=$ROOT/build/devcontainer

say() { printf 'check-devcontainer: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and runs podman as root)"
mkdir -p "$OUT"
exec > >(tee "$OUT/check.log") 2>&1
start=$SECONDS

# --- 1. tools ------------------------------------------------------------------------------
missing=""
for package in podman runc debootstrap; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $package"
done
if [ -n "$missing" ]; then
    say "installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086  # one word a package
    apt-get install -y --no-install-recommends $missing >/dev/null
fi

# Podman's settings for this run only. runc, because crun refuses some hosts' cgroup layout;
# no default ulimits, because podman's default open-files limit can be above the host's, and
# then no container starts.
conf=$(mktemp)
work=""
cleanup() {
    rm -f "$conf"
    [ -z "$work" ] || rm -rf "$work"
}
trap cleanup EXIT
cat >"$conf" <<'EOF'
[containers]
default_ulimits = []

[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF=$conf
podman=(podman --runtime runc)

# --- 2. the base image ---------------------------------------------------------------------
base=$(sed -n 's/^FROM[[:space:]]\{1,\}\([^[:space:]]\{1,\}\).*/\1/p' "$RECIPE" | head -n 1)
[ "$base" = "$BASE_IMAGE" ] \
    || die "the Containerfile's FROM is '$base', but this script builds $BASE_IMAGE ($SUITE)"

debian_mirror() {
    local uri
    uri=$(sed -n 's/^URIs:[[:space:]]*\(http[^[:space:]]*\/debian\)$/\1/p' \
              /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
    [ -n "$uri" ] || uri=$(sed -n 's/^deb[[:space:]]\{1,\}\(http[^[:space:]]*\/debian\)[[:space:]].*/\1/p' \
              /etc/apt/sources.list 2>/dev/null | head -n 1)
    echo "${DEBIAN_MIRROR:-${uri:-http://deb.debian.org/debian}}"
}

# Debian 12 as the official image has it: a minimal base system with apt, the same three
# suites in its sources, and a shell as its command.
debootstrap_base() {
    local mirror rootfs
    mirror=$(debian_mirror)
    work=$(mktemp -d)
    rootfs=$work/rootfs
    say "no image $base here and none can be pulled: building Debian $SUITE with debootstrap from $mirror"
    debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$OUT/debootstrap.log" 2>&1 \
        || die "debootstrap failed; see $OUT/debootstrap.log"
    rm -f "$rootfs/etc/apt/sources.list"
    cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" --numeric-owner -c . \
        | "${podman[@]}" import --change 'CMD ["bash"]' - "$base" >/dev/null
    rm -rf "$work"
    work=""
}

if "${podman[@]}" image exists "$base"; then
    say "base image $base: already here"
elif timeout "$PULL_DEADLINE_S" "${podman[@]}" pull -q "$base" >/dev/null 2>&1; then
    say "base image $base: pulled"
else
    debootstrap_base
    say "base image $base: built with debootstrap ($((SECONDS - start)) s so far)"
fi

# --- 3. the recipe -------------------------------------------------------------------------
# The host's network for the build: its RUN steps fetch packages from the Debian mirror.
say "building $IMAGE from .devcontainer/Containerfile"
built=$SECONDS
"${podman[@]}" build --network host -f "$RECIPE" -t "$IMAGE" "$ROOT" >"$OUT/build.log" 2>&1 \
    || { tail -n 30 "$OUT/build.log"; die "the build failed; see $OUT/build.log"; }
say "built in $((SECONDS - built)) s"

# --- 4. make test inside -------------------------------------------------------------------
# A copy, so that the run writes nothing here: the last commit, as a student would clone it, or
# (SOCKLAB_CHECK_TREE=worktree) the working tree's tracked and new files, not build outputs.
work=$(mktemp -d)
if [ "${SOCKLAB_CHECK_TREE:-commit}" = worktree ]; then
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard) \
        | (cd "$ROOT" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) \
        | tar -C "$ROOT" --null -T - -c | tar -C "$work" -x
    tree="the working tree"
else
    git -C "$ROOT" archive --format=tar HEAD | tar -C "$work" -x
    tree="commit $(git -C "$ROOT" rev-parse --short HEAD)"
fi
command=("$@")
[ ${#command[@]} -gt 0 ] || command=(make test)
mapfile -t run_args < <(/usr/bin/python3 -c \
    'import json, sys; print(*json.load(open(sys.argv[1])).get("runArgs", []), sep="\n")' \
    "$SETTINGS")
say "running '${command[*]}' in the container on $tree (runArgs: ${run_args[*]:-none})"
tested=$SECONDS
status=0
"${podman[@]}" run --rm --network none "${run_args[@]}" \
    -v "$work:$WORKSPACE" -w "$WORKSPACE" "$IMAGE" "${command[@]}" >"$OUT/test.log" 2>&1 || status=$?
grep -E '^(FAILED|ERROR) ' "$OUT/test.log" || true
tail -n 5 "$OUT/test.log"
summary=$(grep -E '^=*.*[0-9]+ (passed|failed)' "$OUT/test.log" | tail -n 1 || true)
say "'${command[*]}' in the container: exit $status in $((SECONDS - tested)) s: ${summary:-no pytest summary}"
say "whole check: $((SECONDS - start)) s; logs in ${OUT#"$ROOT"/}/"
exit "$status"
