"""Pick the registry client for an image: an OCI layout, Artifact Registry's API, or the OCI API."""

from __future__ import annotations

from updater.domain.imageref import ImageRef
from updater.infra.errors import InputError
from updater.registry.base import Registry, RegistryOptions
from updater.registry.gar import GarRegistry
from updater.registry.layout import LayoutRegistry
from updater.registry.oci import OciRegistry

APIS = ("auto", "oci", "artifact-registry")


def open_registry(ref: ImageRef, options: RegistryOptions) -> Registry:
    """Return a client for the image's repository; Google Cloud loads only when opened."""
    if options.api not in APIS:
        raise InputError(f"unknown registry api {options.api!r}: use one of {', '.join(APIS)}")
    if ref.layout is not None:
        return LayoutRegistry(ref, options)
    if options.api == "artifact-registry":
        return GarRegistry(ref, options)
    # Artifact Registry speaks the OCI distribution API too, so "auto" needs no special case.
    return OciRegistry(ref, options)
