"""The GitHub Action's entrypoint and the CI reporting helpers: inputs -> argv, outputs, summary, masking."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from updater import action, ci

RESULT = {
    "command": "bump",
    "env": "staging",
    "changed": True,
    "commit": "0123456789abcdef0123456789abcdef01234567",
    "pr_number": 7,
    "pr_url": "https://github.example/o/r/pull/7",
    "apps": [
        {"app": "api", "env": "staging", "image": "r/api", "old": "stage-api-aaaaaaa",
         "new": "stage-api-bbbbbbb", "digest": "sha256:" + "1" * 64, "files": ["k8s/api/values-stage.yaml"],
         "changed": True},
        {"app": "web|ui", "env": "staging", "image": "r/web", "old": "v1", "new": "v1",
         "digest": None, "files": ["k8s/web/values-stage.yaml"], "changed": False},
    ],
}  # fmt: skip


def parse_github_output(text: str) -> dict[str, str]:
    """Read a GITHUB_OUTPUT file the way the runner does: `name=value` or `name<<DELIM` ... `DELIM`."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            i += 1
            values[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def inputs_env(**inputs: str) -> dict[str, str]:
    """The environment the runner builds for `with:` inputs (hyphens kept, names upper-cased)."""
    return {f"INPUT_{name.upper()}": value for name, value in inputs.items()}


def test_input_names_keep_hyphens() -> None:
    got = action.read_inputs({"INPUT_GITHUB-URL": " https://ghe.example/api/v3 ", "INPUT_DRY-RUN": "true"})
    assert got["github-url"] == "https://ghe.example/api/v3"
    assert got["dry-run"] == "true"
    assert got["token"] == ""


def test_bump_arguments_for_several_apps() -> None:
    inputs = action.read_inputs(
        inputs_env(
            env="staging", apps="api, worker\njobs", wait="5m", mode="pull-request", **{"dry-run": "true"}
        )
    )
    argv = action.cli_arguments(inputs, sha="f" * 40)
    assert argv == [
        "bump", "--env", "staging", "--app", "api", "--app", "worker", "--app", "jobs",
        "--sha", "f" * 40, "--wait", "5m", "--mode", "pull-request", "--dry-run", "--json",
    ]  # fmt: skip


def test_apps_as_a_json_list() -> None:
    inputs = action.read_inputs(inputs_env(env="staging", apps='["api", "worker"]'))
    assert action.cli_arguments(inputs, None) == [
        "bump",
        "--env",
        "staging",
        "--app",
        "api",
        "--app",
        "worker",
        "--json",
    ]
    with pytest.raises(action.ActionInputError, match=r"input 'apps': .* is not a JSON list of names"):
        action.cli_arguments(action.read_inputs(inputs_env(env="s", apps='["api", 3]')), None)


def test_all_apps_and_strategy_flags() -> None:
    inputs = action.read_inputs(
        inputs_env(
            env="prod", apps="all", strategy="semver", range="^1.4", exclude="-rc\n-beta\n", sha="abc1234"
        )
    )
    argv = action.cli_arguments(inputs, sha="ignored")
    assert argv == [
        "bump", "--env", "prod", "--all", "--sha", "abc1234", "--strategy", "semver",
        "--exclude", "-rc", "--exclude", "-beta", "--range", "^1.4", "--json",
    ]  # fmt: skip


def test_promote_rollback_status_arguments() -> None:
    promote = action.read_inputs(
        inputs_env(command="promote", apps="all", **{"from": "staging", "to": "prod"})
    )
    assert action.cli_arguments(promote, None) == ["promote", "--from", "staging", "--to", "prod", "--json"]
    # --from defaults to the config's promote-from; `env` stands in for `to`.
    promote = action.read_inputs(inputs_env(command="promote", env="prod", apps="api"))
    assert action.cli_arguments(promote, None) == ["promote", "--to", "prod", "--app", "api", "--json"]
    # `wait` waits for the target's build of the source commit.
    promote = action.read_inputs(inputs_env(command="promote", to="prod", wait="5m"))
    assert action.cli_arguments(promote, None) == ["promote", "--to", "prod", "--wait", "5m", "--json"]
    rollback = action.read_inputs(inputs_env(command="rollback", env="prod", apps="api", steps="2"))
    assert action.cli_arguments(rollback, None) == [
        "rollback",
        "--env",
        "prod",
        "--steps",
        "2",
        "--app",
        "api",
        "--json",
    ]
    status = action.read_inputs(inputs_env(command="status", debug="true", **{"retry-budget": "5"}))
    assert action.cli_arguments(status, None) == ["--debug", "--retry-budget", "5", "status", "--json"]


LANDING = {
    "mode": "auto-merge",
    "wait-merged": "10m",
    "github-url": "https://ghe.example/api/v3",
    "wait-deployed": "5m",
    "sync": "true",
    "rollback-on-failure": "true",
}
EVERYTHING = {
    "bump": {"env": "s", "apps": "a b", "sha": "abc", "tag": "t", "strategy": "semver", "template": "x-{sha}",
             "include": "^v", "exclude": "rc", "range": "^1", "wait": "5m", "config": "c.yaml",
             "dry-run": "true", "allow-downgrade": "true", "debug": "true", "retry-budget": "3", **LANDING},
    "promote": {"from": "s", "to": "p", "apps": "a b", "config": "c.yaml", "dry-run": "true", **LANDING},
    "rollback": {"env": "p", "apps": "a", "rollback-to": "v1", "config": "c.yaml", "dry-run": "true",
                 **LANDING},
    "status": {"env": "p", "config": "c.yaml", "github-url": "https://ghe.example/api/v3", "live": "true"},
    "deployed": {"env": "p", "apps": "a b", "wait-deployed": "5m", "sync": "true", "config": "c.yaml"},
}  # fmt: skip


@pytest.mark.parametrize("command", action.COMMANDS)
def test_every_flag_the_action_passes_exists_in_the_cli(command: str) -> None:
    argv = action.cli_arguments(
        action.read_inputs(inputs_env(command=command, **EVERYTHING[command])), "f" * 40
    )
    at = argv.index(command)
    helps = {
        "": subprocess.run(
            [sys.executable, "-m", "updater", "--help"], capture_output=True, text=True
        ).stdout,
        command: subprocess.run(
            [sys.executable, "-m", "updater", command, "--help"], capture_output=True, text=True
        ).stdout,
    }
    for position, arg in enumerate(argv):
        if arg.startswith("--"):
            text = helps[command if position > at else ""]
            assert re.search(rf"(^|[\s,]){re.escape(arg)}\b", text, re.M), f"updater {command}: no {arg}"
    for name, value in (("mode", "auto-merge"), ("wait-merged", "10m"), ("github-url", "https://ghe")):
        if name in EVERYTHING[command]:
            assert argv[argv.index(f"--{name}") + 1].startswith(value), f"input {name!r} not passed"
    rollback_steps = action.cli_arguments(
        action.read_inputs(inputs_env(command="rollback", env="p", apps="a", steps="2")), None
    )
    assert "--steps" in rollback_steps


def test_status_summary_lists_rows() -> None:
    result = {"command": "status", "rows": [
        {"app": "api", "env": "prod", "image": "r/api", "tag": "v1", "newest": "v2", "behind": True,
         "error": None},
        {"app": "web", "env": "prod", "image": "r/web", "tag": "v3", "newest": None, "behind": False,
         "error": "registry down"},
        {"app": "db", "env": "prod", "image": "r/db", "tag": "v1", "newest": "v2", "state": "behind",
         "held": {"from": "v2", "to": "v1", "by": "alice", "at": "2024-01-01T00:00:00+00:00"}, "error": None},
        {"app": "ui", "env": "prod", "image": "r/ui", "tag": "v9", "newest": "v2", "state": "ahead",
         "held": None, "error": None},
    ]}  # fmt: skip
    text = ci.summary(result)
    assert "| App | Env | Tag | Newest | State |" in text
    assert "| `api` | `prod` | `v1` | `v2` | behind |" in text
    assert "| `web` | `prod` | `v3` | — | error: registry down |" in text
    assert "| `db` | `prod` | `v1` | `v2` | held (rolled back from v2 by alice) |" in text
    assert "| `ui` | `prod` | `v9` | `v2` | ahead |" in text
    assert ci.outputs(result)["changed"] == "false"


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"command": "deploy", "env": "x"}, "input 'command': 'deploy' is not one of"),
        ({"env": ""}, "command 'bump' needs the input 'env'"),
        ({"command": "promote", "from": "staging"}, "needs the input 'to'"),
        ({"command": "status", "apps": "api"}, "leave the input 'apps' empty"),
        ({"command": "status", "mode": "commit"}, "writes nothing: leave the input 'mode' empty"),
        ({"command": "status", "wait-merged": "5m"}, "leave the input 'wait-merged' empty"),
        ({"command": "rollback", "env": "p", "apps": "a b"}, "exactly one app"),
        ({"env": "s", "dry-run": "maybe"}, "input 'dry-run': expected true or false"),
        ({"env": "s", "all": "true", "apps": "api"}, "inputs 'all' and 'apps' disagree: 'all' is true but"),
        (
            {"command": "promote", "to": "p", "all": "yes", "apps": '["a", "b"]'},
            "'apps' names a b; set 'all'",
        ),
    ],
)
def test_bad_inputs_name_the_input(inputs: dict[str, str], message: str) -> None:
    with pytest.raises(action.ActionInputError, match=message.replace("(", r"\(")):
        action.cli_arguments(action.read_inputs(inputs_env(**inputs)), None)


