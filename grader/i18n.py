"""The language of everything socklab prints: English or Korean, chosen the way GNU tools do.

The choice, first match wins:
    --lang ko|en            the command line (grader/cli.py passes it to setup())
    SOCKLAB_LANG=ko|en      an explicit setting in the environment
    the locale              LANGUAGE (a list such as ko:en; ignored when the locale is C or
                            POSIX, as gettext does), then LC_ALL, LC_MESSAGES, LANG: the first
                            one set decides; a `ko` one (ko, ko_KR.UTF-8) gives Korean
English otherwise. Every program the grader starts (the Bats harness, labs/lib/session.py) gets
the choice as SOCKLAB_LANG (child_environment), so that it speaks the same language.

Messages are GNU gettext catalogs: the English text is the msgid, po/ko.po holds the Korean
(po/extract.py says how to add a message). The compiled catalog is never committed:
compile_catalog() builds build/locale/ko/LC_MESSAGES/socklab.mo with msgfmt (Debian's package
`gettext`) when it is missing or older than po/ko.po. Without msgfmt, or with a broken catalog,
socklab speaks English and says why in one line, never with a traceback.

In code: `from grader.i18n import _` and `_("text with {name}").format(name=...)`; N_()
marks a text that is translated later, where it is shown (a constant).
"""

from __future__ import annotations

import argparse
import gettext
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Mapping
from pathlib import Path

DOMAIN = "socklab"
LANGUAGES = ("en", "ko")
ENGLISH, KOREAN = LANGUAGES
KIT_ROOT = Path(__file__).resolve().parent.parent
ENV_VARIABLE = "SOCKLAB_LANG"
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")   # gettext's order
MSGFMT_DEADLINE_S = 60
VARIABLE = re.compile(r"(\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)")   # $NAME or ${NAME} in a title
VALUE = r".+?"

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = ENGLISH


def _language_of(name: str) -> str | None:
    """"ko", "ko_KR.UTF-8" -> ko; "en", "en_US.UTF-8" -> en; anything else: neither."""
    name = name.strip().lower()
    if name.startswith("ko"):
        return KOREAN
    if name.startswith("en"):
        return ENGLISH
    return None


def choose(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The language to speak: "en" or "ko" (see the module's docstring for the order)."""
    env = os.environ if environ is None else environ
    for setting in (explicit, env.get(ENV_VARIABLE)):
        if setting and setting.strip().lower() in LANGUAGES:
            return setting.strip().lower()
    locale = next((env[name] for name in LOCALE_VARIABLES if env.get(name)), "C")
    if locale in ("C", "POSIX") or locale.startswith("C."):
        return ENGLISH          # gettext ignores LANGUAGE in the C locale
    # LANGUAGE is a priority list (ko:en); the locale itself comes after it
    for candidate in [*env.get("LANGUAGE", "").split(":"), locale]:
        found = _language_of(candidate) if candidate else None
        if found is not None:
            return found
    return ENGLISH


def locale_dir(root: Path = KIT_ROOT) -> Path:
    return root / "build" / "locale"


def catalog_path(root: Path = KIT_ROOT, language: str = KOREAN) -> Path:
    return locale_dir(root) / language / "LC_MESSAGES" / f"{DOMAIN}.mo"


def compile_catalog(root: Path = KIT_ROOT, language: str = KOREAN) -> tuple[Path | None, str]:
    """build/locale/LANGUAGE/LC_MESSAGES/socklab.mo, compiled from po/LANGUAGE.po if it is
    missing or older. Returns the catalog (None when there is none) and, if something went
    wrong, one line saying what."""
    source = root / "po" / f"{language}.po"
    target = catalog_path(root, language)
    try:
        if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
            return target, ""
    except FileNotFoundError:
        if not source.is_file():
            return (target if target.is_file() else None), f"{source} is missing"
    target.parent.mkdir(parents=True, exist_ok=True)
    # Several socklab runs may compile at once: each writes its own file, then renames it.
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    try:
        done = subprocess.run(["msgfmt", "--check", "-o", str(partial), str(source)],
                              capture_output=True, text=True, timeout=MSGFMT_DEADLINE_S)
    except FileNotFoundError:
        return None, ("msgfmt is missing, so messages stay in English: install the Debian "
                      "package gettext (make deps)")
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"msgfmt failed ({error}), so messages stay in English"
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        said = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[0]
        return None, f"{source} does not compile ({said}), so messages stay in English"
    partial.replace(target)
    return target, ""


def setup(explicit: str | None = None, root: Path = KIT_ROOT,
          environ: Mapping[str, str] | None = None) -> str:
    """Chooses the language and loads its catalog (compiling it if needed). Returns "en" or
    "ko". Programs the grader starts get the choice as SOCKLAB_LANG (child_environment)."""
    global _translation, _language
    language = choose(explicit, environ)
    _translation, _language = gettext.NullTranslations(), ENGLISH
    if language == KOREAN:
        path, problem = compile_catalog(root)
        if path is not None:
            try:
                with open(path, "rb") as stream:
                    _translation = gettext.GNUTranslations(stream)
                _language = KOREAN
            except (OSError, ValueError) as error:   # a damaged file: English, and say so
                problem = f"{path} cannot be read ({error}), so messages stay in English"
        if problem:
            print(f"socklab: {problem}", file=sys.stderr)
    # argparse's own words (usage:, error:, "the following arguments are required") come
    # from the same catalog: argparse looks its `_` up at each call.
    argparse._ = _translation.gettext            # type: ignore[attr-defined]
    argparse.ngettext = _translation.ngettext    # type: ignore[attr-defined]
    return _language


def setup_for_harness(root: Path = KIT_ROOT) -> str:
    """For the harness's Python tools (labs/lib/session.py): the language the grader chose
    (SOCKLAB_LANG) or the locale's, with the catalog as it is, never compiled from here."""
    global _translation, _language
    language = choose()
    if language == KOREAN:
        try:
            with open(catalog_path(root), "rb") as stream:
                _translation, _language = gettext.GNUTranslations(stream), KOREAN
        except (OSError, ValueError):
            pass
    return _language


def language() -> str:
    return _language


def child_environment() -> dict[str, str]:
    """What a program the grader starts needs in its environment to speak the same language
    (the Bats harness and labs/lib/session.py read SOCKLAB_LANG first)."""
    return {ENV_VARIABLE: _language}


def _(message: str) -> str:
    """The message in the chosen language."""
    return _translation.gettext(message)


def test_title(title: str) -> str:
    """A Bats test's title in the chosen language. A title whose source names a shell variable
    (@test "... $SEEDS seeds") reaches the grader expanded: it is matched against the catalog's
    titles with variables, and the values found are put back into the translation."""
    translated = _translation.gettext(title)
    if translated != title or _language == ENGLISH:
        return translated
    catalog: dict[object, str] = getattr(_translation, "_catalog", {})
    for msgid, msgstr in catalog.items():
        if not isinstance(msgid, str) or "$" not in msgid:
            continue
        names = VARIABLE.findall(msgid)
        pattern = "".join(f"({VALUE})" if VARIABLE.fullmatch(part) else re.escape(part)
                          for part in VARIABLE.split(msgid) if part)
        found = re.fullmatch(pattern, title)
        if found:
            values = dict(zip(names, found.groups()))
            return VARIABLE.sub(lambda m: values.get(m.group(0), m.group(0)), msgstr)
    return title


def N_(message: str) -> str:
    """Marks a message for the catalog without translating it yet (constants)."""
    return message


def display_width(text: str) -> int:
    """Columns `text` takes on a terminal: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in text)
