"""Masking for logs: every record passes through `redact.mask` before any handler prints it.

Apart from `redact` so that code which only masks text (the CLI's error lines) does not load logging.
"""

from __future__ import annotations

import logging

from updater.infra.redact import mask


class MaskingFilter(logging.Filter):
    """A logging filter that masks secrets in the fully formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.getMessage())
        record.args = None
        return True