def test_outputs_for_several_apps_are_json_maps() -> None:
    out = ci.outputs(RESULT)
    assert out["changed"] == "true"
    assert out["tag"] == "" and out["digest"] == ""
    assert json.loads(out["tags"]) == {"api": "stage-api-bbbbbbb", "web|ui": "v1"}
    assert json.loads(out["digests"]) == {"api": "sha256:" + "1" * 64, "web|ui": None}
    assert json.loads(out["changed-apps"]) == ["api"]
    assert out["commit-sha"] == RESULT["commit"]
    assert (out["pr-number"], out["pr-url"]) == ("7", "https://github.example/o/r/pull/7")
    assert json.loads(out["json"]) == RESULT


def test_outputs_for_one_app_are_plain() -> None:
    one = {**RESULT, "apps": RESULT["apps"][:1], "pr_number": None, "pr_url": None}
    out = ci.outputs(one)
    assert (out["tag"], out["digest"]) == ("stage-api-bbbbbbb", "sha256:" + "1" * 64)
    assert (out["pr-number"], out["pr-url"]) == ("", "")


def test_output_file_is_multiline_safe(tmp_path: Path) -> None:
    path = tmp_path / "out"
    path.write_text("earlier=step\n")
    tricky = "line one\nname=injected\nghadelimiter_x\n"
    ci.write_outputs(path, {"json": tricky, "changed": "true"})
    assert parse_github_output(path.read_text()) == {"earlier": "step", "json": tricky, "changed": "true"}


