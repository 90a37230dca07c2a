"""GITHUB_TOKEN reaches git as an http.extraheader for the GitHub server only, never in output.

A loopback HTTP server stands in for the server's smart-HTTP endpoint and records the Authorization
header git really sends; it answers 404, so the run ends as "repository not found" (exit 1).
"""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from testing.cli import run
from updater.scm.git import github_auth_env

TOKEN = "ghs_loopbackSecretToken0123456789abcdef"
BASIC = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Authorization"))
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Recorder.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_header_only_for_https_remotes_on_the_github_server() -> None:
    env = {"GITHUB_TOKEN": TOKEN}
    header = github_auth_env("https://github.com/acme/gitops.git", env)
    assert header == {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.https://github.com/.extraheader",
        "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {BASIC}",
    }
    ghes = {"GITHUB_TOKEN": TOKEN, "GITHUB_SERVER_URL": "https://git.corp.test", "GIT_CONFIG_COUNT": "2"}
    assert github_auth_env("https://git.corp.test/acme/gitops", ghes) == {
        "GIT_CONFIG_COUNT": "3",
        "GIT_CONFIG_KEY_2": "http.https://git.corp.test/.extraheader",
        "GIT_CONFIG_VALUE_2": f"AUTHORIZATION: basic {BASIC}",
    }
    for other in (
        "https://gitlab.com/acme/gitops.git",  # another host
        "git@github.com:acme/gitops.git",  # ssh keeps its own keys
        "https://user:pw@github.com/acme/gitops.git",  # credentials already given
        "/srv/git/gitops.git",
    ):
        assert github_auth_env(other, env) == {}
    assert github_auth_env("https://github.com/acme/gitops.git", {}) == {}
    assert github_auth_env("https://github.com/acme/gitops.git", ghes) == {}


def _config(tmp: Path, url: str) -> Path:
    path = tmp / ".updater.yaml"
    path.write_text(
        f"version: 1\nscm: {{provider: git, url: '{url}'}}\nenvironments:\n  staging: {{branch: main}}\n"
        "apps:\n  a: {image: r/a, values: a.yaml, key: image.tag}\n"
    )
    return path


@pytest.mark.parametrize("by_flag", [False, True], ids=["GITHUB_TOKEN", "--token"])
def test_git_sends_the_token_to_the_server_and_never_prints_it(
    tmp_path: Path, server: str, by_flag: bool
) -> None:
    config = _config(tmp_path, f"{server}/acme/gitops.git")
    env = {"GITHUB_TOKEN": "" if by_flag else TOKEN, "GITHUB_SERVER_URL": server}
    flag = ["--token", TOKEN] if by_flag else []
    result = run("--debug", "status", "--config", str(config), *flag, env=env)
    assert result.returncode == 1, result.stderr
    assert _Recorder.seen and set(_Recorder.seen) == {f"basic {BASIC}"}
    output = result.stdout + result.stderr
    assert "git " in output  # --debug logged the git commands
    assert TOKEN not in output and BASIC not in output


def test_other_servers_get_no_token(tmp_path: Path, server: str) -> None:
    config = _config(tmp_path, f"{server}/acme/gitops.git")
    result = run("status", "--config", str(config), env={"GITHUB_TOKEN": TOKEN, "GITHUB_SERVER_URL": ""})
    assert result.returncode == 1, result.stderr
    assert _Recorder.seen and set(_Recorder.seen) == {None}
