"""The GitHub Action's entrypoint: action inputs in, `updater ... --json` run, outputs and summary out.

The runner passes each input as `INPUT_<NAME>` with the name upper-cased and spaces (not hyphens)
replaced, so `github-url` arrives as `INPUT_GITHUB-URL`. Secrets travel to the CLI in its environment,
never in argv, and are announced with `::add-mask::` before anything else is printed.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from updater import ci
from updater.infra import redact, safeio
from updater.infra.errors import InputError

COMMANDS = ("bump", "promote", "rollback", "status", "deployed")
# Every input action.yml declares; tests check the two lists agree.
INPUTS = (
    "command", "env", "from", "to", "apps", "all", "sha", "tag",
    "strategy", "template", "include", "exclude", "range", "wait",
    "rollback-to", "steps", "mode", "wait-merged", "config", "token", "github-url",
    "google-credentials", "docker-config", "dry-run", "allow-downgrade", "debug", "retry-budget",
    "wait-deployed", "sync", "rollback-on-failure", "live", "argocd-token",
)  # fmt: skip
# Secrets the CLI reads from its environment, which a workflow may set from anything (a secret, a
# previous step's output): the runner masks only what it knows, so these are announced too.
ENV_SECRETS = (
    "GITHUB_TOKEN",
    "UPDATER_REGISTRY_PASSWORD",
    "UPDATER_GITHUB_APP_PRIVATE_KEY",
    "ARGOCD_AUTH_TOKEN",
)
# The Argo CD token input reaches the CLI as this variable (deploy.token-env's default), never argv.
ARGOCD_TOKEN_ENV = "ARGOCD_AUTH_TOKEN"
_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off", "")


class ActionInputError(Exception):
    """An input the action cannot use; the message names the input and what to do."""


@dataclass(frozen=True)
class Invocation:
    """The CLI run an action step stands for: argv after `updater`, extra environment, secrets."""

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()


def read_inputs(environ: Mapping[str, str]) -> dict[str, str]:
    """Return the action inputs (trimmed) keyed by their action.yml names."""
    return {name: environ.get(f"INPUT_{name.replace(' ', '_').upper()}", "").strip() for name in INPUTS}


def _flag(inputs: Mapping[str, str], name: str) -> bool:
    value = inputs.get(name, "").lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ActionInputError(f"input '{name}': expected true or false, got {inputs[name]!r}")


def _apps(value: str) -> list[str]:
    """Return the app names in an input: words split on spaces, commas or newlines, or a JSON list
    (what a job's `outputs` usually hold, e.g. `${{ needs.changes.outputs.apps }}`)."""
    if value.startswith("["):
        try:
            names = json.loads(value)
        except ValueError:
            names = None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ActionInputError(f"input 'apps': {value!r} is not a JSON list of names")
        return [n.strip() for n in names if n.strip()]
    return [w for w in re.split(r"[\s,]+", value) if w]


def _option(argv: list[str], flag: str, value: str) -> None:
    if value:
        argv += [flag, value]


def cli_arguments(inputs: Mapping[str, str], sha: str | None) -> list[str]:
    """Return the `updater` argv for the inputs (without secrets); pure, so the mapping is testable."""
    command = inputs.get("command") or "bump"
    if command not in COMMANDS:
        raise ActionInputError(f"input 'command': {command!r} is not one of {', '.join(COMMANDS)}")
    argv: list[str] = []
    if _flag(inputs, "debug"):
        argv.append("--debug")
    _option(argv, "--retry-budget", inputs.get("retry-budget", ""))
    argv.append(command)
    apps = _apps(inputs.get("apps", ""))
    every_input = _flag(inputs, "all")
    if every_input and apps and apps not in (["*"], ["all"]):
        raise ActionInputError(
            f"inputs 'all' and 'apps' disagree: 'all' is true but 'apps' names {' '.join(apps)}; "
            "set 'all' to false to update only those apps, or leave 'apps' empty"
        )
    everything = every_input or apps in (["*"], ["all"])
    if everything:
        apps = []
    if command == "promote":
        # --from defaults to the target's promote-from in the config; --app defaults to every app.
        target = inputs.get("to", "") or inputs.get("env", "")
        if not target:
            raise ActionInputError("command 'promote' needs the input 'to' (the environment to write)")
        _option(argv, "--from", inputs.get("from", ""))
        argv += ["--to", target]
        _option(argv, "--wait", inputs.get("wait", ""))  # for the target's build of the source commit
    elif inputs.get("env"):
        argv += ["--env", inputs["env"]]
    elif command != "status":
        raise ActionInputError(f"command '{command}' needs the input 'env' (the environment to update)")
    if command == "deployed" and everything:
        apps = []
    if command == "status" and (apps or everything):
        raise ActionInputError("command 'status' shows every app: leave the input 'apps' empty")
    if command == "rollback":
        if len(apps) != 1:
            raise ActionInputError("command 'rollback' needs exactly one app in the input 'apps'")
        if inputs.get("rollback-to") and inputs.get("steps"):
            raise ActionInputError("inputs 'rollback-to' and 'steps' exclude each other: give one")
        _option(argv, "--to", inputs.get("rollback-to", ""))
        _option(argv, "--steps", inputs.get("steps", ""))
    for app in apps:
        argv += ["--app", app]
    if command == "bump":
        if everything:
            argv.append("--all")
        _option(argv, "--sha", inputs.get("sha", "") or (sha or ""))
        _option(argv, "--tag", inputs.get("tag", ""))
        _option(argv, "--strategy", inputs.get("strategy", ""))
        _option(argv, "--template", inputs.get("template", ""))
        _option(argv, "--include", inputs.get("include", ""))
        for pattern in inputs.get("exclude", "").splitlines():
            _option(argv, "--exclude", pattern.strip())
        _option(argv, "--range", inputs.get("range", ""))
        _option(argv, "--wait", inputs.get("wait", ""))
        if _flag(inputs, "allow-downgrade"):
            argv.append("--allow-downgrade")
    _deploy_arguments(argv, command, inputs)
    if command in ("status", "deployed"):
        for name in ("mode", "wait-merged"):
            if inputs.get(name):
                raise ActionInputError(f"command '{command}' writes nothing: leave the input '{name}' empty")
    else:
        _option(argv, "--mode", inputs.get("mode", ""))
        _option(argv, "--wait-merged", inputs.get("wait-merged", ""))
        if _flag(inputs, "dry-run"):
            argv.append("--dry-run")
    _option(argv, "--github-url", inputs.get("github-url", ""))
    _option(argv, "--config", inputs.get("config", ""))
    argv.append("--json")
    return argv


def _deploy_arguments(argv: list[str], command: str, inputs: Mapping[str, str]) -> None:
    """Add the Argo CD flags: --wait-deployed, --sync, --rollback-on-failure; `deployed --wait`; `--live`."""
    wait, sync, rollback = (
        inputs.get("wait-deployed", ""),
        _flag(inputs, "sync"),
        _flag(inputs, "rollback-on-failure"),
    )
    if command == "deployed":
        if rollback:
            raise ActionInputError(
                "command 'deployed' writes nothing to roll back: leave 'rollback-on-failure' empty"
            )
        _option(argv, "--wait", wait)
    elif command == "status":
        if wait or sync or rollback:
            raise ActionInputError("command 'status' waits for nothing: use 'live' to show what Argo CD runs")
    else:
        if (sync or rollback) and not wait:
            raise ActionInputError(
                "inputs 'sync' and 'rollback-on-failure' need 'wait-deployed' (a duration)"
            )
        _option(argv, "--wait-deployed", wait)
        if rollback:
            argv.append("--rollback-on-failure")
    if sync and command != "status":
        argv.append("--sync")
    if _flag(inputs, "live"):
        if command != "status":
            raise ActionInputError("input 'live' is for command 'status'")
        argv.append("--live")


def _find_credentials(path: str, environ: Mapping[str, str]) -> Path:
    """Return the Google credentials file, mapping a runner host path into the container.

    google-github-actions/auth exports the path as the runner sees it; inside a container action the
    same file is under /github/workspace or /github/home, so look there by name when it is missing.
    """
    candidate = Path(path)
    if candidate.is_file():
        return candidate
    for root in (environ.get("GITHUB_WORKSPACE"), environ.get("HOME"), "/github/home", "/github/workspace"):
        if root and (Path(root) / candidate.name).is_file():
            return Path(root) / candidate.name
    raise ActionInputError(
        f"input 'google-credentials': {path} does not exist; run google-github-actions/auth "
        "(create_credentials_file: true) before this step, or give the path inside the workspace"
    )


def _google_secrets(data: Mapping[str, Any]) -> list[str]:
    """Return the secrets in a Google credentials file: keys, refresh tokens, and for workload identity
    federation the bearer token google-github-actions/auth puts in credential_source's headers."""
    found = [
        str(data[k])
        for k in ("private_key", "private_key_id", "refresh_token", "client_secret")
        if data.get(k)
    ]
    source = data.get("credential_source")
    headers = source.get("headers") if isinstance(source, Mapping) else None
    for value in headers.values() if isinstance(headers, Mapping) else ():
        if isinstance(value, str) and value:
            scheme, _, credential = value.partition(" ")
            found += [value, credential] if scheme.lower() == "bearer" and credential else [value]
    return found


def _docker_config_secrets(config: Mapping[str, Any]) -> list[str]:
    """Return every credential a docker config.json holds (auth strings, passwords, identity tokens)."""
    found: list[str] = []
    auths = config.get("auths")
    for entry in auths.values() if isinstance(auths, Mapping) else ():
        if not isinstance(entry, Mapping):
            continue
        for key in ("auth", "password", "identitytoken", "registrytoken"):
            value = entry.get(key)
            if isinstance(value, str) and value:
                found.append(value)
        auth = entry.get("auth")
        if isinstance(auth, str):
            try:
                user_pass = base64.b64decode(auth, validate=True).decode("utf-8")
            except ValueError:
                continue
            found.append(user_pass.partition(":")[2])
    return found


def credentials(
    inputs: Mapping[str, str], environ: Mapping[str, str], tmp: Path
) -> tuple[dict[str, str], list[str]]:
    """Return the CLI's credential environment and the secrets to mask (inline docker config -> tmp)."""
    env: dict[str, str] = {}
    found: list[str] = []
    token = inputs.get("token", "")
    if token:
        env["GITHUB_TOKEN"] = token
        found.append(token)
    google = inputs.get("google-credentials") or environ.get("GOOGLE_APPLICATION_CREDENTIALS", "")
    if google:
        path = _find_credentials(google, environ)
        env["GOOGLE_APPLICATION_CREDENTIALS"] = str(path)
        try:
            data = json.loads(safeio.read_regular(path).decode("utf-8"))
        except InputError as exc:
            raise ActionInputError(f"input 'google-credentials': {exc.message}") from None
        except ValueError as exc:
            raise ActionInputError(
                f"input 'google-credentials': {path} is not a JSON credentials file: {exc}"
            ) from None
        if isinstance(data, Mapping):
            found += _google_secrets(data)
    docker = inputs.get("docker-config", "")
    if docker:
        if docker.lstrip().startswith("{"):
            try:
                config = json.loads(docker)
            except ValueError as exc:
                raise ActionInputError(f"input 'docker-config': not valid JSON ({exc.args[0]})") from None
            directory = tmp / "docker"
            directory.mkdir(mode=0o700)
            (directory / "config.json").write_text(docker, encoding="utf-8")
            (directory / "config.json").chmod(0o600)
        else:
            directory = Path(docker)
            try:
                config = json.loads(safeio.read_regular(directory / "config.json").decode("utf-8"))
            except (InputError, ValueError) as exc:
                raise ActionInputError(
                    f"input 'docker-config': {directory}/config.json cannot be read ({exc}); "
                    "give a directory holding config.json, or the JSON itself"
                ) from None
        env["DOCKER_CONFIG"] = str(directory)
        if isinstance(config, Mapping):
            found += _docker_config_secrets(config)
    return env, found


def trust_workspace(environ: Mapping[str, str]) -> dict[str, str]:
    """Return the environment that makes git accept GITHUB_WORKSPACE as a safe directory.

    The checkout belongs to the runner's uid and the container may run as another, which git refuses
    ("dubious ownership"). GIT_CONFIG_COUNT is command-scope config, which git honours for
    safe.directory, and it reaches only this step's processes, not the user's global config.
    """
    workspace = environ.get("GITHUB_WORKSPACE", "")
    if not workspace:
        return {}
    try:
        count = max(int(environ.get("GIT_CONFIG_COUNT", "0") or "0"), 0)
    except ValueError:
        count = 0
    return {
        "GIT_CONFIG_COUNT": str(count + 1),
        f"GIT_CONFIG_KEY_{count}": "safe.directory",
        f"GIT_CONFIG_VALUE_{count}": workspace,
    }


def invocation(environ: Mapping[str, str], tmp: Path) -> Invocation:
    """Return the CLI run the action inputs in `environ` ask for."""
    inputs = read_inputs(environ)
    context = ci.context(environ)
    argv = cli_arguments(inputs, context.sha)
    env, found = credentials(inputs, environ, tmp)
    if inputs.get("argocd-token"):
        env = {**env, ARGOCD_TOKEN_ENV: inputs["argocd-token"]}
        found = [*found, inputs["argocd-token"]]
    return Invocation(tuple(argv), {**trust_workspace(environ), **env}, tuple(found))


def _error(message: str) -> None:
    print(f"::error title=updater::{ci.escape_data(redact.mask(message))}", flush=True)


def _echo_inert(text: str) -> None:
    """Copy the CLI's log into ours with workflow commands off, so no `::command` in it is obeyed.

    One stream (stdout) keeps the stop and resume markers in order around the text.
    """
    marker = secrets.token_hex(16)
    print(f"::stop-commands::{marker}")
    print(text, end="" if text.endswith("\n") else "\n")
    print(f"::{marker}::", flush=True)


def url_secrets(url: str) -> list[str]:
    """Return the password (as written and decoded) of a URL with `user:password@`, else []."""
    try:
        password = urllib.parse.urlsplit(url.strip()).password
    except ValueError:
        return []
    return [password, urllib.parse.unquote(password)] if password else []


def environment_secrets(inputs: Mapping[str, str], environ: Mapping[str, str]) -> list[str]:
    """Return the secrets known before anything runs: the token inputs, credentials in `github-url`
    and ENV_SECRETS' values."""
    found = [
        inputs.get("token", ""),
        inputs.get("argocd-token", ""),
        *url_secrets(inputs.get("github-url", "")),
        *(environ.get(name, "") for name in ENV_SECRETS),
    ]
    return list(dict.fromkeys(value for value in found if value.strip()))


def command_line(argv: tuple[str, ...] | list[str]) -> str:
    """Return the CLI run as one shell-quoted line, control characters escaped, secrets masked."""
    return redact.mask(redact.printable(" ".join(["updater", *(shlex.quote(a) for a in argv)])))


def _register(secret: str) -> None:
    """Register a secret with redact, and each line of a multiline one (a PEM key) on its own."""
    redact.register(secret)
    for line in secret.splitlines():
        if not line.startswith("-----"):  # a PEM's BEGIN/END lines are public
            redact.register(line.strip())


def run(environ: Mapping[str, str]) -> int:
    """Run one action step and return its exit code (the CLI's own, or 2 for bad inputs)."""
    early = environment_secrets(read_inputs(environ), environ)
    for secret in early:
        _register(secret)
    for line in ci.mask_commands(early):
        print(line, flush=True)
    with tempfile.TemporaryDirectory(prefix="updater-action-") as tmp:
        try:
            call = invocation(environ, Path(tmp))
        except ActionInputError as exc:
            _error(str(exc))
            print(f"updater: error: {redact.mask(str(exc))}", file=sys.stderr)
            return 2
        for secret in call.secrets:
            _register(secret)
        for line in ci.mask_commands(s for s in call.secrets if s not in early):
            print(line, flush=True)
        child_env = {**environ, **call.env}
        # Inputs are untrusted (a newline then `::set-output`...): the line is escaped AND inert.
        _echo_inert(command_line(call.argv))
        proc = subprocess.run(
            [sys.executable, "-m", "updater", *call.argv],
            env=child_env,
            cwd=environ.get("GITHUB_WORKSPACE") or None,
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.stderr:
        _echo_inert(redact.mask(proc.stderr))
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"updater exited with {proc.returncode}"])[-1]
        _error(last)
    try:
        result = json.loads(proc.stdout) if proc.stdout.strip() else None
    except ValueError:
        _echo_inert(redact.mask(proc.stdout))
        _error("updater --json printed something that is not JSON")
        return proc.returncode or 1
    if isinstance(result, dict):
        report(result, environ)
    return proc.returncode


def report(result: Mapping[str, Any], environ: Mapping[str, str]) -> None:
    """Write the step outputs and the step summary for a result."""
    output_file, summary_file = environ.get("GITHUB_OUTPUT"), environ.get("GITHUB_STEP_SUMMARY")
    values = ci.outputs(result)
    if output_file:
        ci.write_outputs(output_file, values)
    markdown = ci.summary(result, ci.github_run_url(environ))
    if summary_file:
        ci.append_summary(summary_file, markdown)
    _echo_inert(redact.mask(markdown))


def main() -> int:
    """Entry point: `python -m updater.action` inside the action's container."""
    return run(os.environ)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
