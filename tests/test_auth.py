"""Registry auth against the real registry: htpasswd Basic, token (Bearer) auth, docker config sources.

Credential helpers are real executables (`docker-credential-updatertest` on PATH) run by the `docker`
package exactly as `docker pull` runs them. Every test also checks that secrets stay out of output.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import stat
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from testing.registry import RunningRegistry, push_image, start_registry
from testing.registry_proxy import start_proxy
from testing.token_server import TokenServer
from updater.domain.imageref import parse
from updater.infra import logmask, redact
from updater.infra.errors import InputError, RemoteError
from updater.registry.auth import credentials_for, from_docker_config
from updater.registry.base import RegistryOptions
from updater.registry.oci import OciRegistry

T0 = datetime(2026, 5, 1, tzinfo=timezone.utc)


def _push(reg: RunningRegistry) -> str:
    return push_image(
        reg.url,
        "private/app",
        ["v1"],
        created=T0,
        platforms=["linux/amd64", "linux/arm64"],
        auth=reg.credentials,
    )


@pytest.fixture(scope="module")
def basic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningRegistry, str]]:
    with start_registry(tmp_path_factory.mktemp("htpasswd"), auth="htpasswd") as reg:
        yield reg, _push(reg)


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningRegistry, str]]:
    with start_registry(tmp_path_factory.mktemp("token"), auth="token") as reg:
        yield reg, _push(reg)


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Everything logged at DEBUG, through the same masking filter the CLI's --debug installs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logmask.MaskingFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.fixture
def docker_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty docker config directory as $DOCKER_CONFIG, and no registry credentials in the env."""
    home = tmp_path / "docker"
    home.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(home))
    monkeypatch.delenv("UPDATER_REGISTRY_USERNAME", raising=False)
    monkeypatch.delenv("UPDATER_REGISTRY_PASSWORD", raising=False)
    return home


def _resolve_everything(client: OciRegistry, digest: str) -> None:
    assert {info.tag for info in client.list_tags()} == {"v1"}
    assert client.digest("v1") == digest
    assert client.created(digest) == T0


def _client(reg: RunningRegistry, **options: str | None) -> OciRegistry:
    return OciRegistry(parse(f"{reg.host}/private/app"), RegistryOptions(**options))  # type: ignore[arg-type]


