"""Shared test helpers: real registries, real git repositories, loopback servers, CLI runners."""
