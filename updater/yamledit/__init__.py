"""Format-exact YAML editing: set one scalar's bytes, keep every other byte, verify by re-reading."""

from __future__ import annotations

from updater.yamledit._edit import get_values, set_value
from updater.yamledit._scalar import validate_value
from updater.yamledit.model import Change, Found, Locator, YamlEditError

__all__ = ["Change", "Found", "Locator", "YamlEditError", "get_values", "set_value", "validate_value"]
