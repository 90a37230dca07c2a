"""The OCI tag grammar alone: a leaf module, so image references and tag rules both build on it."""

from __future__ import annotations

import re

# The OCI tag grammar (distribution spec, "Pulling manifests"): ASCII only, at most 128 characters.
TAG_GRAMMAR = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
