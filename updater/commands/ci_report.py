"""`updater ci circleci RESULT_JSON`: the orb's reporting step, through the installed entry point.

The orb used to run `python -m updater.ci`, guessing the interpreter from the launcher's `#!` line;
pip writes a `#!/bin/sh` launcher when the venv path is long or has spaces, and the guess then ran
`/bin/sh -m updater.ci` after the change had landed. Calling `updater` itself needs no guess.
"""

from __future__ import annotations

import os

import click

from updater.ci import circleci_export


@click.command("ci")
@click.argument("platform", type=click.Choice(["circleci"]))
@click.argument("result", type=click.Path(dir_okay=False))
def command(platform: str, result: str) -> None:
    """Export an `updater ... --json` result to later CI steps (CircleCI: BASH_ENV) and print its table."""
    code = circleci_export(result, os.environ)  # prints its own one-line error
    if code:
        raise click.exceptions.Exit(code)
