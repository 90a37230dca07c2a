"""gcr.io hosts on the Artifact Registry API (issue 11, point 4): the real client against the loopback server.

Google serves `gcr.io`, `us.gcr.io`, `eu.gcr.io` and `asia.gcr.io` from Artifact Registry repositories
named after the host in the matching multi-region (see testing/gar_server.py for the page).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.cli import run
from testing.gar_server import GarServer, start_gar_server
from testing.gitrepo import make_remote
from testing.oci_layout import utc
from updater.registry.gar import ENDPOINT_ENV

PROJECT = "airqo-250220"


@pytest.fixture
def gar() -> Iterator[GarServer]:
    with start_gar_server() as server:
        yield server


@pytest.mark.parametrize(
    ("host", "location"),
    [("gcr.io", "us"), ("us.gcr.io", "us"), ("eu.gcr.io", "europe"), ("asia.gcr.io", "asia")],
)
def test_resolve_a_gcr_io_image_through_the_api(gar: GarServer, host: str, location: str) -> None:
    image = f"{host}/{PROJECT}/airqo-stage-analytics-api"
    old = gar.add_image(image, ["stage-1a2b3c4d-1700000000"], utc(2026, 1, 1))
    new = gar.add_image(image, ["stage-9f8e7d6c-1700003600"], utc(2026, 1, 2))
    gar.add_image(f"{host}/{PROJECT}/airqo-analytics-api", ["stage-ffffffff-1800000000"], utc(2026, 2, 1))
    result = run(
        "resolve",
        image,
        "--api",
        "artifact-registry",
        "--template",
        "stage-*",
        "--json",
        env={ENDPOINT_ENV: gar.endpoint},
    )
    assert (result.returncode, result.stderr) == (0, "")
    out = json.loads(result.stdout)
    assert (out["tag"], out["digest"], out["requests"]) == ("stage-9f8e7d6c-1700003600", new, 1)
    assert old != new
    assert gar.paths == [f"/v1/projects/{PROJECT}/locations/{location}/repositories/{host}/dockerImages"]


def test_status_of_eu_gcr_io_costs_one_page(gar: GarServer, tmp_path: Path) -> None:
    image = f"eu.gcr.io/{PROJECT}/airqo-stage-analytics-api"
    for day, tag in enumerate(["stage-1a2b3c4d-1700000000", "stage-9f8e7d6c-1700003600"], start=1):
        gar.add_image(image, [tag], utc(2026, 1, day))
    config = (
        "version: 1\nscm: {provider: git}\nregistry: {api: artifact-registry}\n"
        'environments:\n  staging: {branch: main, tag: "stage-{sha:8}-*"}\n'
        f"apps:\n  analytics:\n    image: {image}\n"
        "    values: {staging: values-stage.yaml}\n    key: images.tag\n"
    )
    remote = make_remote(
        tmp_path,
        {".updater.yaml": config, "values-stage.yaml": "images:\n  tag: stage-1a2b3c4d-1700000000\n"},
    )
    result = run("status", "--json", cwd=remote.work, env={ENDPOINT_ENV: gar.endpoint})
    assert (result.returncode, result.stderr) == (0, "")
    [row] = json.loads(result.stdout)["rows"]
    assert (row["state"], row["newest"]) == ("behind", "stage-9f8e7d6c-1700003600")
    assert gar.counts == {"list_images": 1}
