"""Reproducible installs: every requirements*.txt is a lock made by ``make lock`` from its
requirements*.in (every package, direct and transitive, pinned with ``==`` and its
hashes), the locks agree with each other, and every install (the Makefile, the
Dockerfile, CI through ``make venv``) uses them with ``--require-hashes``."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INPUTS = sorted(ROOT.glob("requirements*.in"))
LOCKS = sorted(ROOT.glob("requirements*.txt"))
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalized(name: str) -> str:
    """A project name as the registry compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def logical_lines(path: Path) -> list[str]:
    """The lines of a requirements file with continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    lines = []
    for line in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            lines.append(line)
    return lines


def pins(lock: Path) -> dict[str, str]:
    """{normalized name: version} of a lock."""
    found = {}
    for line in logical_lines(lock):
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;]+)", line)
        assert match, f"{lock.name}: not a pin: {line}"
        found[normalized(match.group(1))] = match.group(3)
    return found


def direct(source: Path) -> set[str]:
    """The direct dependencies of an input file, with those of the files it includes (-r)."""
    names = set()
    for line in logical_lines(source):
        if line.startswith("-r"):
            names |= direct(source.parent / line[2:].strip())
        elif not line.startswith("-"):
            names.add(normalized(_NAME.match(line).group(1)))
    return names


def test_every_lock_has_its_input():
    assert [p.name for p in INPUTS] == ["requirements-dev.in", "requirements-load.in", "requirements.in"]
    assert [p.name for p in LOCKS] == [p.with_suffix(".txt").name for p in INPUTS]


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: p.name)
def test_every_line_of_a_lock_is_an_exact_pin_with_hashes(lock):
    lines = logical_lines(lock)
    assert lines, f"{lock.name} is empty"
    for line in lines:
        assert not line.startswith("-"), f"{lock.name}: an option or include in a lock: {line}"
        assert re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?==[^\s;]+", line), f"{lock.name}: not pinned: {line}"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]+)", line)
        assert hashes, f"{lock.name}: no hash: {line}"
        assert all(len(h) == 64 for h in hashes), f"{lock.name}: a malformed hash: {line}"
    assert len(pins(lock)) == len(lines), f"{lock.name} pins a package twice"


@pytest.mark.parametrize("source", INPUTS, ids=lambda p: p.name)
def test_every_direct_dependency_is_in_its_lock(source):
    locked = pins(source.with_suffix(".txt"))
    missing = direct(source) - set(locked)
    assert not missing, f"{source.name}: not in {source.stem}.txt (run `make lock`): {sorted(missing)}"


@pytest.mark.parametrize(
    ("wider", "narrower"),
    [("requirements-dev.txt", "requirements.txt"), ("requirements-load.txt", "requirements-dev.txt")],
)
def test_a_wider_lock_keeps_the_pins_of_the_one_it_builds_on(wider, narrower):
    """The dev venv (tests, CI) runs what the image runs: the runtime lock's versions."""
    wide, narrow = pins(ROOT / wider), pins(ROOT / narrower)
    differing = {name: (version, wide.get(name)) for name, version in narrow.items() if wide.get(name) != version}
    assert not differing, f"{wider} differs from {narrower} (run `make lock`): {differing}"


def test_inputs_constrain_to_the_lock_they_build_on():
    assert "-c requirements.txt" in logical_lines(ROOT / "requirements-dev.in")
    assert "-c requirements-dev.txt" in logical_lines(ROOT / "requirements-load.in")


def test_held_back_packages_say_why():
    """An upper bound in an input file has its reason in the comment above it."""
    lines = (ROOT / "requirements.in").read_text().splitlines()
    for i, line in enumerate(lines):
        if "<" in line and not line.startswith("#"):
            comment = []
            j = i - 1
            while j >= 0 and (lines[j].startswith("#") or "<" in lines[j]):
                if lines[j].startswith("#"):
                    comment.append(lines[j])
                j -= 1
            assert comment, f"requirements.in: {line} is held back without a reason"


def pip_installs(text: str) -> list[str]:
    joined = re.sub(r"\\\n", " ", text)
    return [line.strip() for line in joined.splitlines() if re.search(r"\bpip3? install\b", line)]


def test_makefile_installs_from_the_locks_with_hashes():
    makefile = (ROOT / "Makefile").read_text()
    installs = pip_installs(makefile)
    assert installs
    for line in installs:
        assert "--require-hashes" in line and re.search(r"-r requirements(-dev|-load)?\.txt\b", line), line
    assert "--require-hashes -r requirements-dev.txt" in makefile  # make venv, make test, CI
    assert "--require-hashes -r requirements-load.txt" in makefile  # make load
    assert "--generate-hashes" in makefile and "--python-version 3.11" in makefile  # make lock


def test_image_installs_the_runtime_lock_with_hashes():
    installs = pip_installs((ROOT / "Dockerfile").read_text())
    assert installs == ["RUN pip install --no-cache-dir --require-hashes -r requirements.txt"]


def test_ci_installs_through_make_venv():
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make venv$", ci, re.MULTILINE)
    assert not pip_installs(ci), "CI installs Python packages through `make venv` only"
