"""Artifact Registry chosen by the config (`registry: {api: artifact-registry}`), not a flag: `updater
status` and `updater bump --dry-run` as subprocesses read tags through the loopback v1 REST server."""

from __future__ import annotations

import json
from pathlib import Path

from testing.cli import run
from testing.gar_server import start_gar_server
from testing.gitrepo import SHA, TAGS, two_env_gitops
from testing.oci_layout import utc
from updater.registry.gar import ENDPOINT_ENV

IMAGE = "europe-docker.pkg.dev/acme/images/api"


def test_config_selects_the_artifact_registry_api(tmp_path: Path) -> None:
    ops = two_env_gitops(tmp_path)
    config = (ops.remote.work / ".updater.yaml").read_text()
    config = config.replace(f"oci:{ops.registry / 'api'}", IMAGE) + "registry: {api: artifact-registry}\n"
    ops.remote.commit({".updater.yaml": config}, "api is built into Artifact Registry")
    with start_gar_server() as gar:
        digests = [gar.add_image(IMAGE, [tag], utc(2026, 1, 1 + i)) for i, tag in enumerate(TAGS)]
        env = {ENDPOINT_ENV: gar.endpoint}
        status = run("--retry-budget", "5", "status", "--json", cwd=ops.remote.work, env=env)
        assert status.returncode == 0, status.stderr
        rows = {(r["app"], r["env"]): r for r in json.loads(status.stdout)["rows"]}
        assert (rows[("api", "staging")]["newest"], rows[("api", "staging")]["behind"]) == (TAGS[2], True)
        assert gar.counts.get("list_images", 0) >= 1
        assert all(path.endswith("/repositories/images/dockerImages") for path in gar.paths)
        listed = gar.counts["list_images"]

        bump = run("bump", "--env", "staging", "--app", "api", "--sha", SHA, "--dry-run", "--json",
                   cwd=ops.remote.work, env=env)  # fmt: skip
        assert bump.returncode == 0, bump.stderr
        [app] = json.loads(bump.stdout)["apps"]
        assert (app["old"], app["new"], app["digest"]) == (TAGS[0], TAGS[2], digests[2])
        assert gar.counts["list_images"] > listed  # the bump asked the API too
    assert ops.values("api", "staging").endswith(f"tag: {TAGS[0]}\n".encode())  # a dry run changes nothing
