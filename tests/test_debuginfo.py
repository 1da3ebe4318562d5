"""debuginfo.py: the C library's build ID, and the debugging file named after it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import KIT

sys.path.insert(0, str(KIT / "labs" / "lib"))
import debuginfo  # noqa: E402

BUILD_ID = "0123456789abcdef0123456789abcdef01234567"


def compiled(tmp_path: Path, build_id: str) -> Path:
    source = tmp_path / "main.c"
    source.write_text("int main(void) { return 0; }\n")
    program = tmp_path / f"main-{build_id}"
    subprocess.run(["gcc", "-o", str(program), str(source), f"-Wl,--build-id={build_id}"],
                   check=True, timeout=60)
    return program


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_the_build_id_is_read_from_the_elf_notes(tmp_path: Path) -> None:
    assert debuginfo.build_id(compiled(tmp_path, "0x" + BUILD_ID)) == BUILD_ID
    assert debuginfo.build_id(compiled(tmp_path, "none")) is None


def test_what_is_not_an_elf_file_has_no_build_id(tmp_path: Path) -> None:
    text = tmp_path / "text"
    text.write_text("#!/bin/sh\n")
    truncated = tmp_path / "truncated"
    truncated.write_bytes(debuginfo.ELF_MAGIC + bytes([2, 1]))
    assert debuginfo.build_id(text) is None
    assert debuginfo.build_id(truncated) is None
    assert debuginfo.build_id(tmp_path / "missing") is None


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_the_debugging_file_is_found_by_build_id_only_when_installed(tmp_path: Path) -> None:
    program = compiled(tmp_path, "0x" + BUILD_ID)
    root = tmp_path / "debug"
    assert debuginfo.debug_file(program, root) is None
    expected = root / BUILD_ID[:2] / f"{BUILD_ID[2:]}.debug"
    expected.parent.mkdir(parents=True)
    expected.write_bytes(b"")
    assert debuginfo.debug_file(program, root) == expected


def test_the_c_library_is_the_one_this_process_runs_on(tmp_path: Path) -> None:
    maps = tmp_path / "maps"
    maps.write_text("7f00-7f01 r--p 00000000 08:01 12 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
                    "7f02-7f03 rw-p 00000000 00:00 0 \n")
    assert debuginfo.loaded_library(maps=maps) == Path("/usr/lib/x86_64-linux-gnu/libc.so.6")
    assert debuginfo.loaded_library(maps=tmp_path / "none") is None
    library = debuginfo.loaded_library()
    assert library is not None and library.name == "libc.so.6"
