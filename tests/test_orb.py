"""The CircleCI orb: packed file up to date, its shape, and its bump command run as CircleCI runs it.

CircleCI expands `<< parameters.NAME >>` in the packed orb's command, then runs each `run` step with
`/bin/bash -eo pipefail` and the step's `environment`; CIRCLE_SHA1, CIRCLE_BUILD_URL and BASH_ENV come
from the job. The run here does the same against Debian's real docker-registry and a real git remote.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from test_action_e2e import SHA, Pushed, docker_config_json, make_gitops, pushed  # noqa: F401 (fixture)

from testing.gitrepo import git

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "orb" / "src"
PACKED = ROOT / "orb" / "orb.yml"
BUILD_URL = "https://circleci.com/gh/acme/monorepo/977"
PARAMETER = re.compile(r"<<\s*parameters\.([A-Za-z0-9_-]+)\s*>>")


def load(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def pack(src: Path, out: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "pack_orb.py"), str(src), str(out), *flags],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_packed_orb_is_up_to_date() -> None:
    result = pack(SRC, PACKED, "--check")
    assert result.returncode == 0, result.stderr


def test_check_notices_a_stale_orb(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(SRC, src)
    out = tmp_path / "orb.yml"
    assert pack(src, out).returncode == 0
    assert out.read_text() == PACKED.read_text()
    script = src / "scripts" / "updater.sh"
    script.write_text(script.read_text() + "echo changed\n")
    stale = pack(src, out, "--check")
    assert stale.returncode == 1 and "out of date" in stale.stderr


def test_pack_refuses_an_include_outside_the_source(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(SRC, src)
    (src / "commands" / "evil.yml").write_text(
        "steps:\n  - run:\n      command: <<include(../../etc/passwd)>>\n"
    )
    result = pack(src, tmp_path / "orb.yml")
    assert result.returncode == 2 and "is not a file under" in result.stderr


def test_orb_shape() -> None:
    orb = load(PACKED.read_text())
    assert set(orb["commands"]) == {"bump", "promote"}
    assert set(orb["jobs"]) == {"bump", "promote"} and set(orb["executors"]) == {"default"}
    for name, job in orb["jobs"].items():
        assert job["executor"] == {"name": "default", "tag": "<< parameters.image-tag >>"}
        command = orb["commands"][name]
        # Every parameter of the command is the job's too, passed through unchanged.
        assert set(job["parameters"]) == {*command["parameters"], "image-tag", "ssh-fingerprints"}
        checkout, ssh, call = job["steps"]
        assert checkout == "checkout"
        assert ssh["when"]["condition"] == "<< parameters.ssh-fingerprints >>"
        assert ssh["when"]["steps"] == [
            {"add_ssh_keys": {"fingerprints": ["<< parameters.ssh-fingerprints >>"]}}
        ]
        assert call == {name: {p: f"<< parameters.{p} >>" for p in command["parameters"]}}
    wanted = {
        "bump": {"sha", "branch", "run", "tag", "strategy", "template", "include", "exclude", "range"}
        | {"wait"},
        "promote": {"from", "to"},
    }
    for name, own in wanted.items():
        common = {"apps", "mode", "wait-merged", "dry-run", "debug", "config", "working-directory"}
        assert own | common <= set(orb["commands"][name]["parameters"]), name
        (step,) = orb["commands"][name]["steps"]
        assert step["run"]["working_directory"] == "<< parameters.working-directory >>"
    assert orb["examples"] and all("usage" in example for example in orb["examples"].values())
    for name, command in orb["commands"].items():
        params = command["parameters"]
        for secret in ("github-token", "google-credentials", "docker-config"):
            assert params[secret]["type"] == "env_var_name", (name, secret)
        (step,) = command["steps"]
        assert step["run"]["command"] == (SRC / "scripts" / "updater.sh").read_text()
        used = set(PARAMETER.findall(json.dumps(step)))
        assert used == set(params), name
    image = orb["executors"]["default"]["docker"][0]["image"]
    assert image == "<< parameters.image >>:<< parameters.tag >>"


def expand(node: Any, values: dict[str, Any]) -> Any:
    """Substitute `<< parameters.X >>` the way CircleCI does (booleans become true/false)."""
    if isinstance(node, dict):
        return {key: expand(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [expand(value, values) for value in node]
    if isinstance(node, str):

        def value(match: re.Match[str]) -> str:
            got = values[match.group(1)]
            return ("true" if got else "false") if isinstance(got, bool) else str(got)

        return PARAMETER.sub(value, node)
    return node


def run_command(
    name: str, params: dict[str, Any], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run the packed orb's command `name` like CircleCI: defaults, substitution, bash -eo pipefail."""
    command = load(PACKED.read_text())["commands"][name]
    values = {key: spec.get("default") for key, spec in command["parameters"].items()}
    values.update(params)
    missing = [key for key, value in values.items() if value is None]
    assert not missing, f"required parameters not given: {missing}"
    outputs = []
    for step in expand(command["steps"], values):
        run = step["run"]
        step_env = {**env, **{key: str(value) for key, value in run.get("environment", {}).items()}}
        proc = subprocess.run(
            ["/bin/bash", "-eo", "pipefail", "-c", run["command"]],
            env=step_env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )
        outputs.append(proc)
        if proc.returncode != 0:
            break
    return outputs[-1]


