"""A student's progress, kept between runs: the last result of each lab and the hints seen.

Stored under build/state/ (never committed): `LAB.json` holds the last `socklab test` result of
the student's own tree (skeletons/) with a hash of the sources it tested, and `hints.json` how
many hints of each test were revealed.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.i18n import N_
from grader.manifest import Lab, Manifest

# The states as `socklab status` shows them (translated there).
NOT_STARTED, IN_PROGRESS, CHANGED, DONE = (N_("not started"), N_("in progress"), N_("changed"),
                                           N_("done"))
EDITOR_LITTER = (".swp", ".swx", ".swo", "~", ".tmp", ".bak")   # what editors write beside you
BUILD_OUTPUTS = ("server", "client", "a.out")                     # what a build by hand leaves


def state_dir(manifest: Manifest) -> Path:
    return manifest.root / "build" / "state"


def student_files(folder: Path) -> list[Path]:
    """The files of a lab folder that are the student's work: not editors' swap files, not
    programs or objects built by hand."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir()
                  if path.is_file() and not path.name.startswith((".", "#"))
                  and not path.name.endswith(EDITOR_LITTER) and not path.name.isdigit()
                  and path.name not in BUILD_OUTPUTS and path.suffix != ".o")


def sources_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in student_files(folder):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def save_result(manifest: Manifest, lab: Lab, result: dict[str, Any]) -> None:
    folder = state_dir(manifest)
    folder.mkdir(parents=True, exist_ok=True)
    record = {"sources": sources_hash(manifest.root / "skeletons" / lab.name), "result": result}
    (folder / f"{lab.name}.json").write_text(json.dumps(record, indent=2, ensure_ascii=False))


def load_result(manifest: Manifest, lab: Lab) -> dict[str, Any] | None:
    path = state_dir(manifest) / f"{lab.name}.json"
    try:
        record: dict[str, Any] = json.loads(path.read_text())
        return record
    except (OSError, ValueError):
        return None


# --- the original skeletons -----------------------------------------------------------------

def pristine_files(manifest: Manifest, lab: Lab) -> dict[str, bytes]:
    """The lab's skeleton as handed out: from .pristine/ (a student release) or from git."""
    copy = manifest.root / ".pristine" / "skeletons" / lab.name
    if copy.is_dir():
        return {p.name: p.read_bytes() for p in sorted(copy.iterdir()) if p.is_file()}
    prefix = f"skeletons/{lab.name}/"
    listing = subprocess.run(["git", "ls-tree", "--name-only", "HEAD", prefix],
                             cwd=manifest.root, capture_output=True, text=True)
    if listing.returncode != 0 or not listing.stdout.strip():
        return {}
    files = {}
    for path in listing.stdout.split():
        shown = subprocess.run(["git", "show", f"HEAD:{path}"], cwd=manifest.root,
                               capture_output=True)
        if shown.returncode == 0:
            files[Path(path).name] = shown.stdout
    return files


def untouched(manifest: Manifest, lab: Lab) -> bool:
    original = pristine_files(manifest, lab)
    folder = manifest.root / "skeletons" / lab.name
    return bool(original) and all((folder / name).is_file() and
                                  (folder / name).read_bytes() == data
                                  for name, data in original.items())


@dataclass(frozen=True)
class LabProgress:
    lab: Lab
    state: str                 # NOT_STARTED, IN_PROGRESS, CHANGED (since last check), DONE
    points: int | None         # from the last check, if any
    max_points: int


def lab_progress(manifest: Manifest, lab: Lab) -> LabProgress:
    record = load_result(manifest, lab)
    visible = lab.without_hidden()
    if record is None:
        state = NOT_STARTED if untouched(manifest, lab) else IN_PROGRESS
        return LabProgress(lab, state, None, visible.max_points)
    result = record["result"]
    points, maximum = int(result["points"]), int(result["max_points"])
    current = sources_hash(manifest.root / "skeletons" / lab.name)
    if current != record["sources"]:
        state = CHANGED
    elif points == maximum:
        state = DONE
    else:
        state = NOT_STARTED if untouched(manifest, lab) else IN_PROGRESS
    return LabProgress(lab, state, points, maximum)


# --- hints ----------------------------------------------------------------------------------

def hints_seen(manifest: Manifest) -> dict[str, int]:
    try:
        seen: dict[str, int] = json.loads((state_dir(manifest) / "hints.json").read_text())
        return seen
    except (OSError, ValueError):
        return {}


def reveal_hint(manifest: Manifest, lab: Lab, test_id: str) -> tuple[int, str] | None:
    """The next hint for this test (number from 1, text), or None when all were shown."""
    spec = lab.test(test_id)
    if spec is None or not spec.hints:
        return None
    seen = hints_seen(manifest)
    key = f"{lab.name}/{test_id}"
    shown = seen.get(key, 0)
    number = min(shown + 1, len(spec.hints))
    seen[key] = number
    state_dir(manifest).mkdir(parents=True, exist_ok=True)
    (state_dir(manifest) / "hints.json").write_text(json.dumps(seen, indent=2, sort_keys=True))
    return number, spec.hints[number - 1]
