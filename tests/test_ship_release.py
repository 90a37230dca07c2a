"""The release's coordinates agree everywhere: one distribution name, one owner, one version.

`scripts/release_refs.py` writes them (`make readme`); these tests read the files as a user or a
runner would and fail when one drifts: the README's install commands against pyproject's name, the
Action's image tag, the orb executor's tag and the Dockerfile's label against `__version__`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from scripts import release_refs
from updater import __version__

ROOT = Path(__file__).resolve().parent.parent


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    return [ROOT / name for name in listed if name and (ROOT / name).is_file()]


def test_distribution_name_is_ours_not_pypis_updater() -> None:
    # `updater` on PyPI is an unrelated project; ours is gitops-updater (checked free on the index).
    assert release_refs.distribution_name() == "gitops-updater"
    assert release_refs.package_version() == __version__


def test_readme_install_commands_match_the_packaging_metadata() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    install = readme.split("\n## Install\n", 1)[1].split("\n## ", 1)[0]
    assert readme.index("\n## Install\n") < readme.index("\n## Quickstart\n")
    commands = re.findall(r"^(pipx install|uv tool install) (\S+)$", install, re.M)
    assert [tool for tool, _ in commands] == ["pipx install", "uv tool install"]
    assert {name for _, name in commands} == {release_refs.distribution_name()}
    release = release_refs.current()
    assert f"uses: {release.owner}/updater@v{release.major}\n" in install
    assert f"updater: {release.orb}@{release.major}\n" in install
    assert f"{release.image}:{release.major} " in install


def test_no_file_tells_users_to_install_the_wrong_package() -> None:
    wrong = re.compile(r"\b(?:pip|pipx|uv tool|uv pip) install (?:-[-\w]+ )*updater\b(?![-\w])")
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in tracked_files()
        if path.suffix not in {".png", ".gz"}
        for match in wrong.finditer(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []
    # The check itself (its sample is assembled, so this file does not match itself).
    assert wrong.search("then pip " + "install updater in a step")
    assert not wrong.search("pip install updater-x")


def test_release_references_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "release_refs.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_release_references_check_notices_a_stale_version(tmp_path: Path) -> None:
    for name in release_refs.FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "updater").mkdir(exist_ok=True)
    (tmp_path / "updater" / "__init__.py").write_text('__version__ = "2.3.4"\n')
    release = release_refs.current(tmp_path)
    assert release.version == "2.3.4" and release.major == "2"
    stale = release_refs.stale_files(tmp_path, release, write=True)
    assert {"action.yml", "Dockerfile", "orb/src/executors/default.yml", "README.md"} <= set(stale)
    assert "image: docker://ghcr.io/updater-dev/updater:2.3.4\n" in (tmp_path / "action.yml").read_text()
    assert "uses: updater-dev/updater@v2" in (tmp_path / "README.md").read_text()
    assert release_refs.stale_files(tmp_path, release, write=False) == []
    # Another owner: one constant, every file follows.
    fork = release._replace(owner="acme")
    release_refs.stale_files(tmp_path, fork, write=True)
    assert "ghcr.io/acme/updater:2.3.4" in (tmp_path / "action.yml").read_text()
    assert "updater: acme/updater@2\n" in (tmp_path / "examples" / "circleci" / "config.yml").read_text()


def test_image_references_carry_the_version() -> None:
    release = release_refs.current()
    runs = load(ROOT / "action.yml")["runs"]
    assert runs["image"] == f"docker://{release.image}:{__version__}"
    executor = load(ROOT / "orb" / "src" / "executors" / "default.yml")["parameters"]
    assert (executor["image"]["default"], executor["tag"]["default"]) == (release.image, __version__)
    orb = load(ROOT / "orb" / "orb.yml")
    assert orb["executors"]["default"]["parameters"]["tag"]["default"] == __version__
    assert orb["jobs"]["bump"]["parameters"]["image-tag"]["default"] == __version__
    dockerfile = (ROOT / "Dockerfile").read_text()
    final = dockerfile.split("\nFROM base\n")[1]
    assert re.findall(r"^ARG VERSION=(\S+)$", final, re.M) == [__version__]
    assert 'org.opencontainers.image.version="${VERSION}"' in final
    assert f'org.opencontainers.image.source="https://github.com/{release.orb}"' in final


def test_release_workflow_reads_the_coordinates_from_the_one_place() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "release.yml")
    assert workflow["on"] == {"push": {"tags": ["v[0-9]+.[0-9]+.[0-9]+"]}}
    check = workflow["jobs"]["check"]
    script = next(step["run"] for step in check["steps"] if step.get("id") == "refs")
    for field in ("version", "major", "image", "orb"):
        assert f"release_refs.py --print {field}" in script or field == "version"
        assert f"{field}=" in script
    assert 'if [ "$TAG" != "v$version" ]' in script
    build = next(s for s in workflow["jobs"]["image"]["steps"] if s.get("id") == "build")["with"]
    assert build["platforms"] == "linux/amd64,linux/arm64"
    assert (build["push"], build["sbom"], build["provenance"]) == (True, True, "mode=max")
    assert build["build-args"] == "VERSION=${{ needs.check.outputs.version }}"
    image_steps = " ".join(str(s.get("run", "")) for s in workflow["jobs"]["image"]["steps"])
    assert 'cosign sign --yes "$IMAGE@$DIGEST"' in image_steps
    assert workflow["jobs"]["image"]["permissions"]["id-token"] == "write"
    pypi = workflow["jobs"]["pypi"]
    assert pypi["permissions"] == {"id-token": "write"} and pypi["environment"] == "pypi"
    assert any(s.get("uses", "").startswith("pypa/gh-action-pypi-publish@") for s in pypi["steps"])
    orb_steps = " ".join(str(s.get("run", "")) for s in workflow["jobs"]["orb"]["steps"])
    assert 'circleci orb publish orb/orb.yml "$ORB@$VERSION"' in orb_steps
    assert "sha256sum --check" in orb_steps
    assert set(workflow["jobs"]["major-tag"]["needs"]) >= {"image", "pypi", "orb"}


def conformance(corpus: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tests" / "conformance.py"), str(corpus)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "CONFORMANCE_JOBS": "1"},
    )


def test_conformance_without_a_corpus_says_so_in_one_line(tmp_path: Path) -> None:
    result = conformance(tmp_path / "absent")
    assert result.returncode == 2 and result.stdout == ""
    assert (
        result.stderr
        == f"conformance: no corpus at {tmp_path / 'absent'} (no cases.json): pass the corpus directory\n"
    )


def test_conformance_runs_on_the_corpus_make_is_given(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "values").mkdir(parents=True)
    (corpus / "values" / "a.yaml").write_text('image:\n  repository: x\n  tag: "1.0"\n')
    case = {"file": "a.yaml", "doc": 0, "path": ["image", "tag"], "old": "1.0", "style": '"', "line": 3}
    (corpus / "cases.json").write_text(json.dumps([{**case, "raw": '"1.0"'}]))
    result = conformance(corpus)
    assert result.returncode == 0, result.stdout + result.stderr
    # make passes CORPUS through, and guards the missing corpus with one line (exit 2).
    dry = subprocess.run(
        ["make", "-n", "conformance", f"CORPUS={corpus}"], cwd=ROOT, capture_output=True, text=True
    )
    assert f'tests/conformance.py "{corpus}"' in dry.stdout