def circleci_env(tmp: Path) -> dict[str, str]:
    bash_env = tmp / "bash_env"
    bash_env.touch()
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CIRCLE", "UPDATER_", "INPUT_"))
    }
    return {
        **base,
        "PATH": f"{Path(sys.executable).parent}:{base.get('PATH', '/usr/bin:/bin')}",
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp),
        "CIRCLECI": "true",
        "CIRCLE_SHA1": SHA,
        "CIRCLE_BUILD_URL": BUILD_URL,
        "CIRCLE_PROJECT_USERNAME": "acme",
        "CIRCLE_PROJECT_REPONAME": "monorepo",
        "BASH_ENV": str(bash_env),
    }


def exported(bash_env: Path, *names: str) -> list[str]:
    """Source BASH_ENV in a fresh bash (as the next step would) and return the variables' values."""
    script = f"source {bash_env}\n" + "".join(f'printf "%s\\0" "${name}"\n' for name in names)
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    return out.split("\0")[:-1]


def test_bump_command_runs_like_circleci(tmp_path: Path, pushed: Pushed) -> None:  # noqa: F811
    remote = make_gitops(tmp_path, pushed.registry)
    before = remote.head()
    env = circleci_env(tmp_path)
    # Secrets are env_var_name parameters: the project's variables, looked up by name in the step.
    env["REGISTRY_LOGIN"] = docker_config_json(pushed.registry)
    params = {"env": "staging", "apps": "api,worker", "docker-config": "REGISTRY_LOGIN"}
    proc = run_command("bump", params, env, remote.work)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    head = remote.head()
    assert git("rev-list", f"{before}..{head}", cwd=remote.bare).split() == [head]
    message = git("log", "-1", "--format=%B", head, cwd=remote.bare)
    assert SHA in message and BUILD_URL in message  # CIRCLE_SHA1 and CIRCLE_BUILD_URL picked up
    assert f"--sha {SHA}" in proc.stdout.splitlines()[0]

    changed, tags, commit, pr_url = exported(
        Path(env["BASH_ENV"]), "UPDATER_CHANGED", "UPDATER_TAGS", "UPDATER_COMMIT_SHA", "UPDATER_PR_URL"
    )
    assert (changed, commit, pr_url) == ("true", head, "")
    assert json.loads(tags) == {"api": "stage-api-1a2b3c4", "worker": "stage-worker-1a2b3c4"}
    assert "api     staging  stage-api-0000000     stage-api-1a2b3c4     true" in proc.stdout
    _, password = pushed.registry.credentials or ("", "")
    assert password not in proc.stdout + proc.stderr


def test_bump_command_failure_fails_the_step(tmp_path: Path, pushed: Pushed) -> None:  # noqa: F811
    remote = make_gitops(tmp_path, pushed.registry)
    head = remote.head()
    env = circleci_env(tmp_path)
    env["REGISTRY_LOGIN"] = docker_config_json(pushed.registry)
    params = {"env": "staging", "apps": "api", "sha": "e" * 40, "docker-config": "REGISTRY_LOGIN"}
    proc = run_command("bump", params, env, remote.work)
    assert proc.returncode == 2, proc.stderr  # the tag CI should have pushed is missing: an input error
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("updater: error: ") and "eeeeeee" in last
    assert remote.head() == head
    assert Path(env["BASH_ENV"]).read_text() == ""


def test_bump_command_without_env_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_command("bump", {"env": ""}, circleci_env(tmp_path), tmp_path)
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == "updater: error: the bump command needs the env parameter (the environment to bump)"
    )


def test_promote_command_opens_a_pull_request_with_the_named_token(
    tmp_path: Path,
    pushed: Pushed,  # noqa: F811
) -> None:
    """The orb's promote against the loopback GitHub (testing/github_server.py, GitHub's published API).

    The token is an env_var_name parameter: only the variable's name is in the config, and the
    loopback server refuses any other token, so the promote succeeds only if the name was resolved.
    """
    from test_action_github import PROD, STAGE, config, gitops_on_github

    text = config(pushed.registry.host)
    staged = STAGE.replace(b"0000000", b"1a2b3c4")
    with gitops_on_github(tmp_path, text, staged, checkout="project") as (server, token, checkout):
        env = circleci_env(tmp_path)
        env.update({"GH_BOT_TOKEN": token, "REGISTRY_LOGIN": docker_config_json(pushed.registry)})
        params = {"to": "production", "github-token": "GH_BOT_TOKEN", "github-url": server.url,
                  "docker-config": "REGISTRY_LOGIN"}  # fmt: skip
        proc = run_command("promote", params, env, checkout)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        (pr,) = server.state.pulls.values()
        assert server.read(pr.head, "k8s/api/values-prod.yaml") == PROD.replace(b"0000000", b"1a2b3c4")
    number, url, changed = exported(
        Path(env["BASH_ENV"]), "UPDATER_PR_NUMBER", "UPDATER_PR_URL", "UPDATER_CHANGED"
    )
    assert (number, changed) == (str(pr.number), "true")
    assert url.endswith(f"/acme/gitops/pull/{pr.number}")
    assert proc.stdout.splitlines()[0] == f"updater promote --to production --github-url {server.url} --json"
    assert token not in proc.stdout + proc.stderr


