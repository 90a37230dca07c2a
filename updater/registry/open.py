"""Pick the registry client for an image: an OCI layout, Artifact Registry's API, or the OCI API."""

from __future__ import annotations

from updater.errors import InputError
from updater.imageref import ImageRef
from updater.registry.base import Registry, RegistryOptions

APIS = ("auto", "oci", "artifact-registry")


def open_registry(ref: ImageRef, options: RegistryOptions) -> Registry:
    """Return a client for the image's repository; each backend imports its libraries only here."""
    if options.api not in APIS:
        raise InputError(f"unknown registry api {options.api!r}: use one of {', '.join(APIS)}")
    if ref.layout is not None:
        from updater.registry.layout import LayoutRegistry

        return LayoutRegistry(ref, options)
    if options.api == "artifact-registry":
        from updater.registry.gar import GarRegistry

        return GarRegistry(ref, options)
    # Artifact Registry speaks the OCI distribution API too, so "auto" needs no special case.
    from updater.registry.oci import OciRegistry

    return OciRegistry(ref, options)
