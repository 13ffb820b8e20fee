"""Every Dutch catalogue in the repository is complete and compiled: no empty or fuzzy
entry, and the committed .mo holds exactly what the .po says."""

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", "node_modules", "staticfiles", "media", ".git"}


def _catalogues():
    found = []
    for po in ROOT.glob("**/locale/nl/LC_MESSAGES/*.po"):
        parts = po.relative_to(ROOT).parts
        if SKIP & set(parts) or any(part.startswith(".venv-") for part in parts):  # .gitignore's .venv-*
            continue
        found.append(po)
    return sorted(found)


CATALOGUES = _catalogues()


def test_the_root_catalogue_exists():
    assert ROOT / "locale/nl/LC_MESSAGES/django.po" in CATALOGUES


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_catalogue_complete_and_compiled(po):
    with po.open("rb") as f:
        catalog = read_po(f, locale="nl")
    assert not catalog.fuzzy, "the header is marked fuzzy"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if not all(strings):
            problems.append(f"empty: {message.id!r}")
    assert problems == []
    assert len(catalog) > 0

    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run compilemessages"
    with mo.open("rb") as f:
        compiled = read_mo(f)
    expected = {_entry(m) for m in catalog if m.id}
    actual = {_entry(m) for m in compiled if m.id}
    assert actual == expected, f"{mo.name} is out of date: run compilemessages"


def _entry(message) -> tuple:
    """(id, string) of a message; a plural message's ids and strings are lists."""

    def frozen(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return frozen(message.id), frozen(message.string)


def test_root_catalogue_has_every_string_of_the_source(tmp_path):
    """`make messages` would add nothing untranslated to locale/nl: run makemessages on
    a copy of the tree and look for new, empty entries."""
    import os
    import shutil
    import subprocess
    import sys

    if not shutil.which("xgettext"):
        if os.environ.get("CI") == "true":
            pytest.fail("GNU gettext is needed in CI (apt-get install gettext)")
        pytest.skip("needs GNU gettext (apt-get install gettext)")
    copy = tmp_path / "tree"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".git",
            "media",
            "staticfiles",
            "node_modules",
            "*.sqlite3",
            "__pycache__",
            ".*cache",
            ".hypothesis",
        ),
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="billing_portal.settings", PYTHONPATH=str(copy))
    ignores = [f"--ignore={d}/*" for d in ("payments", "invoices", "purchase_orders", ".venv", "tests", "benchmarks")]
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "nl", "--no-obsolete", *ignores],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    with (copy / "locale/nl/LC_MESSAGES/django.po").open("rb") as f:
        catalog = read_po(f, locale="nl")
    untranslated = [
        m.id for m in catalog if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else (m.string,)))
    ]
    assert untranslated == [], "run `make messages` and translate these"


def test_one_dutch_term_per_english_string_across_catalogues():
    """Django merges the catalogues (the root first, then the apps in INSTALLED_APPS
    order), so the same English string must read the same in every one of them, or a
    page would show whichever catalogue happens to win. Strings whose meaning differs
    carry a context (pgettext)."""
    seen: dict[tuple, dict[str, str]] = {}
    for po in CATALOGUES:
        with po.open("rb") as f:
            for message in read_po(f, locale="nl"):
                if message.id:
                    seen.setdefault((message.context, str(message.id)), {})[str(po.relative_to(ROOT))] = str(
                        message.string
                    )
    conflicts = {key: found for key, found in seen.items() if len(set(found.values())) > 1}
    assert conflicts == {}
