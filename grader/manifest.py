"""The course manifest (labs/labs.toml): labs in course order, each test's points and hints."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

KINDS = ("given", "functional")
PROGRAMS = ("server", "client")   # what a lab is, unless its entry says `programs = [...]`


class ManifestError(Exception):
    """The manifest is missing, malformed, or names something that does not exist."""


@dataclass(frozen=True)
class TestSpec:
    id: str
    points: int
    kind: str = "functional"
    hidden: bool = False
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lab:
    id: str                       # "01"
    slug: str                     # "tcp-hello"
    title: str                    # "TCP hello"
    tests: tuple[TestSpec, ...] = field(default_factory=tuple)
    programs: tuple[str, ...] = PROGRAMS   # each built from NAME.c; lab 09 has a server only

    @property
    def name(self) -> str:
        """The folder name shared by labs/, skeletons/ and solutions/: "01-tcp-hello"."""
        return f"{self.id}-{self.slug}"

    @property
    def max_points(self) -> int:
        return sum(test.points for test in self.tests)

    def without_hidden(self) -> Lab:
        """The lab as students see it: hidden tests (labs/NN/hidden/) left out."""
        return replace(self, tests=tuple(t for t in self.tests if not t.hidden))

    def test(self, test_id: str) -> TestSpec | None:
        return next((t for t in self.tests if t.id == test_id), None)


@dataclass(frozen=True)
class Manifest:
    root: Path                    # the kit's top folder
    labs: tuple[Lab, ...]

    def find(self, key: str) -> Lab:
        """A lab by "01", "1", "01-tcp-hello" or "tcp-hello"."""
        for lab in self.labs:
            if key in (lab.id, lab.name, lab.slug) or (key.isdigit() and int(key) == int(lab.id)):
                return lab
        known = ", ".join(lab.name for lab in self.labs)
        raise ManifestError(f"no lab called {key!r}; the labs are: {known}")

    def lab_dir(self, lab: Lab) -> Path:
        return self.root / "labs" / lab.name


def _test(raw: dict[str, object], where: str) -> TestSpec:
    test_id, points = raw.get("id"), raw.get("points")
    if not isinstance(test_id, str) or not test_id:
        raise ManifestError(f"{where}: a test needs an id")
    if not isinstance(points, int) or points < 0:
        raise ManifestError(f"{where}, test {test_id}: points must be a whole number >= 0")
    kind = raw.get("kind", "functional")
    if kind not in KINDS:
        raise ManifestError(f"{where}, test {test_id}: kind must be one of {KINDS}")
    hints = raw.get("hints", [])
    if not isinstance(hints, list) or not all(isinstance(h, str) for h in hints):
        raise ManifestError(f"{where}, test {test_id}: hints must be a list of strings")
    return TestSpec(id=test_id, points=points, kind=str(kind), hidden=bool(raw.get("hidden")),
                    hints=tuple(hints))


def load(root: Path) -> Manifest:
    path = root / "labs" / "labs.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path}: no manifest (is {root} a socklab folder?)") from None
    except tomllib.TOMLDecodeError as error:
        raise ManifestError(f"{path}: {error}") from None
    labs = []
    for raw in data.get("lab", []):
        where = f"{path.name}, lab {raw.get('id', '?')}"
        for key in ("id", "slug", "title"):
            if not isinstance(raw.get(key), str):
                raise ManifestError(f"{where}: missing {key}")
        tests = tuple(_test(t, where) for t in raw.get("test", []))
        programs = raw.get("programs", list(PROGRAMS))
        if (not isinstance(programs, list) or not set(programs) <= set(PROGRAMS)
                or not programs or len(set(programs)) != len(programs)):
            raise ManifestError(f"{where}: programs must list some of {PROGRAMS}, each once")
        ids = [t.id for t in tests]
        duplicates = {i for i in ids if ids.count(i) > 1}
        if duplicates:
            raise ManifestError(f"{where}: test ids used twice: {sorted(duplicates)}")
        labs.append(Lab(id=raw["id"], slug=raw["slug"], title=raw["title"], tests=tests,
                        programs=tuple(programs)))
    if not labs:
        raise ManifestError(f"{path}: lists no lab")
    return Manifest(root=root, labs=tuple(labs))
