"""Write the release's coordinates into every file that names them (`make readme`), or --check them.

The GitHub owner that publishes the releases is set HERE and only here (OWNER). The distribution name
comes from pyproject.toml and the version from `updater/__init__.py`. From those three, this script
writes: the Action's prebuilt image (`action.yml`), the orb's executor image and tag, the orb and
Action references in the examples and the README, the Dockerfile's version label, and the README's
install commands. Tests run `--check`, so a file that drifts from the release fails the suite.

Usage: python scripts/release_refs.py [--check | --print FIELD]
  --print version|major|image|orb|distribution: print one coordinate (the release workflow's source).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent

# The GitHub user or organisation that publishes the Action, the image (ghcr.io/OWNER/updater), the orb
# (CircleCI namespace OWNER) and the repository (github.com/OWNER/updater). A fork changes this line
# and runs `make readme`.
OWNER = "updater-dev"
REPOSITORY = "updater"  # github.com/OWNER/REPOSITORY, ghcr.io/OWNER/REPOSITORY, orb OWNER/REPOSITORY


class Release(NamedTuple):
    owner: str
    distribution: str
    version: str

    @property
    def major(self) -> str:
        return self.version.split(".")[0]

    @property
    def image(self) -> str:
        return f"ghcr.io/{self.owner}/{REPOSITORY}"

    @property
    def orb(self) -> str:
        return f"{self.owner}/{REPOSITORY}"


def distribution_name(root: Path = ROOT) -> str:
    """Return `[project] name` from pyproject.toml (a regex: no TOML parser before Python 3.11)."""
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    project = text.split("\n[project]\n", 1)[1].split("\n[", 1)[0]
    (name,) = re.findall(r'^name = "([^"]+)"$', project, re.M)
    return name


def package_version(root: Path = ROOT) -> str:
    """Return `__version__` from updater/__init__.py, the one place the version is written."""
    text = (root / "updater" / "__init__.py").read_text(encoding="utf-8")
    (version,) = re.findall(r'^__version__ = "([^"]+)"$', text, re.M)
    return version


def current(root: Path = ROOT) -> Release:
    return Release(OWNER, distribution_name(root), package_version(root))


Rule = tuple[re.Pattern[str], Callable[[Release], str]]

# Owner segments: GitHub logins are letters, digits and hyphens; image paths are lower case.
_O = r"[A-Za-z0-9-]+"
IMAGE_REF: Rule = (re.compile(rf"ghcr\.io/{_O}/{REPOSITORY}\b"), lambda r: r.image)
IMAGE_MAJOR: Rule = (
    re.compile(rf"ghcr\.io/{_O}/{REPOSITORY}:[0-9]+(?![0-9.])"),
    lambda r: f"{r.image}:{r.major}",
)
ACTION_IMAGE: Rule = (
    re.compile(rf"(?m)^(\s*image: )docker://ghcr\.io/{_O}/{REPOSITORY}:\S+$"),
    lambda r: rf"\g<1>docker://{r.image}:{r.version}",
)
ACTION_USES: Rule = (
    re.compile(rf"\buses: {_O}/{REPOSITORY}@v[0-9]+\b"),
    lambda r: f"uses: {r.owner}/{REPOSITORY}@v{r.major}",
)
ORB_REF: Rule = (
    re.compile(rf"(?m)^(\s*updater: ){_O}/{REPOSITORY}@[0-9][0-9.]*$"),
    lambda r: rf"\g<1>{r.owner}/{REPOSITORY}@{r.major}",
)
REPO_URL: Rule = (
    re.compile(rf"github\.com/{_O}/{REPOSITORY}\b"),
    lambda r: f"github.com/{r.owner}/{REPOSITORY}",
)


def _parameter_default(name: str) -> Rule:
    """The default of the orb parameter `name` (a top-level entry of `parameters:`) is the version."""
    return (
        re.compile(rf'(?m)^(  {name}:\n(?:    [a-z-]+: .*\n)*?    default: )"[^"]*"$'),
        lambda r: rf'\g<1>"{r.version}"',
    )


# The orb's image tag parameters: the executor's `tag` and the bump job's `image-tag`.
EXECUTOR_TAG = _parameter_default("tag")
JOB_IMAGE_TAG = _parameter_default("image-tag")
DOCKER_VERSION: Rule = (re.compile(r"(?m)^ARG VERSION=\S+$"), lambda r: f"ARG VERSION={r.version}")
# Install commands, as the README's Install section writes them.
INSTALL: Rule = (
    re.compile(r"(?m)^(pipx install|uv tool install|pip install) (?!\.|-)[A-Za-z0-9._-]+$"),
    lambda r: rf"\g<1> {r.distribution}",
)
ORB_INSTALL_HINT: Rule = (
    re.compile(r"install updater \(pip(?:x)? install [A-Za-z0-9._-]+\)"),
    lambda r: f"install updater (pipx install {r.distribution})",
)

FILES: dict[str, tuple[Rule, ...]] = {
    "action.yml": (ACTION_IMAGE,),
    "Dockerfile": (DOCKER_VERSION, REPO_URL),
    "orb/src/@orb.yml": (REPO_URL,),
    "orb/src/executors/default.yml": (IMAGE_REF, EXECUTOR_TAG),
    "orb/src/jobs/bump.yml": (JOB_IMAGE_TAG,),
    "orb/src/scripts/updater.sh": (ORB_INSTALL_HINT,),
    "orb/src/examples/bump_staging.yml": (ORB_REF,),
    "orb/src/examples/promote_production.yml": (ORB_REF,),
    "examples/github/bump-staging.yml": (ACTION_USES,),
    "examples/github/promote.yml": (ACTION_USES,),
    "examples/circleci/config.yml": (ORB_REF,),
    "README.md": (IMAGE_REF, IMAGE_MAJOR, ACTION_USES, ORB_REF, REPO_URL, INSTALL),
    "pyproject.toml": (REPO_URL,),
}


def stamp(text: str, rules: tuple[Rule, ...], release: Release) -> str:
    """Return text with every rule's matches rewritten for release."""
    for pattern, replacement in rules:
        text = pattern.sub(replacement(release), text)
    return text


def stale_files(root: Path, release: Release, *, write: bool) -> list[str]:
    """Return the files whose release references differ from release (rewriting them when write)."""
    stale = []
    for name, rules in FILES.items():
        path = root / name
        text = path.read_text(encoding="utf-8")
        fresh = stamp(text, rules, release)
        if fresh != text:
            stale.append(name)
            if write:
                path.write_text(fresh, encoding="utf-8")
    return stale


PRINTABLE = ("version", "major", "image", "orb", "distribution")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--print"]:
        if len(argv) != 2 or argv[1] not in PRINTABLE:
            print(f"usage: release_refs.py --print {{{','.join(PRINTABLE)}}}", file=sys.stderr)
            return 2
        print(getattr(current(), argv[1]))
        return 0
    check = "--check" in argv
    stale = stale_files(ROOT, current(), write=not check)
    if check and stale:
        print(f"release references out of date in {', '.join(stale)}: run `make readme`", file=sys.stderr)
        return 1
    for name in stale:
        print(f"{name}: release references updated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