def _assert_hidden(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


# --- htpasswd (Basic) ------------------------------------------------------------------------------


def test_basic_auth_with_explicit_credentials(
    basic: tuple[RunningRegistry, str], docker_home: Path, debug_log: io.StringIO
) -> None:
    reg, digest = basic
    client = _client(reg, username=reg.username, password=reg.password)
    _resolve_everything(client, digest)
    assert client.auth_requests == 1  # one challenge, then Basic on every request
    assert client.requests == 5  # tags, HEAD, index, amd64 manifest, config blob
    log = debug_log.getvalue()
    assert f"GET http://{reg.host}/v2/private/app/tags/list" in log
    _assert_hidden(log, reg.password or "")
    assert base64.b64encode(f"{reg.username}:{reg.password}".encode()).decode() not in log


def test_basic_auth_without_credentials_says_what_to_do(
    basic: tuple[RunningRegistry, str], docker_home: Path
) -> None:
    reg, _ = basic
    with pytest.raises(
        RemoteError, match=rf"registry {reg.host}: authentication required \(HTTP 401\).*docker login"
    ):
        _client(reg).digest("v1")


def test_basic_auth_with_a_wrong_password(basic: tuple[RunningRegistry, str], docker_home: Path) -> None:
    reg, _ = basic
    with pytest.raises(RemoteError, match=r"authentication failed \(HTTP 401\)") as info:
        _client(reg, username=reg.username, password="wrong-password-123").digest("v1")
    assert "wrong-password-123" not in redact.mask(info.value.message)


def test_explicit_credentials_from_the_environment(
    basic: tuple[RunningRegistry, str], docker_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg, digest = basic
    monkeypatch.setenv("UPDATER_REGISTRY_USERNAME", reg.username or "")
    monkeypatch.setenv("UPDATER_REGISTRY_PASSWORD", reg.password or "")
    _resolve_everything(_client(reg), digest)
    monkeypatch.delenv("UPDATER_REGISTRY_PASSWORD")
    with pytest.raises(InputError, match="both a registry username and a password"):
        credentials_for(reg.host, RegistryOptions())


@pytest.mark.parametrize("key", ["{host}", "http://{host}/v2/", "https://{host}"])
def test_docker_config_auths(basic: tuple[RunningRegistry, str], docker_home: Path, key: str) -> None:
    reg, digest = basic
    encoded = base64.b64encode(f"{reg.username}:{reg.password}".encode()).decode()
    (docker_home / "config.json").write_text(
        json.dumps({"auths": {key.format(host=reg.host): {"auth": encoded}}})
    )
    _resolve_everything(_client(reg), digest)
    assert reg.password in redact.secrets()


def test_docker_config_directory_option_beats_the_environment(
    basic: tuple[RunningRegistry, str], docker_home: Path, tmp_path: Path
) -> None:
    reg, digest = basic
    other = tmp_path / "elsewhere"
    other.mkdir()
    encoded = base64.b64encode(f"{reg.username}:{reg.password}".encode()).decode()
    (other / "config.json").write_text(json.dumps({"auths": {reg.host: {"auth": encoded}}}))
    _resolve_everything(_client(reg, docker_config=str(other)), digest)


def _helper(bin_dir: Path, store: dict[str, tuple[str, str]]) -> Path:
    """Install `docker-credential-updatertest`: the credential-helper protocol over a JSON file."""
    bin_dir.mkdir(exist_ok=True)
    data = bin_dir / "store.json"
    data.write_text(json.dumps({k: {"Username": u, "Secret": s} for k, (u, s) in store.items()}))
    calls = bin_dir / "calls.log"
    script = bin_dir / "docker-credential-updatertest"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"store = json.load(open({str(data)!r}))\n"
        "server = sys.stdin.read().strip()\n"
        f"open({str(calls)!r}, 'a').write(sys.argv[1] + ' ' + server + '\\n')\n"
        "if sys.argv[1] != 'get' or server not in store:\n"
        "    print('credentials not found in native keychain'); sys.exit(1)\n"
        "print(json.dumps(dict(store[server], ServerURL=server)))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return calls


@pytest.mark.parametrize("section", ["credHelpers", "credsStore"])
def test_credential_helpers(
    basic: tuple[RunningRegistry, str],
    docker_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    debug_log: io.StringIO,
    section: str,
) -> None:
    reg, digest = basic
    calls = _helper(tmp_path / "bin", {reg.host: (reg.username or "", reg.password or "")})
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    config = (
        {"credHelpers": {reg.host: "updatertest"}}
        if section == "credHelpers"
        else {"credsStore": "updatertest"}
    )
    (docker_home / "config.json").write_text(json.dumps(config))
    _resolve_everything(_client(reg), digest)
    assert calls.read_text() == f"get {reg.host}\n"  # asked once, only when challenged
    _assert_hidden(debug_log.getvalue(), reg.password or "")


@pytest.mark.filterwarnings("ignore:docker-credential-no-such-helper-xyz")
def test_a_missing_credential_helper_is_an_input_error_naming_the_config(
    docker_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (docker_home / "config.json").write_text(json.dumps({"credsStore": "no-such-helper-xyz"}))
    with pytest.raises(
        InputError, match=rf"{docker_home / 'config.json'}: the credential helper for r.example"
    ):
        from_docker_config("r.example:5000")


def test_anonymous_registry_never_runs_the_helper(docker_home: Path, tmp_path: Path) -> None:
    (docker_home / "config.json").write_text(json.dumps({"credsStore": "no-such-helper-xyz"}))
    with start_registry(tmp_path / "anon") as reg:
        digest = push_image(reg.url, "private/app", ["v1"], created=T0)
        client = _client(reg)
        assert client.digest("v1") == digest
        assert client.auth_requests == 0


# --- token (Bearer) ----------------------------------------------------------------------------------


def test_token_auth_caches_the_token_per_scope(
    token: tuple[RunningRegistry, str], docker_home: Path, debug_log: io.StringIO
) -> None:
    reg, digest = token
    server = reg.token_server
    assert server is not None
    before = server.counts["get"]
    client = _client(reg, username=reg.username, password=reg.password)
    _resolve_everything(client, digest)
    assert server.counts["get"] - before == 1  # one token for repository:private/app:pull
    assert client.auth_requests == 2  # the challenge and the token request
    assert client.requests == 5
    _assert_hidden(debug_log.getvalue(), reg.password or "", *server.issued)


def test_token_auth_with_access_token_field(tmp_path: Path, docker_home: Path) -> None:
    with start_registry(tmp_path / "reg", auth="token", token_field="access_token") as reg:
        digest = _push(reg)
        _resolve_everything(_client(reg, username=reg.username, password=reg.password), digest)


def test_expired_tokens_are_renewed(tmp_path: Path, docker_home: Path) -> None:
    with start_registry(tmp_path / "reg", auth="token") as reg:
        digest = _push(reg)
        assert reg.token_server is not None
        reg.token_server.expires_in = 2  # renewed 10 s early, so it is reused for at most 1 s
        before = reg.token_server.counts["get"]
        client = _client(reg, username=reg.username, password=reg.password)
        assert client.digest("v1") == digest
        assert client.created(digest) == T0  # still within the lifetime: same token
        assert reg.token_server.counts["get"] - before == 1
        time.sleep(1.1)
        client.forget()
        assert client.digest("v1") == digest
        assert reg.token_server.counts["get"] - before == 2


def test_identity_token_from_docker_config_uses_the_oauth2_refresh_grant(
    token: tuple[RunningRegistry, str], docker_home: Path, debug_log: io.StringIO
) -> None:
    reg, digest = token
    server = reg.token_server
    assert server is not None
    (docker_home / "config.json").write_text(
        json.dumps({"auths": {reg.host: {"auth": "", "identitytoken": server.identity_token}}})
    )
    posts = server.counts["post"]
    _resolve_everything(_client(reg), digest)
    assert server.counts["post"] - posts == 1
    _assert_hidden(debug_log.getvalue(), server.identity_token, *server.issued)


def test_token_server_refusal_names_registry_and_status(
    token: tuple[RunningRegistry, str], docker_home: Path
) -> None:
    reg, _ = token
    with pytest.raises(
        RemoteError, match=rf"registry {reg.host}: token server 127.0.0.1:\d+ refused .*\(HTTP 401\)"
    ):
        _client(reg, username=reg.username, password="not-the-password").digest("v1")


def test_anonymous_token_pull_where_the_server_allows_it(tmp_path: Path, docker_home: Path) -> None:
    with start_registry(tmp_path / "reg", auth="token") as reg:
        digest = _push(reg)
        assert reg.token_server is not None
        reg.token_server.allow_anonymous = True
        client = _client(reg)
        assert client.digest("v1") == digest
        assert client.auth_requests == 2


# --- Google Application Default Credentials ----------------------------------------------------------


def _no_metadata_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Keep google.auth from probing a GCE metadata server or a developer's gcloud login.
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)


@pytest.fixture
def adc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TokenServer]:
    """A service-account ADC file whose token_uri is a loopback OAuth2 token endpoint (returned)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from testing.token_server import start_token_server

    _no_metadata_server(monkeypatch, tmp_path)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    oauth = start_token_server(tmp_path / "oauth", field_name="both")
    oauth.assertion_key = key.public_key()
    try:
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        adc = tmp_path / "adc.json"
        adc.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": "updater-test",
                    "private_key_id": "k1",
                    "private_key": pem,
                    "client_email": "ci@updater-test.iam.gserviceaccount.com",
                    "client_id": "1",
                    "token_uri": f"{oauth.url}/token",
                }
            )
        )
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
        yield oauth
    finally:
        oauth.stop()


def test_google_hosts_use_application_default_credentials(docker_home: Path, adc: TokenServer) -> None:
    """google.auth turns a service-account ADC file into a token at a loopback OAuth2 token endpoint."""
    oauth = adc
    for host in ("europe-docker.pkg.dev", "gcr.io", "eu.gcr.io"):
        found = credentials_for(host, RegistryOptions())
        assert found is not None
        user, secret = found
        assert user == "oauth2accesstoken" and secret in oauth.issued
        assert secret in redact.secrets()
    assert oauth.counts["post"] == 3
    assert credentials_for("ghcr.io", RegistryOptions()) is None


def test_adc_credentials_reach_the_registry(
    basic: tuple[RunningRegistry, str], docker_home: Path, adc: TokenServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry's Basic challenge is answered with oauth2accesstoken and the ADC access token.

    The real registry sits behind the proxy, reached as gcr.io through HTTP_PROXY; its htpasswd file
    does not know the token, so it refuses it, which is the registry's business: the test is that the
    token got there.
    """
    reg, _ = basic
    with start_proxy(reg.url) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # the OAuth2 endpoint is reached directly
        client = OciRegistry(parse("gcr.io/private/app"), RegistryOptions(insecure_hosts=("gcr.io",)))
        with pytest.raises(RemoteError, match=r"^registry gcr\.io: authentication failed \(HTTP 401\)"):
            client.list_tags()
    [token] = adc.issued
    sent = {base64.b64decode(value.removeprefix("Basic ")).decode() for value in proxy.authorizations}
    assert sent == {f"oauth2accesstoken:{token}"}
    assert adc.counts["post"] == 1


def test_google_host_without_adc_goes_anonymous(
    tmp_path: Path, docker_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_metadata_server(monkeypatch, tmp_path)
    assert credentials_for("europe-docker.pkg.dev", RegistryOptions()) is None