def test_output_delimiter_never_occurs_in_value() -> None:
    entry = ci.output_entry("x", "a\nDELIM\nb", delimiter="DELIM")
    first = entry.split("\n", 1)[0]
    assert first.startswith("x<<ghadelimiter_")
    assert parse_github_output(entry) == {"x": "a\nDELIM\nb"}
    with pytest.raises(ValueError, match="invalid output name"):
        ci.output_entry("bad name", "v")


def test_summary_table_escapes_and_links_the_pr() -> None:
    text = ci.summary(RESULT, "https://github.example/o/r/actions/runs/9")
    assert "| App | Env | Old | New | PR |" in text
    assert (
        "| `api` | `staging` | `stage-api-aaaaaaa` | `stage-api-bbbbbbb` "
        "| [#7](https://github.example/o/r/pull/7) |" in text
    )
    assert r"| `web\|ui` | `staging` | `v1` | `v1` (unchanged) |" in text
    assert "Commit: `0123456789abcdef0123456789abcdef01234567`" in text
    assert text.endswith("Run: https://github.example/o/r/actions/runs/9\n")


def test_summary_says_when_nothing_was_written() -> None:
    text = ci.summary({**RESULT, "dry_run": True, "commit": None, "pr_url": None, "pr_number": None})
    assert "Dry run: nothing was written." in text and "Commit:" not in text
    assert ci.summary({"command": "promote", "changed": False, "apps": []}) == (
        "### updater promote\n\nNo app matched.\n"
    )


def test_mask_commands_cover_multiline_secrets() -> None:
    key = "-----BEGIN PRIVATE KEY-----\nMIIEabc%def\n-----END PRIVATE KEY-----\n"
    lines = ci.mask_commands(["ghp_" + "x" * 36, key])
    assert lines[0] == "::add-mask::ghp_" + "x" * 36
    assert "::add-mask::-----BEGIN PRIVATE KEY-----%0AMIIEabc%25def%0A-----END PRIVATE KEY-----%0A" in lines
    assert "::add-mask::MIIEabc%25def" in lines
    # The armor lines are public: masking them would only blank out "BEGIN PRIVATE KEY" in every log.
    assert not [line for line in lines if line.startswith("::add-mask::-----") and "%0A" not in line]


