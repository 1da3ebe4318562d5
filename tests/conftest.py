"""Shared fixtures for socklab's own tests."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest

KIT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT))

from grader.manifest import Manifest, load  # noqa: E402  (the kit's own, found through KIT)

PYTHON = "/usr/bin/python3"
GRADE_DEADLINE_S = 1800


CLEAN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(KIT)}


def socklab(*args: str, root: Path = KIT, env: dict[str, str] | None = None,
            timeout: float = GRADE_DEADLINE_S,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Runs the grader's command line (`socklab ARGS`) on the kit at `root` as a user would:
    in a clean environment (plus `env`), `stdin` as its input; returns what it did."""
    return subprocess.run(
        [PYTHON, "-m", "grader", "--root", str(root), *args],
        cwd=KIT, capture_output=True, text=True, timeout=timeout, input=stdin,
        env={**CLEAN_ENV, **(env or {})})


def grade(impl: Path, labs: list[str], json_path: Path, *extra: str, root: Path = KIT,
          env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    """Runs `socklab test` as a user would (`env` added to a clean environment); returns its
    exit status, JSON and text output. One line a test (--brief) unless `extra` says -v."""
    brief = [] if "-v" in extra else ["--brief"]
    proc = socklab("test", *labs, "--impl", str(impl), "--json", str(json_path), *brief,
                   *extra, root=root, env={"NO_COLOR": "1", **(env or {})})
    data = json.loads(json_path.read_text()) if json_path.exists() else {}
    return proc.returncode, data, proc.stdout + proc.stderr


def recording_lab(root: Path, variable: str) -> tuple[Manifest, Path, Path]:
    """A kit of one lab whose one test, [record], appends `variable` as Bats sees it (prefixed
    with x, so that an empty value shows) to a file: the manifest, the implementation tree to
    run it on, and that file. For checking what runner.run_lab tells Bats."""
    seen = root / "seen"
    tests = root / "kit" / "labs" / "01-fake" / "tests"
    tests.mkdir(parents=True)
    (root / "kit" / "labs" / "labs.toml").write_text(
        '[[lab]]\nid = "01"\nslug = "fake"\ntitle = "Fake"\n'
        '[[lab.test]]\nid = "record"\npoints = 1\n')
    (tests / "fake.bats").write_text(
        f'@test "[record] records {variable}" {{ echo "x${{{variable}:-}}" >>{seen}; }}\n')
    (root / "impl" / "01-fake").mkdir(parents=True)
    return load(root / "kit"), root / "impl", seen


@pytest.fixture(scope="session")
def kit() -> Path:
    return KIT


INVARIANTS = "test_invariants"   # the module whose grader runs go on beside the others' tests
ALONE = "alone"                  # the marker of tests beside which those runs must not go on
ALONE_HELP = (f"{ALONE}: the test starts programs that spin on the CPU (hostile submissions); "
              "its file runs first, and test_invariants.py's grader runs start once it has "
              "ended (beside spinning programs, their timed tests could lose points)")
last_alone: list[str] = []       # the node id of the last such test of the session


def invariants_module(item: pytest.Item) -> Any:
    module = getattr(item, "module", None)
    return module if module is not None and module.__name__ == INVARIANTS else None


def test_file(item: pytest.Item) -> str:
    return item.nodeid.split("::")[0]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", ALONE_HELP)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files of tests marked `alone` come first, test_invariants.py's tests last: its grader
    runs, started when the `alone` tests have ended (below), go on beside every other file's
    tests, and are done, or nearly, when its tests ask for them. A file's tests stay together
    and in their order (a module's fixtures are made once)."""
    first = {test_file(item) for item in items if item.get_closest_marker(ALONE)}
    items.sort(key=lambda item: 2 if invariants_module(item) is not None
               else 0 if test_file(item) in first else 1)    # stable: else in order


# A test module may define begin_early(items), called once the tests are collected with its
# tests among them (`items`), to start long work its tests will wait for (an EarlyWork); and
# end_early(), called when the session ends. The `alone` files' grade calls spin for most of
# their time: begun together, they spin side by side rather than one after the other.
BEGIN_EARLY, END_EARLY = "begin_early", "end_early"
T = TypeVar("T")


class EarlyWork(Generic[T]):
    """Long work of a test module, begun once (start) in a thread of its own and in a folder
    of its own (mkdtemp), which `work` gets; its tests wait for start()'s result. end() (from
    the module's end_early) starts nothing more and removes the folder of work that has ended;
    work still going (a session cut short) ends on its own, bounded by its own deadlines."""

    def __init__(self, name: str, work: Callable[[Path], T]) -> None:
        self.name, self.work = name, work
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self.started: tuple[Path, Future[T]] | None = None

    def start(self) -> Future[T]:
        if self.started is None:
            root = Path(tempfile.mkdtemp(prefix=f"socklab-{self.name}-"))
            self.started = root, self.pool.submit(self.work, root)
        return self.started[1]

    def end(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self.started is not None and self.started[1].done():
            shutil.rmtree(self.started[0], ignore_errors=True)


def modules_with(items: list[pytest.Item], name: str) -> dict[Any, list[pytest.Item]]:
    found: dict[Any, list[pytest.Item]] = {}
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and hasattr(module, name):
            found.setdefault(module, []).append(item)
    return found


def pytest_collection_finish(session: pytest.Session) -> None:
    """Begins the modules' early work (above), and schedules test_invariants.py's grader runs
    as soon as the tests are collected, to go on once the `alone` tests have ended (at once if
    there are none). They take half the suite's CPU and most of its wall time, and they mostly
    wait, as the other files' tests do (class runs, deadlines): side by side, the two halves
    fill the cores that each leaves idle alone (`make test`: 385 s one after the other,
    2026-12-04)."""
    if session.config.option.collectonly:
        return
    for module, items in modules_with(session.items, BEGIN_EARLY).items():
        getattr(module, BEGIN_EARLY)(items)
    module = next(filter(None, map(invariants_module, session.items)), None)
    if module is None:
        return
    alone = [item.nodeid for item in session.items if item.get_closest_marker(ALONE)]
    last_alone[:] = alone[-1:]
    module.start(module.RUNS_WHILE_SPINNING if alone else module.RUNS_BESIDE)


def pytest_runtest_logfinish(nodeid: str) -> None:
    module = sys.modules.get(INVARIANTS)
    if module is not None and last_alone == [nodeid]:
        module.start(module.RUNS_BESIDE)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A session that ends before test_invariants.py's tests (a failure under -x, Ctrl-C)
    starts none of its runs not yet started; the modules' early work ends."""
    module = sys.modules.get(INVARIANTS)
    if module is not None:
        module.stop()
    for module in modules_with(session.items, END_EARLY):
        getattr(module, END_EARLY)()
