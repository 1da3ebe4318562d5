"""The student release: the tree students get, as a folder and a reproducible tarball.

    release/socklab-student/          the kit without what only graders may see
    release/socklab-student.tar.gz    the same folder, byte-identical for the same kit

What goes in is a list of what students need (an allow-list, so that a new instructor-only
folder stays out until someone decides otherwise): the README, the Makefile, `socklab`, the
grader, the labs' assignments and tests, the harness, the skeletons, the student docs,
the message catalogs (po/).

What stays out: `solutions/`, every lab's `hidden/` tests (and their entries in labs.toml,
hints included), the kit's own tests (`tests/`: invariants, broken implementations), the
sample class (`examples/`: it holds complete solutions), build output. (The docs go whole,
the instructor's guide too: it holds no secret, and the pages link to one another.)
It gets a GitHub Classroom workflow (grader/export.py), so it can serve as a template repository.
Without `solutions/`, the tests that pair a program with the reference skip, saying why.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import shutil
import tarfile
import tomllib
from pathlib import Path

from grader import manifest as manifest_mod
from grader.export import export_classroom
from grader.i18n import _

RELEASE_NAME = "socklab-student"

# Top-level entries students get; folders are copied whole, minus EXCLUDED_PARTS and the rules
# in excluded().
INCLUDED = ("README.md", "README.ko.md", "LICENSE", "Makefile", "socklab", "grader", "labs",
            "skeletons", "docs", ".devcontainer", "po")
EXCLUDED_PARTS = {"__pycache__", ".pytest_cache", "hidden", ".git"}
TABLE_HEADER = re.compile(r"^\[\[?[^\]]+\]\]?\s*(#.*)?$")


class ReleaseError(Exception):
    """The kit cannot be released as it is (e.g. the manifest would not load)."""


def excluded(relative: Path) -> bool:
    parts = relative.parts
    if any(part in EXCLUDED_PARTS for part in parts):
        return True
    return relative.suffix in (".pyc", ".orig", ".rej") or relative.name.endswith("~")


def release_files(kit_root: Path) -> list[Path]:
    """Every file of the release, relative to the kit, sorted."""
    files: list[Path] = []
    for name in INCLUDED:
        top = kit_root / name
        if top.is_file():
            files.append(Path(name))
        elif top.is_dir():
            for path in top.rglob("*"):
                relative = path.relative_to(kit_root)
                if path.is_file() and not path.is_symlink() and not excluded(relative):
                    files.append(relative)
    return sorted(files)


def strip_hidden_tests(text: str) -> str:
    """labs.toml without its hidden tests: each `[[lab.test]]` table with `hidden = true` goes,
    with its comments. The rest of the file is kept byte for byte."""
    chunks: list[list[str]] = [[]]
    for line in text.splitlines(keepends=True):
        if TABLE_HEADER.match(line.strip()):
            chunks.append([])
        chunks[-1].append(line)
    kept = []
    for chunk in chunks:
        body = "".join(chunk)
        if body.lstrip().startswith("[[lab.test]]"):
            parsed = tomllib.loads(body)
            if parsed["lab"]["test"][0].get("hidden") is True:
                continue
        kept.append(body)
    return "".join(kept)


def copy_tree(kit_root: Path, target: Path) -> list[Path]:
    files = release_files(kit_root)
    for relative in files:
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(kit_root / relative, destination)
    # `socklab reset` restores a lab from this copy of the skeletons as handed out: a student's
    # copy of the release may have no git history to restore from.
    if (target / "skeletons").is_dir():
        shutil.copytree(target / "skeletons", target / ".pristine" / "skeletons")
    manifest_path = target / "labs" / "labs.toml"
    if manifest_path.is_file():
        manifest_path.write_text(strip_hidden_tests(manifest_path.read_text(encoding="utf-8")),
                                 encoding="utf-8")
    return files


def check_release(target: Path) -> None:
    """The release must load as a kit and hold nothing graders keep for themselves."""
    try:
        loaded = manifest_mod.load(target)
    except manifest_mod.ManifestError as error:
        raise ReleaseError(_("the released manifest does not load: {error}").format(
            error=error)) from None
    hidden = [f"{lab.name}/{t.id}" for lab in loaded.labs for t in lab.tests if t.hidden]
    if hidden:
        raise ReleaseError(_("hidden tests left in the released manifest: {tests}").format(
            tests=hidden))
    for forbidden in ("solutions", "tests", "examples"):
        if (target / forbidden).exists():
            raise ReleaseError(_("{folder}/ must not be in the release").format(
                folder=forbidden))
    leaked = sorted(str(p.relative_to(target)) for p in target.rglob("hidden") if p.is_dir())
    if leaked:
        raise ReleaseError(_("hidden test folders in the release: {folders}").format(
            folders=leaked))


def write_tarball(folder: Path, tarball: Path) -> None:
    """A reproducible .tar.gz: sorted entries, no owners, no times, normalised modes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        paths = [folder, *sorted(folder.rglob("*"))]
        for path in paths:
            name = str(Path(folder.name) / path.relative_to(folder))
            info = tar.gettarinfo(str(path), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            if info.isdir():
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
                with path.open("rb") as stream:
                    tar.addfile(info, stream)
    with tarball.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                  mtime=0) as compressed:
        compressed.write(buffer.getvalue())


def build_release(kit_root: Path, out_dir: Path, classroom: bool = True) -> tuple[Path, Path]:
    """Writes out_dir/socklab-student/ and out_dir/socklab-student.tar.gz; returns both.
    An older release in out_dir is replaced. With `classroom`, the release is ready to be a
    GitHub Classroom template repository: it holds .github/workflows/classroom.yml."""
    kit_root = kit_root.resolve()
    out_dir = out_dir.resolve()
    folder = out_dir / RELEASE_NAME
    tarball = out_dir / f"{RELEASE_NAME}.tar.gz"
    if kit_root == folder or kit_root.is_relative_to(folder):
        raise ReleaseError(_("{folder} would hold the kit itself").format(folder=folder))
    if folder.exists():
        shutil.rmtree(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = out_dir / f".{RELEASE_NAME}.tmp"
    if staging.exists():
        shutil.rmtree(staging)
    try:
        copy_tree(kit_root, staging)
        check_release(staging)
        if classroom:
            export_classroom(staging, staging)
        staging.rename(folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    write_tarball(folder, tarball)
    return folder, tarball
