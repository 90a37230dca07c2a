"""The monorepo user of issue 11: AirQo's layout, built from the real values files in the shared corpus.

The values files are read in place from `../shared/corpus/values/airqo-platform__AirQo-api__k8s__*`
when the corpus is present (never copied into the project), else from the small fixture below, which
keeps their shape: `images.tag` next to `images.repositories.api` (analytics) and one `images.tag`
serving three images (workflows: `…-workflows`, `…-workflows-xcom`, `…-redis`).

The registry holds both tag families the way that user's CI pushes them: `stage-<sha8>-<epoch>` in
the `airqo-stage-*` repositories, `prod-<sha8>-<epoch>` in the production ones, an epoch being the
build's unix time (so the same commit has different epochs in each family).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from testing.gitrepo import Remote, make_remote
from testing.registry import push_image

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "values"
PREFIX = "airqo-platform__AirQo-api__k8s__"
PROJECT = "airqo-250220"

# The tags the real files hold today (and the fixture copies).
STAGE_ANALYTICS = "stage-9be8f03c-1776072918"
PROD_ANALYTICS = "prod-9a4385dc-1771443288"
STAGE_WORKFLOWS = "stage-5f5d0fdc-1775584998"

# Two source commits of the monorepo after those: C1 is built everywhere, C2 only partly.
C1 = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
C2 = "2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e"
DECOY = "5e6f7a8b9c0d1e2f30415263748596a7b8c9d0e1"  # a later production build of another commit
STAGE_C1 = "stage-1a2b3c4d-1780000000"
WORKFLOWS_C1 = "stage-1a2b3c4d-1780000100"
PROD_C1 = "prod-1a2b3c4d-1780000600"
PROD_DECOY = "prod-5e6f7a8b-1780001200"
STAGE_C2 = "stage-2b3c4d5e-1780003600"
WORKFLOWS_C2 = "stage-2b3c4d5e-1780003700"

FIXTURE = {
    "analytics/values-stage.yaml": f"""namespace: staging
images:
  repositories:
    api: eu.gcr.io/{PROJECT}/airqo-stage-analytics-api
    # celeryBeat: eu.gcr.io/{PROJECT}/airqo-stage-analytics-celery-beat
  tag: {STAGE_ANALYTICS}
api:
  name: airqo-stage-analytics-api
  replicaCount: 2
""",
    "analytics/values-prod.yaml": f"""namespace: production
images:
  repositories:
    api: eu.gcr.io/{PROJECT}/airqo-analytics-api
    # celeryBeat: eu.gcr.io/{PROJECT}/airqo-analytics-celery-beat
  tag: {PROD_ANALYTICS}
api:
  name: airqo-analytics-api
  replicaCount: 3
""",
    "workflows/values-stage.yaml": f"""app:
  name: workflows
  namespace: pipeline
images:
  repositories:
    initContainer: eu.gcr.io/{PROJECT}/airqo-stage-workflows-xcom
    redisContainer: eu.gcr.io/{PROJECT}/airqo-stage-redis
    containers: eu.gcr.io/{PROJECT}/airqo-stage-workflows
  tag: {STAGE_WORKFLOWS}
nameOverride: ''
""",
}


def values_file(name: str) -> bytes:
    """Return the bytes of `k8s/<name>` of the user's repository: the real file when the corpus is here."""
    real = CORPUS / (PREFIX + name.replace("/", "__"))
    return real.read_bytes() if real.is_file() else FIXTURE[name].encode()


def uses_corpus() -> bool:
    """True when the real files are read (the tests then also hold for the fixture's shape)."""
    return all((CORPUS / (PREFIX + name.replace("/", "__"))).is_file() for name in FIXTURE)


def image(host: str, name: str) -> str:
    return f"{host}/{PROJECT}/{name}"


WORKFLOWS_IMAGES = ("airqo-stage-workflows", "airqo-stage-workflows-xcom", "airqo-stage-redis")


def config(host: str) -> str:
    """Return the user's `.updater.yaml`: staging commits, production by pull request, both tag families."""
    workflows = ", ".join(image(host, name) for name in WORKFLOWS_IMAGES)
    return f"""version: 1
scm: {{provider: git}}
environments:
  staging: {{branch: main, mode: commit, tag: "stage-{{sha:8}}-*"}}
  production: {{branch: main, mode: pull-request, promote-from: staging, tag: "prod-{{sha:8}}-*"}}
apps:
  analytics:
    image:
      staging: {image(host, "airqo-stage-analytics-api")}
      production: {image(host, "airqo-analytics-api")}
    values: {{staging: k8s/analytics/values-stage.yaml, production: k8s/analytics/values-prod.yaml}}
    key: images.tag
  workflows:                      # one images.tag for three images
    image: {{staging: [{workflows}]}}
    values: {{staging: k8s/workflows/values-stage.yaml}}
    key: images.tag
"""


@dataclass(frozen=True)
class Builds:
    """The digest of every pushed (repository, tag)."""

    digests: dict[tuple[str, str], str]

    def of(self, repository: str, tag: str) -> str:
        return self.digests[(repository, tag)]


def _created(tag: str) -> datetime:
    return datetime.fromtimestamp(int(tag.rsplit("-", 1)[1]), tz=timezone.utc)


def push_builds(host: str) -> Builds:
    """Push what the user's CI has built: today's tags, C1 everywhere, a later decoy, C2 partly.

    C2 is in the workflows image only (not in `-xcom` nor `-redis`): a bump to C2 must name both.
    """
    plan = [
        ("airqo-stage-analytics-api", (STAGE_ANALYTICS, STAGE_C1, STAGE_C2)),
        ("airqo-analytics-api", (PROD_ANALYTICS, PROD_C1, PROD_DECOY)),
        ("airqo-stage-workflows", (STAGE_WORKFLOWS, WORKFLOWS_C1, WORKFLOWS_C2)),
        ("airqo-stage-workflows-xcom", (STAGE_WORKFLOWS, WORKFLOWS_C1)),
        ("airqo-stage-redis", (STAGE_WORKFLOWS, WORKFLOWS_C1)),
    ]
    digests = {}
    for name, tags in plan:
        repository = f"{PROJECT}/{name}"
        for tag in tags:
            digests[(name, tag)] = push_image(host, repository, [tag], created=_created(tag), workers=1)
    return Builds(digests)


def gitops(tmp: Path, host: str) -> Remote:
    """Return the user's monorepo (config at the root, values under k8s/) behind a bare remote."""
    files: dict[str, bytes | str] = {".updater.yaml": config(host)}
    for name in FIXTURE:
        files[f"k8s/{name}"] = values_file(name)
    return make_remote(tmp, files)
