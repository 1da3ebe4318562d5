"""Intake: what socklab takes from a student's submission, the same for every way of grading.

`socklab grade` (one folder or archive a student, grader/batch.py), the Gradescope autograder
(its /autograder/submission, grader/export.py) and any adapter added later hand each
submission to take_in(), so one upload is read by one set of rules:

- A submission is a folder or an archive (.zip, .tar.gz, .tgz). A folder whose only entry is
  an archive counts as that archive: platforms and LMS downloads wrap an upload in a folder.
- Limits: at most MAX_ENTRIES files and folders, and MAX_BYTES in all (an archive: unpacked).
  A larger submission is refused whole; the limits are far above a lab tree's needs.
- Safety: only regular files and folders. A link, a device or a pipe refuses the submission,
  and so does an archive path that leaves the archive (absolute, or through ..). Nothing is
  written outside the intake's own folder.
- The lab folders: a folder named like the lab (01-tcp-hello) at the top of the submission or
  inside at most MAX_NESTING folders (students hand in `alice/skeletons/01-tcp-hello/`); the
  shallowest wins, then the first in name order. When one lab is graded, loose server.c or
  client.c at the top or one folder down count as that lab.
- What the student reads: a SubmissionError's message when the whole submission is refused
  (no lab folder at all is one), and Intake.missing's reason for each lab not found.

Each lab found is copied into a fresh lab tree, which the tests then read.
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from grader.i18n import _
from grader.manifest import Lab
from grader.results import LabResult, failed_everything

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".zip")
MAX_ENTRIES = 2000                # files and folders of one submission; a lab tree has dozens
MAX_BYTES = 64 << 20              # all its files together
MAX_NESTING = 3                   # folders a lab folder may sit in inside the submission
LOOSE_SOURCES = ("server.c", "client.c")   # a one-lab upload of the lab's files themselves
COPY_CHUNK = 1 << 16

FOLDER, FILE, OTHER = "folder", "file", "other"


class SubmissionError(Exception):
    """The submission cannot be graded; the message is the reason shown to the student."""


@dataclass(frozen=True)
class Submission:
    student: str                  # a name safe for file names
    source: Path                  # the folder or archive as handed in


@dataclass(frozen=True)
class Intake:
    root: Path                    # a lab tree: root/NN-slug/ for every lab found
    missing: dict[str, str]       # lab name -> why it is not graded, as the student reads it

    def split(self, labs: list[Lab]) -> tuple[list[Lab], list[LabResult]]:
        """The labs to run, and the results of the labs not found (every test failed)."""
        return ([lab for lab in labs if lab.name not in self.missing],
                [failed_everything(lab, self.missing[lab.name])
                 for lab in labs if lab.name in self.missing])


def safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return cleaned or "student"


def student_name(path: Path) -> str:
    name = path.name
    for suffix in ARCHIVE_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return safe_name(name)


def discover(folder: Path) -> list[Submission]:
    """Every student in `folder`, sorted by name; two entries for one name are an error."""
    found: dict[str, Submission] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if not (entry.is_dir() or entry.name.endswith(ARCHIVE_SUFFIXES)):
            continue
        name = student_name(entry)
        if name in found:
            raise SubmissionError(_("two submissions for {name}: {first} and {second}").format(
                name=repr(name), first=found[name].source.name, second=entry.name))
        found[name] = Submission(name, entry)
    return [found[name] for name in sorted(found)]


# --- what a submission holds: the limits and the safety rules --------------------------------

def _check(entries: Iterable[tuple[str, str, int]]) -> None:
    """Refuses a submission whose entries (name, kind, size) break a rule, before anything of
    it is written: a folder's as they are on disk, an archive's as its headers say."""
    paths: set[PurePosixPath] = set()
    total = 0
    for name, kind, size in entries:
        path = PurePosixPath(name)
        if path.is_absolute() or ".." in path.parts:
            raise SubmissionError(_("the archive holds a path outside itself: {name}").format(
                name=repr(name)))
        if kind == OTHER:
            raise SubmissionError(_("the submission holds a link or device, {path}: upload "
                                    "regular files only").format(path=repr(str(path))))
        # an archive may leave out its folders: count them from the paths, as on disk
        paths.update(p for p in (path, *path.parents) if p.parts)
        if len(paths) > MAX_ENTRIES:
            raise SubmissionError(_("the submission holds more than {count} files and "
                                    "folders: upload only your lab folders").format(
                count=MAX_ENTRIES))
        total += size
        if total > MAX_BYTES:
            raise SubmissionError(_("the submission holds more than {size} MiB: upload only "
                                    "your lab folders").format(size=MAX_BYTES >> 20))


def _folder_entries(top: Path) -> Iterator[tuple[str, str, int]]:
    folders = [top]
    while folders:                             # links are never followed
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                name = Path(entry.path).relative_to(top).as_posix()
                if entry.is_dir(follow_symlinks=False):
                    folders.append(Path(entry.path))
                    yield name, FOLDER, 0
                elif entry.is_file(follow_symlinks=False):
                    yield name, FILE, entry.stat(follow_symlinks=False).st_size
                else:
                    yield name, OTHER, 0


def _write(source: IO[bytes], target: Path, size: int, name: str) -> None:
    """Copies at most what the archive's header says: a lying header cannot fill the disk."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as sink:
        left = size + 1
        while chunk := source.read(min(COPY_CHUNK, left)):
            sink.write(chunk)
            left -= len(chunk)
            if left == 0:
                raise SubmissionError(_("{name} is larger than its header says").format(
                    name=repr(name)))


