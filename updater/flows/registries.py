"""`Registries`: each image's registry opened once per run, with the options the config asks for.

Shared by the use cases that read registries (bump, promote, rollback, status); the faces may pass
their own (e.g. with command-line registry options).
"""

from __future__ import annotations

from collections.abc import Sequence

from updater.config.model import Config
from updater.domain.imageref import parse
from updater.infra.errors import InputError
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


def every_image(
    registries: Registries, images: Sequence[str], tag: str, digest: str | None
) -> tuple[tuple[tuple[str, str | None], ...], list[str]]:
    """Return (image, digest) for each image sharing one value, and the `IMAGE:TAG`s that lack the tag.

    The first image is the one the tag was resolved in (`digest` is its digest, looked up when None);
    every other one is asked once (a manifest HEAD), so a chart never points at a tag one image lacks.
    """
    found: list[tuple[str, str | None]] = []
    missing: list[str] = []
    for index, image in enumerate(images):
        registry = registries.get(image)
        if index == 0 and digest is not None:
            found.append((image, digest))
            continue
        known = registry.digest(tag)
        if known is None:
            missing.append(f"{registry.name}:{tag}")
        found.append((image, known))
    return tuple(found), missing


def missing_error(command: str, env: str, missing: Sequence[tuple[str, str]]) -> InputError:
    """Return the one error naming every (IMAGE:TAG, app) of a run that lacks its tag."""
    listed = ", ".join(f"{reference} ({app})" for reference, app in missing)
    count = f"{len(missing)} image{'s' * (len(missing) != 1)} lack{'s' * (len(missing) == 1)}"
    them = "them" if len(missing) != 1 else "it"
    return InputError(
        f"{command} {env}: {count} the tag: {listed}: push {them} first, or leave these apps out with --app"
    )
