"""The course manifest (labs/labs.toml): labs in course order, each test's points and hints."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.i18n import _

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
        raise ManifestError(_("no lab called {key}; the labs are: {known}").format(
            key=repr(key), known=known))

    def lab_dir(self, lab: Lab) -> Path:
        return self.root / "labs" / lab.name


def _test(raw: dict[str, object], where: str) -> TestSpec:
    test_id, points = raw.get("id"), raw.get("points")
    if not isinstance(test_id, str) or not test_id:
        raise ManifestError(_("{where}: a test needs an id").format(where=where))
    if not isinstance(points, int) or points < 0:
        raise ManifestError(_("{where}, test {id}: points must be a whole number >= 0").format(
            where=where, id=test_id))
    kind = raw.get("kind", "functional")
    if kind not in KINDS:
        raise ManifestError(_("{where}, test {id}: kind must be one of {kinds}").format(
            where=where, id=test_id, kinds=KINDS))
    hints = raw.get("hints", [])
    if not isinstance(hints, list) or not all(isinstance(h, str) for h in hints):
        raise ManifestError(_("{where}, test {id}: hints must be a list of strings").format(
            where=where, id=test_id))
    return TestSpec(id=test_id, points=points, kind=str(kind), hidden=bool(raw.get("hidden")),
                    hints=tuple(hints))


def load(root: Path) -> Manifest:
    path = root / "labs" / "labs.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(_("{path}: no manifest (is {root} a socklab folder?)").format(
            path=path, root=root)) from None
    except tomllib.TOMLDecodeError as error:
        raise ManifestError(f"{path}: {error}") from None
    labs = []
    for raw in data.get("lab", []):
        where = _("{file}, lab {id}").format(file=path.name, id=raw.get("id", "?"))
        for key in ("id", "slug", "title"):
            if not isinstance(raw.get(key), str):
                raise ManifestError(_("{where}: missing {key}").format(where=where, key=key))
        tests = tuple(_test(t, where) for t in raw.get("test", []))
        programs = raw.get("programs", list(PROGRAMS))
        if (not isinstance(programs, list) or not set(programs) <= set(PROGRAMS)
                or not programs or len(set(programs)) != len(programs)):
            raise ManifestError(_("{where}: programs must list some of {programs}, each "
                                  "once").format(where=where, programs=PROGRAMS))
        ids = [t.id for t in tests]
        duplicates = {i for i in ids if ids.count(i) > 1}
        if duplicates:
            raise ManifestError(_("{where}: test ids used twice: {ids}").format(
                where=where, ids=sorted(duplicates)))
        labs.append(Lab(id=raw["id"], slug=raw["slug"], title=raw["title"], tests=tests,
                        programs=tuple(programs)))
    if not labs:
        raise ManifestError(_("{path}: lists no lab").format(path=path))
    return Manifest(root=root, labs=tuple(labs))
