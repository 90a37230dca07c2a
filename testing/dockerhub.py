"""Docker Hub on loopback: the real registry with token auth under Docker Hub's names.

Docker Hub's API host is `registry-1.docker.io`; its token service is `auth.docker.io` with
`service=registry.docker.io` and `scope=repository:NAME:pull`, and it gives anonymous pull tokens
(https://docs.docker.com/docker-hub/usage/pulls/, "View pull rate and limit", shows that exchange).
Here the real registry verifies tokens from testing/token_server.py issued under that service name,
and the loopback proxy, used as HTTP_PROXY, answers for `registry-1.docker.io`, so a short name like
`haoict/send2ereader` travels the way it does for real. Plain HTTP to that host is allowed with
`--insecure-registry registry-1.docker.io` (or `registry: {insecure: [...]}` in the config).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from testing.registry import RunningRegistry, push_image, start_registry
from testing.registry_proxy import Faults, RegistryProxy, start_proxy

HUB = "registry-1.docker.io"
SERVICE = "registry.docker.io"


@dataclass
class DockerHub:
    registry: RunningRegistry
    proxy: RegistryProxy

    def env(self, docker_config: Path) -> dict[str, str]:
        """The environment a CLI run needs to reach this hub, with `docker_config` as DOCKER_CONFIG."""
        return {
            "HTTP_PROXY": self.proxy.url,
            "NO_PROXY": "127.0.0.1,localhost",  # the token server is reached directly
            "DOCKER_CONFIG": str(docker_config),
            "UPDATER_REGISTRY_USERNAME": "",
            "UPDATER_REGISTRY_PASSWORD": "",
        }


# {repository: {tag, or a tuple of tags sharing one image: build time}}
Images = Mapping[str, Mapping["str | tuple[str, ...]", datetime]]


def push_tags(registry: RunningRegistry, images: Images) -> None:
    """Push one image per entry, under its tag (or tags)."""
    for repository, entries in images.items():
        for tags, created in entries.items():
            names = [tags] if isinstance(tags, str) else list(tags)
            push_image(
                registry.url, repository, names, created=created, auth=registry.credentials, seed=names[0]
            )


@contextmanager
def docker_hub(workdir: Path, images: Images) -> Iterator[DockerHub]:
    """Start the registry (anonymous pulls allowed) and its proxy, push `images`, yield both."""
    with start_registry(workdir, auth="token", token_service=SERVICE, allow_anonymous=True) as registry:
        push_tags(registry, images)
        with start_proxy(registry.url) as proxy:
            yield DockerHub(registry, proxy)


@contextmanager
def limited(hub: DockerHub, faults: Faults) -> Iterator[DockerHub]:
    """Yield the same hub behind another proxy that injects `faults` (e.g. Docker Hub's 429s)."""
    with start_proxy(hub.registry.url, faults=faults) as proxy:
        yield DockerHub(hub.registry, proxy)
