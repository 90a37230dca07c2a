"""The GitHub flags of bump/promote/rollback (--token, --github-url, --app-id/--app-key/--installation-id,
--wait-merged) through the CLI as a subprocess, against the loopback GitHub (testing/github_server.py:
GitHub's published REST/GraphQL API over a real bare git repository; it verifies the App's RS256 JWT)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from testing.github_gitops import NEW, NEWER, SHA, TOKEN, GitOps, gitops, values
from testing.github_server import new_app_key

DEAD = "http://127.0.0.1:9"  # nothing listens on the discard port


def bump(
    ops: GitOps, *args: str, env: dict[str, str] | None = None, token: bool = False, debug: bool = False
) -> tuple[int, str, str]:
    """Run `updater [--debug] bump --env production --all --sha SHA ARGS` (GitHub variables unset
    unless `token`)."""
    pre = ("--debug",) if debug else ()
    done = ops.run(*pre, "bump", "--env", "production", "--all", "--sha", SHA, *args, env=env, token=token)
    return done.returncode, done.stdout, done.stderr


def test_token_and_github_url_flags_beat_the_variables_and_never_print(tmp_path: Path) -> None:
    with gitops(tmp_path, 2, mode="commit") as ops:
        wrong = {"GITHUB_TOKEN": "ghp_" + "Wr0ng" * 8, "GITHUB_API_URL": DEAD}
        code, out, err = bump(ops, "--token", TOKEN, "--github-url", ops.server.url, env=wrong, debug=True)
        assert code == 0, err
        assert ops.server.read("main", "k8s/app01/values-prod.yaml") == values("app01", NEW)
        assert "github.Requester" in err and TOKEN not in out + err


def test_github_url_falls_back_to_the_variable_then_the_config(tmp_path: Path) -> None:
    with gitops(tmp_path, 1, mode="commit") as ops:
        text = ops.config.read_text().replace(
            "repository: acme/gitops}", f"repository: acme/gitops, github-url: '{DEAD}'}}"
        )
        ops.config.write_text(text)
        code, _, err = bump(ops, env={"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": ops.server.url})
        assert code == 0, err  # GITHUB_API_URL wins over scm.github-url
        ops.config.write_text(text.replace(DEAD, ops.server.url))
        code, _, err = bump(ops, "--tag", NEWER, env={"GITHUB_TOKEN": TOKEN})
        assert code == 0, err  # no flag, no variable: scm.github-url
        assert ops.server.read("main", "k8s/app00/values-prod.yaml") == values("app00", NEWER)


def test_github_app_flags_with_a_key_file(tmp_path: Path) -> None:
    private, public = new_app_key()
    (tmp_path / "app.pem").write_text(private)
    with gitops(tmp_path, 1, mode="commit") as ops:
        ops.server.app_id, ops.server.app_public_key = "31337", public
        before = set(ops.server.tokens)
        args = ["--app-id", "31337", "--app-key", str(tmp_path / "app.pem"), "--installation-id"]
        code, out, err = bump(
            ops, *args, str(ops.server.installation_id), "--github-url", ops.server.url, debug=True
        )
        assert code == 0, err
        [installation_token] = ops.server.tokens - before
        assert installation_token not in out + err and "PRIVATE KEY" not in out + err
        assert not any(what.endswith("/installation") for _, _, what in ops.server.log)  # id given: no lookup
        # The same App from the variables, the key itself in UPDATER_GITHUB_APP_PRIVATE_KEY.
        app_env = {
            "UPDATER_GITHUB_APP_ID": "31337",
            "UPDATER_GITHUB_APP_PRIVATE_KEY": private,
            "GITHUB_API_URL": ops.server.url,
        }
        code, out, err = bump(ops, "--tag", NEWER, env=app_env, debug=True)
        assert code == 0, err
        assert "PRIVATE KEY" not in out + err and not [t for t in ops.server.tokens if t in out + err]
        assert ops.server.read("main", "k8s/app00/values-prod.yaml") == values("app00", NEWER)


def test_github_app_without_a_readable_key_is_a_usage_error(tmp_path: Path) -> None:
    with gitops(tmp_path, 1, mode="commit") as ops:
        code, _, err = bump(ops, "--app-id", "1", "--app-key", str(tmp_path / "missing.pem"))
        assert code == 2 and "missing.pem: cannot read the private key" in err
        code, _, err = bump(ops, "--app-id", "1", "--github-url", ops.server.url)
        assert code == 2 and err.strip().splitlines() == [
            "updater: error: a GitHub App needs its private key: "
            "--app-key FILE, or UPDATER_GITHUB_APP_PRIVATE_KEY"
        ]


def finish_checks(ops: GitOps, state: str) -> threading.Thread:
    """Report the PR's checks as `state` once it exists, as CI would (GitHub then auto-merges on success)."""

    def work() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pulls = list(ops.server.state.pulls.values())
            if pulls and pulls[0].auto_merge:
                ops.server.state.set_status(ops.server.state.head_oid(pulls[0]), state)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("checks", ["SUCCESS", "FAILURE"])
def test_wait_merged_blocks_until_merged_or_exits_1(tmp_path: Path, checks: str) -> None:
    with gitops(tmp_path, 2, mode="pull-request") as ops:
        ops.server.state.require_checks = True
        thread = finish_checks(ops, checks)
        code, _, err = bump(ops, "--mode", "auto-merge", "--wait-merged", "30s", token=True)
        thread.join(5)
        [pr] = ops.server.state.pulls.values()
        if checks == "SUCCESS":
            assert code == 0, err
            assert pr.state == "MERGED" and ops.server.read("main", "k8s/app00/values-prod.yaml") == values(
                "app00", NEW
            )
        else:
            assert code == 1 and pr.state == "OPEN"
            [line] = err.strip().splitlines()
            assert line.startswith("updater: error: checks failed on pull request #1")


def test_wait_merged_needs_auto_merge_mode(tmp_path: Path) -> None:
    with gitops(tmp_path, 1, mode="pull-request") as ops:
        code, _, err = bump(ops, "--wait-merged", "1m", token=True)
        assert code == 2 and "--wait-merged waits for an auto-merged pull request" in err
        assert ops.server.state.pulls == {} and list(ops.server.repo.refs()) == ["refs/heads/main"]
        code, _, err = bump(ops, "--mode", "auto-merge", "--wait-merged", "soon", token=True)
        assert code == 2 and "'soon' is not a duration" in err
