"""One value, several images (issue 11 point 2): `image: [a, b, c]`, through the CLI over OCI layouts.

Every image must have the tag before anything is written; every missing image of the run is named in
one error; each image's digest is reported.
"""

from __future__ import annotations

import json
from pathlib import Path

from testing.cli import run
from testing.gitrepo import Remote, git, make_remote
from testing.oci_layout import LayoutImage, build_layout, utc

SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
OLD, NEW = "stage-0f0f0f0f-1700000000", "stage-1a2b3c4d-1700003600"
IMAGES = ("workflows", "workflows-xcom", "redis")


def _workflows(tag: str) -> str:
    return (
        "images:\n  repositories:\n    initContainer: eu.gcr.io/p/xcom\n"
        "    redisContainer: eu.gcr.io/p/redis\n"
        f"    containers: eu.gcr.io/p/workflows\n  tag: {tag}\n"
    )


def _repo(
    tmp: Path, new_in: dict[str, tuple[str, ...]], extra: str = ""
) -> tuple[Remote, dict[str, dict[str, str]]]:
    """Apps `workflows` (three images) and `jobs` (two); `new_in[app]` lists the images that have NEW."""
    digests: dict[str, dict[str, str]] = {}
    names = {"workflows": IMAGES, "jobs": ("jobs", "jobs-sidecar")}
    for app, images in names.items():
        for name in images:
            layout = [LayoutImage([OLD], utc(2023, 11, 14), content=name)]
            if name in new_in.get(app, ()):
                layout.append(LayoutImage([NEW], utc(2023, 11, 15), content=name))
            digests[name] = build_layout(tmp / "reg" / name, layout)

    def images(app: str) -> str:
        return ", ".join(f'"oci:{tmp / "reg" / name}"' for name in names[app])

    config = f"""version: 1
scm: {{provider: git}}
environments:
  staging: {{branch: main, tag: "stage-{{sha:8}}-*"}}
apps:
  workflows:
    image: [{images("workflows")}]
    values: k8s/workflows/values-stage.yaml
    key: images.tag
  jobs:
    image: [{images("jobs")}]
    values: k8s/jobs/values-stage.yaml
    key: images.tag
{extra}"""
    files = {
        ".updater.yaml": config,
        "k8s/workflows/values-stage.yaml": _workflows(OLD),
        "k8s/jobs/values-stage.yaml": _workflows(OLD),
    }
    return make_remote(tmp / "git", files), digests


def test_every_image_has_the_tag_each_digest_is_reported_and_committed(tmp_path: Path) -> None:
    remote, digests = _repo(tmp_path, {"workflows": IMAGES, "jobs": ("jobs", "jobs-sidecar")})
    done = run("bump", "--env", "staging", "--sha", SHA, "--json", cwd=remote.work)
    assert (done.returncode, done.stderr) == (0, "")
    workflows = json.loads(done.stdout)["apps"][0]
    assert workflows["new"] == NEW
    assert [(i["image"].rsplit("/", 1)[1], i["digest"]) for i in workflows["images"]] == [
        (name, digests[name][NEW]) for name in IMAGES
    ]
    assert workflows["digest"] == digests["workflows"][NEW]  # the first image is the primary
    assert remote.show("k8s/workflows/values-stage.yaml") == _workflows(NEW).encode()
    message = git("log", "-1", "--format=%B", "main", cwd=remote.bare)
    for name in IMAGES:
        assert f"  image: oci:{tmp_path / 'reg' / name}\n  digest: {digests[name][NEW]}\n" in message


def test_every_missing_image_of_the_run_is_named_at_once_and_nothing_is_written(tmp_path: Path) -> None:
    remote, _ = _repo(tmp_path, {"workflows": ("workflows", "workflows-xcom"), "jobs": ("jobs",)})
    head = remote.head()
    done = run("bump", "--env", "staging", "--sha", SHA, cwd=remote.work)
    assert done.returncode == 2
    assert done.stderr == (
        f"updater: error: bump staging: 2 images lack the tag: oci:{tmp_path / 'reg' / 'redis'}:{NEW} "
        f"(workflows), oci:{tmp_path / 'reg' / 'jobs-sidecar'}:{NEW} (jobs): push them first, "
        "or leave these apps out with --app\n"
    )
    assert remote.head() == head


def test_recording_a_digest_needs_one_image_per_value(tmp_path: Path) -> None:
    remote, _ = _repo(tmp_path, {}, extra="")
    path = remote.work / ".updater.yaml"
    text = path.read_text().replace(
        "    key: images.tag\n  jobs:", "    key: images.tag\n    digest: true\n  jobs:"
    )
    path.write_text(text)
    done = run("config", "validate", "--config-only", cwd=remote.work)
    assert done.returncode == 2
    line = text.splitlines().index("    digest: true") + 1
    assert done.stderr == (
        f"updater: error: {path}:{line}:13: apps.workflows.digest: one place cannot hold the digests of "
        "3 images; remove digest, or give the app one image\n"
    )


def test_a_target_digest_key_needs_one_image_per_value(tmp_path: Path) -> None:
    remote, _ = _repo(tmp_path, {})
    path = remote.work / ".updater.yaml"
    text = path.read_text().replace(
        "    key: images.tag\n  jobs:", "    targets: [{key: images.tag, digest-key: images.digest}]\n  jobs:"
    )
    path.write_text(text)
    done = run("config", "validate", "--config-only", cwd=remote.work)
    assert done.returncode == 2
    line = text.splitlines().index("  workflows:") + 1
    assert done.stderr == (
        f"updater: error: {path}:{line}:3: apps.workflows: a digest key cannot hold the digests of several "
        "images; remove it, or give the app one image\n"
    )
