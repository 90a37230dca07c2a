"""The masker hides secrets by value and by credential syntax, and leaves English alone (issue 15,
point 7: "a classic token: the repo scope" was printed as "a classic token: *** repo scope")."""

from __future__ import annotations

import pytest

from updater.infra import redact
from updater.scm.github_client import permission_hint


@pytest.mark.parametrize(
    "text",
    [
        permission_hint("createPullRequest"),
        permission_hint("create tree"),
        permission_hint("read"),
        "the token: expired, and the password: too short",
        "GitHub refused the token: check its scopes",
    ],
)
def test_english_after_token_or_password_is_left_alone(text: str) -> None:
    assert redact.mask(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: token s3cr3t-abc", "s3cr3t-abc"),
        ("{'Authorization': 'Bearer abc.def'}", "abc.def"),
        ('{"identitytoken": "idtok-123"}', "idtok-123"),
        ('{"auths": {"r.io": {"auth": "dXNlcjpwYXNz"}}}', "dXNlcjpwYXNz"),
        ("GET /login?access_token=qwerty123&x=1", "qwerty123"),
        ("token=qwerty123 sent", "qwerty123"),
        ("Private-Token: glpat-xyz", "glpat-xyz"),
        ("github_pat_" + "A1" * 20, "A1" * 20),
        ("ghs_" + "b" * 36, "b" * 36),
        ("eyJhbGciOiJSUzI1.eyJpc3MiOiIxMjM0.c2lnbmF0dXJl", "eyJpc3MiOiIxMjM0"),
        ("ya29.a0AfH6SMBx-long-google-token", "a0AfH6SMBx"),
        ("https://x-access-token:ghs_zzz@github.com/o/r", "ghs_zzz"),
        ("https://0123456789abcdef0123456789@github.com/o/r", "0123456789abcdef0123456789"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", "MIIEow"),
    ],
)
def test_credential_syntax_is_masked(text: str, secret: str) -> None:
    assert secret not in redact.mask(text)


def test_registered_value_is_masked_wherever_it_appears() -> None:
    redact.register("plain-words-secret")
    assert redact.mask("a classic token: plain-words-secret") == "a classic token: ***"