def _extract_tar(archive: Path, dest: Path) -> None:
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        _check((m.name, FOLDER if m.isdir() else FILE if m.isfile() else OTHER, m.size)
               for m in members)
        for member in members:
            if member.isdir():
                (dest / member.name).mkdir(parents=True, exist_ok=True)
                continue
            source = tar.extractfile(member)
            assert source is not None
            with source:
                _write(source, dest / member.name, member.size, member.name)


def _zip_kind(info: zipfile.ZipInfo) -> str:
    if info.is_dir():
        return FOLDER
    return FILE if (info.external_attr >> 16) & 0o170000 in (0, 0o100000) else OTHER


def _extract_zip(archive: Path, dest: Path) -> None:
    with zipfile.ZipFile(archive) as zipped:
        infos = zipped.infolist()
        _check((info.filename, _zip_kind(info), info.file_size) for info in infos)
        for info in infos:
            if info.is_dir():
                (dest / info.filename).mkdir(parents=True, exist_ok=True)
                continue
            with zipped.open(info) as source:
                _write(source, dest / info.filename, info.file_size, info.filename)


def _open(source: Path, unpacked: Path) -> Path:
    """The submission's files as a checked folder: `source` itself, or its archive unpacked."""
    if source.is_dir() and not source.is_symlink():
        entries = list(source.iterdir())
        only = entries[0] if len(entries) == 1 else None
        if not (only and only.name.endswith(ARCHIVE_SUFFIXES) and only.is_file()
                and not only.is_symlink()):
            _check(_folder_entries(source))
            return source
        source = only
    if not (source.name.endswith(ARCHIVE_SUFFIXES) and source.is_file()
            and not source.is_symlink()):
        raise SubmissionError(_("{name} is neither a folder nor an archive ({suffixes})").format(
            name=source.name, suffixes=", ".join(ARCHIVE_SUFFIXES)))
    unpacked.mkdir()
    if source.name.endswith(".zip"):
        _extract_zip(source, unpacked)
    else:
        _extract_tar(source, unpacked)
    return unpacked


# --- where the lab folders are ---------------------------------------------------------------

def _lab_folders(tree: Path, names: list[str]) -> dict[str, Path]:
    """Each lab's folder in `tree`: the shallowest, then the first in name order."""
    found: dict[str, Path] = {}
    level = [tree]
    for _level in range(MAX_NESTING + 1):
        for folder in level:
            for name in names:
                if name not in found and (folder / name).is_dir():
                    found[name] = folder / name
        level = sorted(child for parent in level for child in parent.iterdir() if child.is_dir())
    if len(names) == 1 and not found:        # one lab: its files may come loose
        for folder in [tree, *sorted(child for child in tree.iterdir() if child.is_dir())]:
            if any((folder / source).is_file() for source in LOOSE_SOURCES):
                return {names[0]: folder}
    return found


def not_found(name: str) -> str:
    return _("not found in the submission (upload the folder {name}/ with server.c and "
             "client.c)").format(name=name)


def take_in(source: Path, dest: Path, names: list[str]) -> Intake:
    """Takes in the submission `source` (a folder or an archive) for the labs `names`, in
    course order: checks it, finds the lab folders and copies them into a lab tree under
    `dest`, a folder of this submission's own (emptied first)."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    try:
        tree = _open(source, dest / "unpacked")
        found = _lab_folders(tree, names)
        if not found:
            shown = names[0] + (", ..." if len(names) > 1 else "")
            raise SubmissionError(_("no lab folder ({labs}) found in the submission, at the "
                                    "top or inside at most {depth} folders").format(
                labs=shown, depth=MAX_NESTING))
        root = dest / "labs"
        root.mkdir()
        for name, folder in found.items():
            shutil.copytree(folder, root / name, copy_function=shutil.copyfile)
    except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, RuntimeError,
            OSError) as error:           # RuntimeError: an encrypted zip
        raise SubmissionError(_("the submission cannot be read: {error}").format(
            error=error)) from None
    shutil.rmtree(dest / "unpacked", ignore_errors=True)
    return Intake(root, {name: not_found(name) for name in names if name not in found})
