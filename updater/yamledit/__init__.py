"""Format-exact YAML editing: set one scalar's bytes, keep every other byte, verify by re-reading."""

from __future__ import annotations

from updater.yamledit._edit import get_values, set_value
from updater.yamledit._nearby import not_a_tag, refusal, shown, tag_holders
from updater.yamledit._scalar import validate_value
from updater.yamledit.model import Change, Found, Locator, YamlEditError

__all__ = [
    "Change",
    "Found",
    "Locator",
    "YamlEditError",
    "get_values",
    "not_a_tag",
    "refusal",
    "set_value",
    "shown",
    "tag_holders",
    "validate_value",
]
