"""The tag-choice policy: which immutable tag of an image to deploy (see `policy`).

`types` holds the shared values, `strategies` the per-kind pickers, `policy` the entry points; this
module is their one public surface.
"""

from updater.domain.tags import MOVING_TAGS, TemplateVars, render_template
from updater.resolve.policy import commit_sha, describe, downgrade_reason, is_downgrade, resolve
from updater.resolve.types import KINDS, Candidate, NoMatchingTag, Resolution, Strategy

__all__ = [
    "KINDS",
    "MOVING_TAGS",
    "Candidate",
    "NoMatchingTag",
    "Resolution",
    "Strategy",
    "TemplateVars",
    "commit_sha",
    "describe",
    "downgrade_reason",
    "is_downgrade",
    "render_template",
    "resolve",
]
