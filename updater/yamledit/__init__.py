"""Format-exact editing of deployment files: set one value's bytes, keep every other byte, verify.

`edit` and `find` pick the editor per file: YAML documents get the structural editor (verified by
re-reading as YAML 1.1 and 1.2); other text, such as Helm templates, is scanned (verified by scanning
again). `set_value` and `get_values` are the YAML editor alone.
"""

from __future__ import annotations

from updater.yamledit._auto import Edited, Looked, Mode, edit, find
from updater.yamledit._edit import get_values, set_value
from updater.yamledit._scalar import validate_value
from updater.yamledit.model import Change, Found, Locator, YamlEditError

__all__ = [
    "Change",
    "Edited",
    "Found",
    "Locator",
    "Looked",
    "Mode",
    "YamlEditError",
    "edit",
    "find",
    "get_values",
    "set_value",
    "validate_value",
]