def test_context_and_run_url() -> None:
    github = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SHA": "abc",
        "GITHUB_SERVER_URL": "https://ghe.x",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_RUN_ID": "42",
        "GITHUB_RUN_ATTEMPT": "2",
    }
    assert ci.context(github) == ci.CiContext(
        "github", "abc", "https://ghe.x/o/r/actions/runs/42/attempts/2", "o/r"
    )
    circle = {
        "CIRCLECI": "true",
        "CIRCLE_SHA1": "def",
        "CIRCLE_BUILD_URL": "https://circleci.com/gh/o/r/5",
        "CIRCLE_PROJECT_USERNAME": "o",
        "CIRCLE_PROJECT_REPONAME": "r",
    }
    assert ci.context(circle) == ci.CiContext("circleci", "def", "https://circleci.com/gh/o/r/5", "o/r")
    assert ci.context({}) == ci.CiContext(None, None, None, None)


def test_bash_env_lines_are_shell_safe(tmp_path: Path) -> None:
    lines = ci.bash_env_lines({"pr-url": "https://x/1", "json": '{"a": "it\'s $HOME"}'})
    script = "\n".join(lines) + '\nprintf "%s\\n%s" "$UPDATER_PR_URL" "$UPDATER_JSON"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    assert out == 'https://x/1\n{"a": "it\'s $HOME"}'


