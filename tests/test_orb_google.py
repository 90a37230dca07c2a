"""The orb's google-credentials parameter given as JSON in a project variable, end to end.

CircleCI users keep a service-account key in a variable (GCLOUD_SERVICE_KEY); the orb's script writes it
to a private file and points GOOGLE_APPLICATION_CREDENTIALS at it. Here the real CLI reads that file with
google-auth and calls the loopback Artifact Registry (testing/gar_server.py) through a recording proxy:
every request carries the self-signed JWT google-auth makes from the service account's key, which the
test verifies with the key's public half. The endpoint is spelled 127.1, loopback but not a name
updater treats as a test server, so updater uses the real credentials instead of anonymous ones.
"""

from __future__ import annotations

import json
import stat
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from test_action_e2e import SHA
from test_orb import circleci_env, exported, run_command

from testing.gar_server import start_gar_server
from testing.gitrepo import make_remote

IMAGE = "europe-docker.pkg.dev/acme/images/api"
VALUES = "image:\n  tag: stage-api-0000000\n"
EMAIL = "ci@acme.iam.gserviceaccount.com"


@contextmanager
def recording_proxy(upstream: str, scratch: Path) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Forward GETs to `upstream`; record each request's Authorization header and the credentials
    files present under `scratch` at that moment, with their permission bits."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            files = [
                (p.name, stat.S_IMODE(p.stat().st_mode)) for p in scratch.rglob("google-credentials.json")
            ]
            seen.append({"authorization": self.headers.get("Authorization", ""), "files": files})
            try:
                with urllib.request.urlopen(upstream + self.path, timeout=10) as answer:
                    status, body = answer.status, answer.read()
            except urllib.error.HTTPError as error:
                status, body = error.code, error.read()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_google_credentials_json_in_a_variable(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    service_account = {
        "type": "service_account",
        "project_id": "acme",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": EMAIL,
        "client_id": "1",
        "token_uri": "http://127.0.0.1:9/token",
    }
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    remote_dir = tmp_path / "gitops"
    config = f"""version: 1
scm: {{provider: git, url: {remote_dir}/remote.git}}
registry: {{api: artifact-registry}}
environments:
  staging: {{branch: main, mode: commit, tag: "stage-{{app}}-{{sha:7}}"}}
apps:
  api: {{image: {IMAGE}, values: {{staging: values.yaml}}, key: image.tag}}
"""
    remote = make_remote(remote_dir, {".updater.yaml": config, "values.yaml": VALUES})
    with start_gar_server() as gar, recording_proxy(gar.endpoint, scratch) as (endpoint, seen):
        gar.add_image(IMAGE, [f"stage-api-{SHA[:7]}"], datetime(2026, 11, 20, tzinfo=timezone.utc))
        env = circleci_env(tmp_path)
        env |= {
            "GCLOUD_SERVICE_KEY": json.dumps(service_account),
            "UPDATER_ARTIFACT_REGISTRY_ENDPOINT": endpoint,
            "TMPDIR": str(scratch),  # where the script's mktemp puts the credentials file
            # Offline: google-auth's side calls to Google (metadata server, access-boundary lookup)
            # fail at once instead of waiting on DNS.
            "GCE_METADATA_HOST": "127.0.0.1:9",
            "GCE_METADATA_IP": "127.0.0.1:9",
            "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.1,127.0.0.1",
        }
        proc = run_command("bump", {"env": "staging", "apps": "api"}, env, remote.work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert remote.show("values.yaml").decode() == VALUES.replace("0000000", SHA[:7])
    (changed,) = exported(Path(env["BASH_ENV"]), "UPDATER_CHANGED")
    assert changed == "true"

    # Every call was signed with the key from the variable, read from a file only its owner could read,
    # and the file is gone after the step.
    assert seen
    for request in seen:
        scheme, _, token = request["authorization"].partition(" ")
        claims = jwt.decode(token, key.public_key(), algorithms=["RS256"], options={"verify_aud": False})
        assert (scheme, claims["iss"]) == ("Bearer", EMAIL)
        assert request["files"] == [("google-credentials.json", 0o600)]
    assert list(scratch.iterdir()) == []
    assert pem.splitlines()[1] not in proc.stdout + proc.stderr
