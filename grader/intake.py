"""Finding students' submissions: one folder or one archive (.zip, .tar.gz, .tgz) a student.

Archives are untrusted: nothing is written outside the extraction folder, links and devices
are refused, and sizes are capped, so a hostile archive gives that student an error row and
nothing worse.
"""

from __future__ import annotations

import re
import shutil
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".zip")
MAX_FILES = 2000                  # a lab tree has a few dozen files
MAX_BYTES = 64 << 20              # uncompressed size of one submission
LAB_FOLDER = re.compile(r"^\d\d-[a-z0-9-]+$")
SEARCH_DEPTH = 3                  # how deep to look for the lab folders inside a submission


class SubmissionError(Exception):
    """The submission cannot be graded; the message is the reason shown in the gradebook."""


@dataclass(frozen=True)
class Submission:
    student: str                  # a name safe for file names
    source: Path                  # the folder or archive as handed in


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
            raise SubmissionError(f"two submissions for {name!r}: {found[name].source.name} "
                                  f"and {entry.name}")
        found[name] = Submission(name, entry)
    return [found[name] for name in sorted(found)]


def _checked_path(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise SubmissionError(f"the archive holds a path outside itself: {name!r}")
    return path


def _extract_tar(archive: Path, dest: Path) -> None:
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        if len(members) > MAX_FILES:
            raise SubmissionError(f"the archive holds {len(members)} files (at most {MAX_FILES})")
        total = 0
        for member in members:
            path = _checked_path(member.name)
            if member.isdir():
                (dest / path).mkdir(parents=True, exist_ok=True)
                continue
            if not member.isfile():
                raise SubmissionError(f"the archive holds a link or device: {member.name!r}")
            total += member.size
            if total > MAX_BYTES:
                raise SubmissionError(f"the archive unpacks to more than {MAX_BYTES >> 20} MiB")
            source = tar.extractfile(member)
            assert source is not None
            (dest / path).parent.mkdir(parents=True, exist_ok=True)
            with source, open(dest / path, "wb") as sink:
                shutil.copyfileobj(source, sink)


def _extract_zip(archive: Path, dest: Path) -> None:
    with zipfile.ZipFile(archive) as zipped:
        infos = zipped.infolist()
        if len(infos) > MAX_FILES:
            raise SubmissionError(f"the archive holds {len(infos)} files (at most {MAX_FILES})")
        total = 0
        for info in infos:
            path = _checked_path(info.filename)
            if info.is_dir():
                (dest / path).mkdir(parents=True, exist_ok=True)
                continue
            if (info.external_attr >> 16) & 0o170000 not in (0, 0o100000):
                raise SubmissionError(f"the archive holds a link or device: {info.filename!r}")
            total += info.file_size
            if total > MAX_BYTES:
                raise SubmissionError(f"the archive unpacks to more than {MAX_BYTES >> 20} MiB")
            (dest / path).parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(info) as source, open(dest / path, "wb") as sink:
                # read at most what the header claims: a lying header cannot fill the disk
                shutil.copyfileobj(source, sink)
                if sink.tell() > info.file_size:
                    raise SubmissionError(f"{info.filename!r} is larger than its header says")


def lab_root(folder: Path, lab_names: set[str]) -> Path:
    """The folder that holds the lab folders: the submission itself, or a folder inside it
    (students often hand in `alice/skeletons/01-tcp-hello/...`)."""
    level = [folder]
    for _ in range(SEARCH_DEPTH + 1):
        for candidate in level:
            if any((candidate / name).is_dir() for name in lab_names):
                return candidate
        level = sorted(child for parent in level for child in parent.iterdir()
                       if child.is_dir() and not child.is_symlink())
    raise SubmissionError("no lab folder (01-tcp-hello, ...) found in the submission")


def unpack(submission: Submission, work: Path, lab_names: set[str]) -> Path:
    """A folder of lab folders for this student, under `work` (archives are extracted)."""
    source = submission.source
    if source.is_dir():
        return lab_root(source, lab_names)
    dest = work / submission.student
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    try:
        if source.name.endswith(".zip"):
            _extract_zip(source, dest)
        else:
            _extract_tar(source, dest)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as error:
        raise SubmissionError(f"the archive cannot be read: {error}") from None
    return lab_root(dest, lab_names)
