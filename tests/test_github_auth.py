"""Auth (token, GITHUB_TOKEN, GitHub App installations, Enterprise URLs) and secret masking,
against the loopback GitHub (which verifies the App's RS256 JWT with the public key)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.github_editors import bump, gitops_files, pr_spec, values
from testing.github_server import GitHubServer, new_app_key, start_github
from updater.infra import logmask
from updater.infra.errors import EXIT_REMOTE, EXIT_USAGE, InputError, RemoteError
from updater.scm.base import CommitRequest
from updater.scm.github import open_github

TOKEN = "ghp_" + "S3cret" * 7
APP = "k8s/app00/values-production.yaml"


@pytest.fixture
def gh(tmp_path: Path) -> Iterator[GitHubServer]:
    with start_github(tmp_path, gitops_files(1), token=TOKEN) as server:
        yield server
        assert server.validation_errors == []


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """The CLI's --debug logging (root logger, DEBUG, MaskingFilter), captured."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(logmask.MaskingFilter())
    handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def pr_request() -> CommitRequest:
    return CommitRequest("main", "bump", "pull-request", pull_request=pr_spec("updater/production/app00"))


def test_token_never_logged_with_debug(gh: GitHubServer, debug_log: io.StringIO) -> None:
    outcome = open_github("acme/gitops", token=TOKEN, base_url=gh.url).apply(pr_request(), bump({APP: "v2"}))
    assert outcome.pr_number == 1
    log = debug_log.getvalue()
    assert "github.Requester" in log and "/graphql" in log  # PyGithub did log every request
    assert TOKEN not in log and TOKEN[:20] not in log


def test_github_app_installation_token(gh: GitHubServer, debug_log: io.StringIO) -> None:
    private, public = new_app_key()
    gh.app_id, gh.app_public_key = "12345", public
    backend = open_github("acme/gitops", app_id="12345", private_key=private, base_url=gh.url)
    outcome = backend.apply(pr_request(), bump({APP: "v2"}))
    assert outcome.pr_number == 1 and gh.read("updater/production/app00", APP) == values("app00", "v2")
    minted = gh.tokens - {TOKEN}
    assert len(minted) == 1
    log = debug_log.getvalue()
    assert "access_tokens" in log  # the token response was logged, masked
    for secret in (*minted, private.splitlines()[1]):
        assert secret not in log


def test_github_app_with_known_installation(gh: GitHubServer) -> None:
    private, public = new_app_key()
    gh.app_id, gh.app_public_key = "777", public
    backend = open_github(
        "acme/gitops", app_id="777", private_key=private, installation_id=gh.installation_id, base_url=gh.url
    )
    assert backend.read("main", APP) == values("app00")
    assert not any(what.endswith("/installation") for _, _, what in gh.log)


def test_wrong_app_key_is_a_clear_remote_error(gh: GitHubServer) -> None:
    _, public = new_app_key()
    other, _ = new_app_key()
    gh.app_id, gh.app_public_key = "1", public
    with pytest.raises(RemoteError, match="credentials") as caught:
        open_github("acme/gitops", app_id="1", private_key=other, base_url=gh.url)
    assert caught.value.exit_code == EXIT_REMOTE


def test_environment_token_and_enterprise_url(gh: GitHubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv(
        "GITHUB_API_URL", gh.url + "/api/v3"
    )  # GHES layout: REST /api/v3, GraphQL /api/graphql
    backend = open_github("acme/gitops")
    assert backend.apply(CommitRequest("main", "bump"), bump({APP: "v3"})).changed
    assert gh.read("main", APP) == values("app00", "v3")
    assert gh.paths == ["POST /api/graphql", "POST /api/graphql"]  # read, commit


def test_graphql_is_not_served_under_the_rest_prefix(gh: GitHubServer) -> None:
    """The loopback follows GHES: /api/v3/graphql is not GraphQL, so a client posting there fails."""
    import requests

    answer = requests.post(
        gh.url + "/api/v3/graphql",
        json={"query": "{ viewer { login } }"},
        headers={"Authorization": f"token {TOKEN}"},
    )
    assert answer.status_code == 404 and gh.paths == ["POST /api/v3/graphql"]


def test_bad_token_and_bad_input(gh: GitHubServer) -> None:
    with pytest.raises(RemoteError, match="rejected the credentials") as caught:
        open_github("acme/gitops", token="ghp_wrongwrongwrongwrongwrong", base_url=gh.url).read("main", APP)
    assert caught.value.exit_code == EXIT_REMOTE
    with pytest.raises(RemoteError, match="Could not resolve to a Repository"):
        open_github("acme/other", token=TOKEN, base_url=gh.url).read("main", APP)
    with pytest.raises(InputError, match="OWNER/NAME") as usage:
        open_github("just-a-name", token=TOKEN)
    assert usage.value.exit_code == EXIT_USAGE


def test_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    with pytest.raises(InputError, match="GITHUB_TOKEN"):
        open_github("acme/gitops")
