"""The dev container's recipe, checked statically (seconds): the parts that must agree do.

tests/devcontainer/check.sh (make check-devcontainer) builds the recipe for real and runs
`make test` inside; it is slow and needs root, so it is not part of `make test`. These checks
catch drift between the pieces in the meantime: devcontainer.json, the Containerfile, the base
image check.sh can build, and the kit's package list.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

KIT = Path(__file__).resolve().parent.parent
FOLDER = KIT / ".devcontainer"
SETTINGS = FOLDER / "devcontainer.json"
CHECK = KIT / "tests" / "devcontainer" / "check.sh"


def settings() -> dict[str, Any]:
    data = json.loads(SETTINGS.read_text(encoding="utf-8"))   # plain JSON: no comments
    assert isinstance(data, dict)
    return data


def recipe() -> Path:
    build = settings()["build"]
    return (SETTINGS.parent / build["dockerfile"]).resolve()


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Containerfile, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def shell_constant(path: Path, name: str) -> str:
    match = re.search(rf"^{name}=(\S+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{path.relative_to(KIT)} sets no {name}"
    return match[1]


def test_settings_name_the_recipe_and_the_repository_as_context() -> None:
    build = settings()["build"]
    assert recipe().is_file(), f"devcontainer.json's dockerfile {build['dockerfile']} is missing"
    assert recipe().parent == FOLDER
    # The Containerfile copies grader/install-deps.sh: the context is the repository's root.
    assert (SETTINGS.parent / build["context"]).resolve() == KIT


def test_the_base_is_the_debian_12_that_check_sh_builds() -> None:
    froms = [rest for word, rest in instructions(recipe()) if word == "FROM"]
    assert len(froms) == 1, f"one FROM expected, got {froms}"
    base = froms[0].split()[0]
    assert base == shell_constant(CHECK, "BASE_IMAGE"), (
        f"the Containerfile's FROM is {base}, but check.sh tags its debootstrapped base as "
        f"{shell_constant(CHECK, 'BASE_IMAGE')}")
    assert shell_constant(CHECK, "SUITE") == "bookworm"
    # Named in full, so that podman needs no short-name resolution.
    assert re.fullmatch(r"docker\.io/library/debian:(12|bookworm)", base), base


def test_the_recipe_installs_the_kit_packages_with_its_own_script() -> None:
    steps = instructions(recipe())
    copies = [shlex.split(rest) for word, rest in steps if word == "COPY"]
    assert any(args[0] == "grader/install-deps.sh" for args in copies), copies
    installed = shlex.split(" ".join(rest for word, rest in steps if word == "RUN"))
    calls = [i for i, word in enumerate(installed) if word.endswith("/install-deps.sh")]
    assert calls, "no RUN calls install-deps.sh"
    groups = set()
    for i in calls:
        for word in installed[i + 1:]:
            if word in ("&&", ";", "||"):
                break
            groups.add(word)
    assert {"core", "test"} <= groups, f"install-deps.sh is called with {sorted(groups)}"
    assert (KIT / "grader" / "install-deps.sh").is_file()


def test_the_container_may_build_the_sandbox() -> None:
    """bubblewrap needs to create namespaces and mount /proc inside the container."""
    run_args = settings().get("runArgs", [])
    assert all(isinstance(arg, str) for arg in run_args)
    assert "--privileged" in run_args, (
        f"runArgs {run_args}: the grader's sandbox (bubblewrap) needs --privileged")


def test_check_sh_is_wired_but_not_part_of_make_test() -> None:
    assert os.access(CHECK, os.X_OK)
    makefile = (KIT / "Makefile").read_text(encoding="utf-8")
    target = re.search(r"^check-devcontainer:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert target and target[1].strip() == "tests/devcontainer/check.sh"
    test_line = re.search(r"^test:(.*)$", makefile, re.MULTILINE)
    assert test_line and "devcontainer" not in test_line[1]


def test_the_student_release_carries_the_dev_container() -> None:
    from grader.release import INCLUDED
    assert ".devcontainer" in INCLUDED


# --- a container without privileges: the sandbox's fallback ------------------------------

def test_without_namespaces_the_programs_user_reaches_its_folders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root without bubblewrap (a container run without --privileged): the program runs as the
    plan's user with no mount view, so the 0700 temporary folders leading to its build and its
    scratch folder must let that user through."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    from grader import sandbox
    fake = sandbox.Probe(root=True, bwrap=None, bwrap_problem="no namespaces here",
                         unshare=None)
    monkeypatch.setattr(sandbox, "probe", lambda: fake)
    build = tmp_path / "cache"
    program = build / "one-build" / "client"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\nid -u\n: > made-here\ngrep -E '^(CapBnd|CapEff|NoNewPrivs):' "
                       "/proc/self/status\n", encoding="utf-8")
    program.chmod(0o755)
    work = tmp_path / "run" / "test" / "work"
    work.mkdir(parents=True)
    for folder in (build, tmp_path / "run", tmp_path / "run" / "test"):
        folder.chmod(0o700)                       # as mktemp -d and Bats make them
    plan = sandbox.plan(build, KIT / "solutions", KIT)
    assert "--no-bwrap" in plan.wrap and plan.uid is not None
    done = subprocess.run([*plan.wrap, str(program)], cwd=work, capture_output=True, text=True,
                          timeout=30, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    said = done.stdout.split()
    assert said[0] == str(plan.uid)
    assert said[1:] == ["CapEff:", "0" * 16, "CapBnd:", "0" * 16, "NoNewPrivs:", "1"], said
    assert (work / "made-here").exists()


def test_a_bind_is_seen_by_its_user_when_descriptors_are_hidden() -> None:
    """labs/lib/session.py: a socket is told apart by the user that holds it (the fallback when
    root may not read a sandboxed program's descriptors)."""
    sys.path.insert(0, str(KIT / "labs" / "lib"))
    import session
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert session.bound_inodes("tcp", port, {os.getuid()})
        assert not session.bound_inodes("tcp", port, {os.getuid() + 1})
        assert not session.bound_inodes("tcp", port, set())
        assert session.hidden_owners(os.getpid()) == set()   # our own are readable