def test_docker_config_and_google_credentials_are_masked(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    key = {
        "type": "service_account",
        "private_key": "-----BEGIN PRIVATE KEY-----\nSECRETKEY\n-----END-----\n",
    }
    (workspace / "gha-creds-1234.json").write_text(json.dumps(key))
    docker = json.dumps({"auths": {"r.example": {"auth": "dXNlcjpzM2NyZXQtcGFzcw=="}}})  # user:s3cret-pass
    env = {
        **inputs_env(env="staging", token="ghs_tokentokentoken", **{"docker-config": docker}),
        # google-github-actions/auth exports the runner's host path; the file is in the workspace.
        "GOOGLE_APPLICATION_CREDENTIALS": "/home/runner/work/r/r/gha-creds-1234.json",
        "GITHUB_WORKSPACE": str(workspace),
    }
    call = action.invocation(env, tmp_path)
    assert call.env["GITHUB_TOKEN"] == "ghs_tokentokentoken"
    assert call.env["GOOGLE_APPLICATION_CREDENTIALS"] == str(workspace / "gha-creds-1234.json")
    assert json.loads((Path(call.env["DOCKER_CONFIG"]) / "config.json").read_text()) == json.loads(docker)
    assert {"ghs_tokentokentoken", key["private_key"], "dXNlcjpzM2NyZXQtcGFzcw==", "s3cret-pass"} <= set(
        call.secrets
    )
    assert not any("ghs_" in arg for arg in call.argv)


def test_docker_config_directory_is_used_in_place(tmp_path: Path) -> None:
    directory = tmp_path / "docker"
    directory.mkdir()
    (directory / "config.json").write_text(
        json.dumps({"auths": {"r.example": {"identitytoken": "idtok-123456"}}})
    )
    call = action.invocation(inputs_env(env="s", **{"docker-config": str(directory)}), tmp_path / "unused")
    assert call.env["DOCKER_CONFIG"] == str(directory)
    assert call.secrets == ("idtok-123456",)
    with pytest.raises(action.ActionInputError, match=r"input 'docker-config': .*cannot be read"):
        action.invocation(inputs_env(env="s", **{"docker-config": str(tmp_path)}), tmp_path)
    with pytest.raises(action.ActionInputError, match="input 'docker-config': not valid JSON"):
        action.invocation(inputs_env(env="s", **{"docker-config": "{oops"}), tmp_path)


def test_workload_identity_credentials_mask_the_request_token(tmp_path: Path) -> None:
    """google-github-actions/auth's external_account file carries the runner's ID-token request token."""
    creds = {
        "type": "external_account",
        "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/gh",
        "credential_source": {
            "url": "https://pipelines.actions.example/idtoken?audience=x",
            "headers": {"Authorization": "Bearer eyJ0eXAiOi.request-token.sig"},
            "format": {"type": "json", "subject_token_field_name": "value"},
        },
    }
    path = tmp_path / "gha-creds-abc.json"
    path.write_text(json.dumps(creds))
    call = action.invocation(inputs_env(env="s", **{"google-credentials": str(path)}), tmp_path)
    assert call.env["GOOGLE_APPLICATION_CREDENTIALS"] == str(path)
    assert call.secrets == ("Bearer eyJ0eXAiOi.request-token.sig", "eyJ0eXAiOi.request-token.sig")


def test_missing_google_credentials_is_an_input_error(tmp_path: Path) -> None:
    env = {
        **inputs_env(env="s", **{"google-credentials": "/nowhere/gha-creds-x.json"}),
        "GITHUB_WORKSPACE": "/nope",
    }
    with pytest.raises(action.ActionInputError, match="google-github-actions/auth"):
        action.invocation(env, tmp_path)


def run_entrypoint(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `python -m updater.action` as the container would, with a clean CI-less environment."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_", "CIRCLE"))}
    return subprocess.run(
        [sys.executable, "-m", "updater.action"],
        env={**base, "PYTHONPATH": str(Path(__file__).resolve().parent.parent), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_entrypoint_bad_input_exits_2_with_an_annotation(tmp_path: Path) -> None:
    outputs = tmp_path / "output"
    outputs.touch()
    proc = run_entrypoint({**inputs_env(command="bump"), "GITHUB_OUTPUT": str(outputs)}, tmp_path)
    assert proc.returncode == 2
    assert proc.stdout.startswith("::error title=updater::command 'bump' needs the input 'env'")
    assert (
        proc.stderr.strip()
        == "updater: error: command 'bump' needs the input 'env' (the environment to update)"
    )
    assert outputs.read_text() == ""


def test_all_with_a_list_of_apps_is_refused_not_widened(tmp_path: Path) -> None:
    # `all: true` is "every app"; with `apps: api` the user meant one of the two, so neither is guessed.
    outputs = tmp_path / "output"
    outputs.touch()
    env = {**inputs_env(env="staging", all="true", apps="api"), "GITHUB_OUTPUT": str(outputs)}
    proc = run_entrypoint(env, tmp_path)
    message = (
        "inputs 'all' and 'apps' disagree: 'all' is true but 'apps' names api; "
        "set 'all' to false to update only those apps, or leave 'apps' empty"
    )
    assert (proc.returncode, proc.stderr) == (2, f"updater: error: {message}\n")
    assert proc.stdout == f"::error title=updater::{message}\n"
    assert outputs.read_text() == ""
    # Saying "every app" twice is consistent.
    both = action.read_inputs(inputs_env(env="staging", all="true", apps="all"))
    assert action.cli_arguments(both, None) == ["bump", "--env", "staging", "--all", "--json"]


def test_entrypoint_masks_the_token_before_reporting_bad_input(tmp_path: Path) -> None:
    token = "ghs_" + "Q" * 36
    proc = run_entrypoint(inputs_env(command="promote", token=token), tmp_path)
    assert proc.returncode == 2
    assert proc.stdout.splitlines() == [
        f"::add-mask::{token}",
        "::error title=updater::command 'promote' needs the input 'to' (the environment to write)",
    ]


def test_entrypoint_passes_cli_errors_through_and_masks_the_token(tmp_path: Path) -> None:
    token = "ghp_" + "S" * 36
    env = {**inputs_env(env="staging", token=token, config="missing.yaml"), "GITHUB_WORKSPACE": str(tmp_path)}
    proc = run_entrypoint(env, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout.splitlines()[0] == f"::add-mask::{token}"
    assert "::error title=updater::" in proc.stdout
    assert token not in proc.stderr and token not in "\n".join(proc.stdout.splitlines()[1:])
    lines = proc.stdout.splitlines()
    # Two inert blocks: the command line, then the CLI's log.
    _, stop = [n for n, line in enumerate(lines) if line.startswith("::stop-commands::")]
    assert lines[stop + 1].startswith("updater: error: ") and "missing.yaml" in lines[stop + 1]
    assert lines[stop + 2] == "::" + lines[stop].removeprefix("::stop-commands::") + "::"


def test_cli_log_cannot_issue_workflow_commands(capsys: pytest.CaptureFixture[str]) -> None:
    action._echo_inert("fine\n::set-env name=X::y\n::add-mask::z")
    first, *body, last = capsys.readouterr().out.splitlines()
    marker = first.removeprefix("::stop-commands::")
    assert len(marker) == 32 and last == f"::{marker}::"
    assert body == ["fine", "::set-env name=X::y", "::add-mask::z"]


def test_workspace_trust_appends_to_the_runners_own_git_config_env() -> None:
    assert action.trust_workspace({}) == {}
    assert action.trust_workspace({"GITHUB_WORKSPACE": "/github/workspace"}) == {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "safe.directory",
        "GIT_CONFIG_VALUE_0": "/github/workspace",
    }
    # A workflow that already passes config through GIT_CONFIG_* keeps it: ours goes after.
    assert action.trust_workspace({"GITHUB_WORKSPACE": "/w", "GIT_CONFIG_COUNT": "2"}) == {
        "GIT_CONFIG_COUNT": "3",
        "GIT_CONFIG_KEY_2": "safe.directory",
        "GIT_CONFIG_VALUE_2": "/w",
    }


def test_argo_cd_inputs_map_to_flags_and_the_token_to_the_environment(tmp_path: Path) -> None:
    bump = action.read_inputs(
        inputs_env(
            env="s", apps="api", **{"wait-deployed": "5m", "sync": "true", "rollback-on-failure": "true"}
        )
    )
    argv = action.cli_arguments(bump, None)
    assert argv[argv.index("--wait-deployed") + 1] == "5m"
    assert "--sync" in argv and "--rollback-on-failure" in argv
    deployed = action.read_inputs(inputs_env(command="deployed", env="s", **{"wait-deployed": "2m"}))
    assert action.cli_arguments(deployed, None) == ["deployed", "--env", "s", "--wait", "2m", "--json"]
    live = action.read_inputs(inputs_env(command="status", live="true"))
    assert action.cli_arguments(live, None) == ["status", "--live", "--json"]
    for bad in ({"sync": "true"}, {"rollback-on-failure": "true"}):
        with pytest.raises(action.ActionInputError, match="need 'wait-deployed'"):
            action.cli_arguments(action.read_inputs(inputs_env(env="s", **bad)), None)
    with pytest.raises(action.ActionInputError, match="'live' is for command 'status'"):
        action.cli_arguments(action.read_inputs(inputs_env(env="s", live="true")), None)
    secret = "argocd-token-value-123"
    environ = {**inputs_env(env="s", **{"argocd-token": secret}), "GITHUB_WORKSPACE": str(tmp_path)}
    call = action.invocation(environ, tmp_path)
    assert call.env["ARGOCD_AUTH_TOKEN"] == secret and secret in call.secrets
    assert all(secret not in arg for arg in call.argv)


def test_summary_and_outputs_of_a_deploy_wait() -> None:
    result = {
        "command": "bump", "env": "s", "changed": True, "commit": "c" * 40,
        "apps": [{"app": "api", "env": "s", "old": "v1", "new": "v2", "changed": True}],
        "deploy": {"ok": False, "apps": [{
            "app": "api", "application": "api-s", "state": "degraded", "reason": "Degraded: deadline|x",
            "revision": "c" * 40, "sync": "Synced", "health": "Degraded", "images": ["r/api:v2"],
            "synced_after": 3.2, "healthy_after": None}],
            "rollback": {"commit": "d" * 40,
                         "apps": [{"app": "api", "old": "v2", "new": "v1", "changed": True}]}},
    }  # fmt: skip
    assert ci.outputs(result)["deployed"] == "false"
    assert ci.outputs({"command": "bump", "apps": []})["deployed"] == ""
    text = ci.summary(result)
    assert (
        "| `api` | `api-s` | `degraded` | `cccccccccccc` | `Synced` | `Degraded` | `r/api:v2` | `3.2s` | — |"
        in text
    )
    assert "`api`: Degraded: deadline|x" in text and "Rolled back: api v2 → v1" in text


def test_summary_of_the_deployed_command() -> None:
    result = {"command": "deployed", "env": "prod", "deploy": {"ok": True, "apps": [
        {"app": "api", "application": "api-prod", "state": "healthy", "revision": "a" * 40, "sync": "Synced",
         "health": "Healthy", "images": ["r/api:v2"], "synced_after": 1.5, "healthy_after": 2.5}],
        "rollback": None}}  # fmt: skip
    text = ci.summary(result)
    assert "Nothing to report" not in text and "Argo CD, environment `prod`:" in text
    row = "| `api` | `api-prod` | `healthy` | `aaaaaaaaaaaa` | `Synced` | `Healthy` | `r/api:v2` |"
    assert row + " `1.5s` | `2.5s` |" in text
    assert ci.outputs(result)["deployed"] == "true"
