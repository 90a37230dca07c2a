"""The `updater` command line: a thin dispatcher.

Each subcommand lives in `updater/commands/<name>.py` and is imported by name only when it runs,
with `updater/commands/runtime.py` (logging, retry budget), so `updater --help` stays fast and never
loads the cloud or GitHub libraries. These by-name imports are the only dynamic imports of our own
modules; everything else imports at the top.
"""

from __future__ import annotations

import importlib
import sys

import click

from updater import __version__
from updater.infra import redact
from updater.infra.errors import EXIT_REMOTE, EXIT_USAGE, UpdaterError

# Loaded by name with every subcommand: --debug logging and the retry budget (see the module).
RUNTIME = "updater.commands.runtime"
# name -> (module under updater.commands, one-line help shown by `updater --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "set": ("set_value", "Set one value in a YAML file or a Helm template, changing only its bytes."),
    "resolve": ("resolve", "Resolve the immutable tag of an image from its registry."),
    "bump": ("bump", "Write each app's new tag into an environment's values files."),
    "promote": ("promote", "Copy the tags of one environment to another."),
    "rollback": ("rollback", "Write an earlier tag of an app back from git history."),
    "status": ("status", "Show the tag of every app in every environment."),
    "history": ("history", "Show the tags an app had over time in one environment."),
    "deployed": ("deployed", "Wait until Argo CD has deployed what git holds, Healthy."),
    "config": ("config", "Validate .updater.yaml or print its JSON Schema."),
}
# Plumbing the orb runs, not shown by `updater --help`.
HIDDEN: dict[str, str] = {"ci": "ci_report"}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        name = COMMANDS[cmd_name][0] if cmd_name in COMMANDS else HIDDEN.get(cmd_name)
        if name is None:
            return None
        module = importlib.import_module(f"updater.commands.{name}")
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="updater")
@click.option("--debug", is_flag=True, envvar="UPDATER_DEBUG", help="Log every request (secrets masked).")
@click.option(
    "--retry-budget",
    type=click.FloatRange(min=0),
    envvar="UPDATER_RETRY_BUDGET",
    help="Seconds to keep retrying a failing remote call (default 60).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, retry_budget: float | None) -> None:
    """Write new immutable image tags into GitOps values files: format-exact, verified, one commit."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    importlib.import_module(RUNTIME).configure(debug, retry_budget)


def _say(line: str) -> None:
    """Print one line on stderr: secrets masked, control characters escaped.

    Messages quote config keys, values files and registry answers: escaped, a newline in them cannot
    start a line of its own (`::error::` in a GitHub Actions log) nor an escape sequence move the cursor.
    """
    click.echo(redact.printable(redact.mask(line)), err=True)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; user errors become one line on stderr."""
    try:
        cli.main(args=argv, prog_name="updater", standalone_mode=False)
    except UpdaterError as exc:
        _say(f"updater: error: {exc.message}")
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        _say(f"updater: error: {exc.format_message()}")
        return EXIT_USAGE
    except click.exceptions.Abort:
        click.echo("updater: aborted", err=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        click.echo("updater: interrupted", err=True)
        return 130
    except Exception as exc:  # the last line of defence: never a raw traceback
        runtime = sys.modules.get(RUNTIME)  # loaded by every run that got past the command line
        trace = runtime.debug_traceback() if runtime is not None else None
        if trace:
            click.echo(redact.mask(trace), err=True)
        _say(f"updater: internal error: {type(exc).__name__}: {exc}")
        return EXIT_REMOTE
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