def test_promote_mode_and_wait_merged_parameters_land_by_auto_merge(
    tmp_path: Path,
    pushed: Pushed,  # noqa: F811
) -> None:
    """The orb's promote with mode auto-merge and wait-merged, against the loopback GitHub
    (testing/github_server.py): the PR is merged before the step ends."""
    from test_action_github import PROD, STAGE, config, gitops_on_github

    text = config(pushed.registry.host).replace("mode: pull-request", "mode: commit")
    assert "mode: commit" in text
    staged = STAGE.replace(b"0000000", b"1a2b3c4")
    with gitops_on_github(tmp_path, text, staged, checkout="project") as (server, token, checkout):
        env = circleci_env(tmp_path)
        env.update({"GH_BOT_TOKEN": token, "REGISTRY_LOGIN": docker_config_json(pushed.registry)})
        params = {"to": "production", "github-token": "GH_BOT_TOKEN", "github-url": server.url,
                  "docker-config": "REGISTRY_LOGIN", "mode": "auto-merge", "wait-merged": "30s"}  # fmt: skip
        proc = run_command("promote", params, env, checkout)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "--mode auto-merge --wait-merged 30s" in proc.stdout.splitlines()[0]
        (pr,) = server.state.pulls.values()
        assert pr.state == "MERGED"  # the config says commit: the parameter made it a merged PR
        assert server.read("main", "k8s/api/values-prod.yaml") == PROD.replace(b"0000000", b"1a2b3c4")


def test_bump_command_uses_the_interpreter_of_the_updater_on_path(
    tmp_path: Path,
    pushed: Pushed,  # noqa: F811
) -> None:
    # An image or machine where `updater` lives in its own virtualenv (pipx, /opt/updater) and the
    # python3 on PATH is another interpreter without the package: the export step must still work.
    remote = make_gitops(tmp_path, pushed.registry)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "updater").symlink_to(Path(sys.executable).parent / "updater")
    env = circleci_env(tmp_path)
    env.pop("PYTHONPATH")
    env["PATH"] = f"{bin_dir}:/usr/bin:/bin"
    other = subprocess.run(
        ["python3", "-c", "import updater"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert "No module named 'updater'" in other.stderr
    env["REGISTRY_LOGIN"] = docker_config_json(pushed.registry)
    params = {"env": "staging", "apps": "api", "docker-config": "REGISTRY_LOGIN"}
    proc = run_command("bump", params, env, remote.work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (changed, tag) = exported(Path(env["BASH_ENV"]), "UPDATER_CHANGED", "UPDATER_TAG")
    assert (changed, tag) == ("true", "stage-api-1a2b3c4")


def test_bump_command_without_updater_on_path_says_so(tmp_path: Path) -> None:
    env = {**circleci_env(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = run_command("bump", {"env": "staging"}, env, tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "updater: error: no updater on PATH; run this command in the orb's executor, "
        "or install updater (pipx install gitops-updater) in an earlier step"
    )


def test_bump_command_works_with_a_sh_launcher(tmp_path: Path, pushed: Pushed) -> None:  # noqa: F811
    """pip writes a `#!/bin/sh` launcher when the venv path is long or has spaces; the reporting step
    used to read the interpreter from that line and ran `/bin/sh -m updater.ci` after the change landed."""
    remote = make_gitops(tmp_path, pushed.registry)
    bin_dir = tmp_path / "venv with spaces" / "bin"
    bin_dir.mkdir(parents=True)
    launcher = bin_dir / "updater"
    launcher.write_text(
        "#!/bin/sh\n"
        f'\'\'\'exec\' "{sys.executable}" "$0" "$@"\n'
        "' '''\n"
        "import sys\n"
        "from updater.cli import main\n"
        "sys.exit(main())\n"
    )
    launcher.chmod(0o755)
    env = circleci_env(tmp_path)
    env["PATH"] = f"{bin_dir}:/usr/bin:/bin"
    env["REGISTRY_LOGIN"] = docker_config_json(pushed.registry)
    params = {"env": "staging", "apps": "api", "docker-config": "REGISTRY_LOGIN"}
    proc = run_command("bump", params, env, remote.work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (changed, tag) = exported(Path(env["BASH_ENV"]), "UPDATER_CHANGED", "UPDATER_TAG")
    assert (changed, tag) == ("true", "stage-api-1a2b3c4")
