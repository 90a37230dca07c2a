"""`Registries`: each image's registry opened once per run, with the options the config asks for.

Shared by the use cases that read registries (bump, promote, rollback, status); the faces may pass
their own (e.g. with command-line registry options).
"""

from __future__ import annotations

from updater.config.model import Config
from updater.domain.imageref import parse
from updater.registry.base import Registry, RegistryOptions
from updater.registry.open import open_registry


class Registries:
    """Opens each image's registry once per run."""

    def __init__(self, config: Config, options: RegistryOptions | None = None) -> None:
        self.options = options or registry_options(config)
        self._open: dict[str, Registry] = {}

    def get(self, image: str) -> Registry:
        if image not in self._open:
            self._open[image] = open_registry(parse(image), self.options)
        return self._open[image]


def registry_options(config: Config) -> RegistryOptions:
    """Return the registry options the config's registry section asks for."""
    settings = config.registry
    return RegistryOptions(
        insecure_hosts=tuple(settings.insecure), platform=settings.platform or "linux/amd64", api=settings.api
    )
