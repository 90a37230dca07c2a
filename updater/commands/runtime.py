"""Run-time setup every subcommand shares: --debug logging and the --retry-budget.

The dispatcher (`updater.cli`) loads this module by name with the subcommand it runs, so that
`updater --help` loads neither logging nor the retry machinery.
"""

from __future__ import annotations

import logging
import sys
import traceback

from updater.infra import budget
from updater.infra.logmask import MaskingFilter


def configure(debug: bool, retry_budget: float | None) -> None:
    """Apply the global options: the run's retry budget, and masked DEBUG logging to stderr."""
    if retry_budget is not None:
        budget.set_policy(budget.policy().with_budget(retry_budget))
    if debug:
        handler = logging.StreamHandler(sys.stderr)
        handler.addFilter(MaskingFilter())
        handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)


def debug_traceback() -> str | None:
    """Return the traceback of the exception being handled when --debug logging is on, else None."""
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        return traceback.format_exc()
    return None
