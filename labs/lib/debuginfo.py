"""The C library's separate debugging file, which a Valgrind run in the sandbox does not see.

Valgrind reads the debugging information of every library a program loads. Debian's libc6-dbg
must be installed for the dynamic loader's (Valgrind cannot start without the symbols it
redirects there), and it brings the C library's too: reading that one cost ~0.1 s of every
Valgrind run's ~0.3 s start, for the names of libc's internal functions in a report's stack
traces. Errors, leaks and descriptors are found the same without it (Valgrind's replacements
of malloc, strlen and the like hook the library's exported names, which the library itself
carries), and the program's own frames keep their files and lines, which come from its build.

debug_file() finds that file by the library's build ID (the GNU build-id note, which Debian's
debugging files are named after); session.py hides it from a Valgrind run's sandbox.
"""

from __future__ import annotations

import struct
from pathlib import Path

DEBUG_ROOT = Path("/usr/lib/debug/.build-id")
LIBRARY = "libc.so.6"
MAPS = Path("/proc/self/maps")

ELF_MAGIC = b"\x7fELF"
ELFCLASS64, ELFDATA2LSB = 2, 1     # e_ident[4], e_ident[5]: 64-bit, little-endian
PT_NOTE = 4                        # a program header that points at notes
NT_GNU_BUILD_ID = 3
GNU = b"GNU\x00"
HEADER_BYTES = 1 << 16             # the notes sit near the start of the file
NOTE_ALIGN = 4


def build_id(path: Path) -> str | None:
    """The GNU build ID of a 64-bit little-endian ELF file, in hex; None if it has none (or
    is not such a file)."""
    try:
        with open(path, "rb") as elf:
            head = elf.read(HEADER_BYTES)
    except OSError:
        return None
    if len(head) < 64 or head[:4] != ELF_MAGIC or head[4] != ELFCLASS64 or \
            head[5] != ELFDATA2LSB:
        return None
    phoff, = struct.unpack_from("<Q", head, 32)
    phentsize, phnum = struct.unpack_from("<HH", head, 54)
    for index in range(phnum):
        at = phoff + index * phentsize
        if at + 40 > len(head):
            return None
        p_type, = struct.unpack_from("<I", head, at)
        offset, = struct.unpack_from("<Q", head, at + 8)
        size, = struct.unpack_from("<Q", head, at + 32)
        if p_type == PT_NOTE:
            found = note_build_id(head[offset:offset + size])
            if found:
                return found
    return None


def note_build_id(notes: bytes) -> str | None:
    """The build ID among a PT_NOTE segment's notes."""
    at = 0
    while at + 12 <= len(notes):
        namesz, descsz, kind = struct.unpack_from("<III", notes, at)
        name_at = at + 12
        desc_at = name_at + aligned(namesz)
        if kind == NT_GNU_BUILD_ID and notes[name_at:name_at + namesz] == GNU:
            return notes[desc_at:desc_at + descsz].hex() or None
        at = desc_at + aligned(descsz)
    return None


def aligned(size: int) -> int:
    return (size + NOTE_ALIGN - 1) // NOTE_ALIGN * NOTE_ALIGN


def loaded_library(name: str = LIBRARY, maps: Path = MAPS) -> Path | None:
    """Where the library this process runs on is (a lab's programs load the same one)."""
    try:
        lines = maps.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        path = line.split(maxsplit=5)[-1]
        if path.startswith("/") and Path(path).name == name:
            return Path(path)
    return None


def debug_file(library: Path | None = None, root: Path = DEBUG_ROOT) -> Path | None:
    """The installed debugging file of `library` (the C library by default), if any."""
    library = library or loaded_library()
    found = build_id(library) if library else None
    if not found or len(found) < 3:
        return None
    path = root / found[:2] / f"{found[2:]}.debug"
    return path if path.is_file() else None
