"""Masking for logs: every record passes through `redact.mask` before any handler prints it.

Apart from `redact` so that code which only masks text (the CLI's error lines) does not load logging.
"""

from __future__ import annotations

import logging

from updater.infra.redact import mask, printable


class MaskingFilter(logging.Filter):
    """A logging filter that masks secrets in the fully formatted message and escapes its control
    characters (a logged registry answer or file name stays on its line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = printable(mask(record.getMessage()))
        record.args = None
        return True
