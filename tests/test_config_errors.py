"""Every bad config gives ONE exact line: FILE:LINE:COL: KEY: what is wrong; what to do."""

# ruff: noqa: E501 - the exact messages are easier to review unbroken

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import pytest

from updater.config import ConfigError, load

BASE = """\
version: 1
environments:
  staging: {branch: staging, tag: "stage-{app}-{sha:7}"}
  production: {branch: main, mode: pull-request, promote-from: staging}
apps:
  web:
    image: ghcr.io/acme/web
    values:
      staging: k8s/web/values-stage.yaml
      production: k8s/web/values-prod.yaml
    key: image.tag
"""


class Case(NamedTuple):
    name: str
    edits: list[tuple[str, str]]  # (old, new) replacements in BASE; old "" appends new
    message: str  # {file} and {root} stand for the config path and the repository root


def case(name: str, edits: list[tuple[str, str]], message: str) -> Case:
    return Case(name, edits, message)


CASES = [
    case(
        "unknown-key",
        [("    key: image.tag", "    kee: image.tag")],
        '{file}:11:5: apps.web.kee: unknown key; did you mean "key"?',
    ),
    case(
        "unknown-key-far",
        [("    key: image.tag", "    image-tag: image.tag")],
        '{file}:11:5: apps.web.image-tag: unknown key; did you mean "image"?',
    ),
    case(
        "wrong-type-bool",
        [("branch: main,", "branch: main, frozen: yes,")],
        '{file}:4:38: environments.production.frozen: expected true or false, got "yes"',
    ),
    case(
        "wrong-type-number-for-string",
        [("branch: staging", "branch: 2024")],
        '{file}:3:21: environments.staging.branch: expected a string, got 2024; quote it: "2024"',
    ),
    case(
        "wrong-type-list-for-mapping",
        [('  staging: {branch: staging, tag: "stage-{app}-{sha:7}"}', "  staging: [staging]")],
        "{file}:3:12: environments.staging: expected a mapping, got a list",
    ),
    case(
        "unknown-environment-values",
        [("      production: k8s", "      prod: k8s")],
        '{file}:10:7: apps.web.values.prod: unknown environment "prod"; did you mean "production"?',
    ),
    case(
        "unknown-environment-promote",
        [("promote-from: staging", "promote-from: stagin")],
        '{file}:4:64: environments.production.promote-from: unknown environment "stagin"; did you mean "staging"?',
    ),
    case(
        "promote-from-itself",
        [("promote-from: staging", "promote-from: production")],
        "{file}:4:64: environments.production.promote-from: an environment cannot promote from itself; name another environment",
    ),
    case(
        "outside-dotdot",
        [("k8s/web/values-prod.yaml", "k8s/../../other/values.yaml")],
        '{file}:10:19: apps.web.values.production: "k8s/../../other/values.yaml" is outside the repository; use a path relative to the repository root {root}',
    ),
    case(
        "outside-absolute",
        [("k8s/web/values-prod.yaml", "/etc/values.yaml")],
        '{file}:10:19: apps.web.values.production: "/etc/values.yaml" is absolute; use a path relative to the repository root {root}',
    ),
    case(
        "no-image",
        [("    image: ghcr.io/acme/web\n", "")],
        '{file}:6:3: apps.web: add the required key "image" (Image repository, a list sharing one tag (the first is resolved), or per environment)',
    ),
    case(
        "no-image-for-env",
        [("    image: ghcr.io/acme/web\n", "    image: {staging: ghcr.io/acme/web}\n")],
        '{file}:7:5: apps.web.image: no image for environment "production", which has files (k8s/web/values-prod.yaml); add image.production',
    ),
    case(
        "image-with-tag",
        [("ghcr.io/acme/web", "ghcr.io/acme/web:1.0")],
        '{file}:7:12: apps.web.image: "ghcr.io/acme/web:1.0" includes a tag or digest; give the repository only, updater writes the tag',
    ),
    case(
        "bad-key-path",
        [("key: image.tag", "key: image..tag")],
        '{file}:11:10: apps.web.key: invalid key path "image..tag": empty segment at column 7; write e.g. image.tag, containers[0].image or "a.b".tag',
    ),
    case(
        "bad-key-path-quote",
        [("key: image.tag", "key: 'image.\"tag'")],
        '{file}:11:10: apps.web.key: invalid key path "image."tag": unterminated double quote at column 7; write e.g. image.tag, containers[0].image or "a.b".tag',
    ),
    case(
        "unknown-mode",
        [("mode: pull-request", "mode: pull-requests")],
        '{file}:4:36: environments.production.mode: "pull-requests" is not one of: commit, pull-request, auto-merge; did you mean "pull-request"?',
    ),
    case(
        "version-2",
        [("version: 1", "version: 2")],
        "{file}:1:10: version: must be 1, got 2",
    ),
    case(
        "no-version",
        [("version: 1\n", "")],
        '{file}:1:1: (top level): add the required key "version" (Config format version)',
    ),
    case(
        "yaml-syntax",
        [("    key: image.tag", "    key: [image.tag")],
        "{file}:12:1: YAML syntax error: while parsing a flow sequence, expected ',' or ']', but got '<stream end>'; fix the YAML syntax",
    ),
    case(
        "duplicate-key",
        [("    key: image.tag", "    key: image.tag\n    key: other.tag")],
        "{file}:12:5: apps.web.key: duplicate key (first at line 11); remove one",
    ),
    case(
        "unknown-placeholder",
        [("{sha:7}", "{commit:7}")],
        "{file}:3:35: environments.staging.tag: unknown placeholder {commit:7} in 'stage-{app}-{commit:7}'; use {sha}, {app}, {env}, {branch}, {run} or {sha:N}",
    ),
    case(
        "bad-tag-chars",
        [("stage-{app}-{sha:7}", "stage/{app}")],
        "{file}:3:35: environments.staging.tag: 'stage/{app}' cannot make a valid tag; use letters, digits, '_', '.', '-', '*' and placeholders",
    ),
    case(
        "bad-regex",
        [('tag: "stage-{app}-{sha:7}"', 'tag: {strategy: newest, include: "(["}')],
        "{file}:3:63: environments.staging.tag.include: invalid regular expression: unterminated character set at position 1; fix the pattern",
    ),
    case(
        "unknown-strategy",
        [('tag: "stage-{app}-{sha:7}"', "tag: {strategy: latest}")],
        '{file}:3:46: environments.staging.tag.strategy: "latest" is not one of: template, digest, newest, semver, alphabetical, numerical',
    ),
    case(
        "field-not-for-strategy",
        [('tag: "stage-{app}-{sha:7}"', 'tag: {strategy: newest, range: "^1"}')],
        "{file}:3:54: environments.staging.tag.range: not used by strategy newest; remove it",
    ),
    case(
        "bad-range",
        [('tag: "stage-{app}-{sha:7}"', 'tag: {strategy: semver, range: ">=banana"}')],
        "{file}:3:61: environments.staging.tag.range: semver range '>=banana': 'banana' is not a version; write e.g. '>=1.2,<2' or '^1.4'",
    ),
    case(
        "bad-wait",
        [('tag: "stage-{app}-{sha:7}"', 'tag: {template: "{sha}", wait: soon}')],
        '{file}:3:61: environments.staging.tag.wait: "soon" is not valid; expected a duration such as 30s, 10m or 1h',
    ),
    case(
        "conflict",
        [
            (
                "",
                "  api:\n    image: ghcr.io/acme/api\n    values: {staging: k8s/web/values-stage.yaml}\n    key: image.tag\n",
            )
        ],
        "{file}:15:10: apps.api.key: k8s/web/values-stage.yaml (key image.tag) on branch staging is already written by apps.web.key (line 11, environment staging); each value holds one tag: point to another key, file or branch",
    ),
    case(
        "target-two-locators",
        [("    key: image.tag", "    targets:\n      - {key: image.tag, marker: web}")],
        "{file}:12:9: apps.web.targets[0]: a target needs exactly one of key, image, marker (found key and marker)",
    ),
    case(
        "target-unknown-env",
        [("    key: image.tag", "    targets:\n      - {key: image.tag, env: [staging, qa]}")],
        '{file}:12:41: apps.web.targets[0].env[1]: unknown environment "qa"; define it under environments (staging, production)',
    ),
    case(
        "override-unknown-env",
        [("    key: image.tag", "    key: image.tag\n    overrides:\n      prod: {key: img.tag}")],
        '{file}:13:7: apps.web.overrides.prod: unknown environment "prod"; did you mean "production"?',
    ),
    case(
        "scm-key-for-other-provider",
        [("version: 1\n", "version: 1\nscm: {provider: git, repository: acme/gitops}\n")],
        "{file}:2:22: scm.repository: only used with provider github; remove it or set provider: github",
    ),
    case(
        "scm-bad-repository",
        [("version: 1\n", "version: 1\nscm: {provider: github, repository: acme}\n")],
        '{file}:2:37: scm.repository: "acme" is not valid; expected GitHub repository owner/name',
    ),
    case(
        "empty-values-list",
        [
            (
                "    values:\n      staging: k8s/web/values-stage.yaml\n      production: k8s/web/values-prod.yaml\n",
                "    values: []\n",
            )
        ],
        "{file}:8:13: apps.web.values: the list is empty; give at least one item",
    ),
    case(
        "bad-env-name",
        [("  staging: {", "  stag ing: {")],
        "{file}:3:3: environments.\"stag ing\": is not a valid name; use letters, digits, '-', '_' or '.'",
    ),
    case(
        "no-files",
        [
            (
                "    values:\n      staging: k8s/web/values-stage.yaml\n      production: k8s/web/values-prod.yaml\n",
                "",
            )
        ],
        "{file}:6:3: apps.web: no files to write; add values: PATH (or one per environment) or targets",
    ),
    case(
        "bad-marker",
        [("    key: image.tag", "    marker: 'two words'")],
        '{file}:11:13: apps.web.marker: "two words" is not a marker name; use the NAME of "# updater: NAME"',
    ),
    case(
        "no-environments",
        [
            (
                'environments:\n  staging: {branch: staging, tag: "stage-{app}-{sha:7}"}\n  production: {branch: main, mode: pull-request, promote-from: staging}\n',
                "environments: {}\n",
            )
        ],
        "{file}:2:1: environments: the mapping is empty; add at least one entry",
    ),
    case(
        "commit-author-incomplete",
        [("version: 1\n", "version: 1\ncommit: {author: {name: bot}}\n")],
        '{file}:2:10: commit.author: add the required key "email" (Author email, name@host)',
    ),
    case(
        "unbalanced-template",
        [("version: 1\n", "version: 1\ncommit: {message: 'deploy {env'}\n")],
        "{file}:2:19: commit.message: invalid template 'deploy {env': expected '}' before end of string; write {command}, {env}, {apps}, {tags}, {app}, {tag}, and {{ }} for literal braces",
    ),
    case(
        "bad-branch",
        [("branch: main,", "branch: 'release..1',")],
        "{file}:4:24: environments.production.branch: \"release..1\" is not a usable branch name; use letters, digits, '-', '_', '.' and '/'",
    ),
    case(
        "bad-pr-branch",
        [("version: 1\n", "version: 1\npull-request: {branch: 'updater {env}'}\n")],
        "{file}:2:24: pull-request.branch: \"updater {env}\" is not a usable branch name; use letters, digits, '-', '_', '.' and '/'",
    ),
    case(
        "bad-insecure-host",
        [("version: 1\n", "version: 1\nregistry: {insecure: ['http://localhost:5000']}\n")],
        '{file}:2:23: registry.insecure[0]: "http://localhost:5000" is not valid; expected a host or host:port',
    ),
    case(
        "merge-not-mapping",
        [("  production: {branch: main,", "  production: {<<: [x], branch: main,")],
        "{file}:4:21: environments.production: << merges a mapping (or a list of mappings); point it at an &anchor of a mapping",
    ),
    case(
        "image-locator-with-tag",
        [("    key: image.tag", "    image-locator: ghcr.io/acme/web:latest")],
        '{file}:11:20: apps.web.image-locator: "ghcr.io/acme/web:latest" includes a tag or digest; give the repository only, updater writes the tag',
    ),
    case(
        "target-no-locator",
        [("    key: image.tag", "    targets:\n      - {file: a.yaml}")],
        "{file}:12:9: apps.web.targets[0]: a target needs exactly one of key, image, marker (found none)",
    ),
    case(
        "target-env-without-file",
        [
            (
                "    values:\n      staging: k8s/web/values-stage.yaml\n      production: k8s/web/values-prod.yaml\n    key: image.tag",
                "    values: {staging: k8s/web/values-stage.yaml}\n    targets:\n      - {env: production, key: image.tag}",
            )
        ],
        '{file}:10:9: apps.web.targets[0]: no file for environment "production"; add file: PATH or values.production',
    ),
    case(
        "digest-bad-key",
        [("    key: image.tag", "    key: image.tag\n    digest: 'image.'")],
        '{file}:12:13: apps.web.digest: invalid key path "image.": key path ends with \'.\'; write e.g. image.tag, containers[0].image or "a.b".tag',
    ),
    case(
        "two-envs-same-value",
        [
            ("branch: main, ", ""),
            ("branch: staging, ", ""),
            (
                "    values:\n      staging: k8s/web/values-stage.yaml\n      production: k8s/web/values-prod.yaml\n",
                "    values: k8s/web/values.yaml\n",
            ),
        ],
        "{file}:9:10: apps.web.key: k8s/web/values.yaml (key image.tag) on the default branch is already written by apps.web.key (line 9, environment staging); each value holds one tag: point to another key, file or branch",
    ),
    case(
        "unknown-env-in-image-map",
        [
            (
                "    image: ghcr.io/acme/web\n",
                "    image: {staging: ghcr.io/acme/web, prod: ghcr.io/acme/web}\n",
            )
        ],
        '{file}:7:40: apps.web.image.prod: unknown environment "prod"; did you mean "production"?',
    ),
    case(
        "exclude-bad-regex",
        [('tag: "stage-{app}-{sha:7}"', 'tag: {strategy: newest, exclude: ["ok", "*bad"]}')],
        "{file}:3:70: environments.staging.tag.exclude[1]: invalid regular expression: nothing to repeat at position 0; fix the pattern",
    ),
    case(
        "no-strategy",
        [('tag: "stage-{app}-{sha:7}"', "tag: {wait: 30}")],
        "{file}:3:30: environments.staging.tag: no strategy; add strategy: template|digest|newest|semver|alphabetical|numerical",
    ),
    case(
        "template-strategy-without-template",
        [('tag: "stage-{app}-{sha:7}"', "tag: {strategy: template, wait: 30}")],
        '{file}:3:30: environments.staging.tag: strategy template needs a "template" key, e.g. template: "{sha:7}"',
    ),
    case(
        "sha-width-on-app",
        [("{sha:7}", "{app:7}")],
        "{file}:3:35: environments.staging.tag: unknown placeholder {app:7} in 'stage-{app}-{app:7}'; use {sha}, {app}, {env}, {branch}, {run} or {sha:N}",
    ),
    case(
        "github-url-not-url",
        [("version: 1\n", "version: 1\nscm: {provider: github, github-url: ghe.example.com}\n")],
        '{file}:2:37: scm.github-url: "ghe.example.com" is not an http(s) URL; use e.g. https://ghe.example.com/api/v3',
    ),
    case(
        "unknown-message-placeholder",
        [("version: 1\n", "version: 1\ncommit: {message: 'deploy {environment}'}\n")],
        "{file}:2:19: commit.message: unknown placeholder {environment} in 'deploy {environment}'; use {command}, {env}, {apps}, {tags}, {app}, {tag}",
    ),
    case(
        "unknown-branch-placeholder",
        [("version: 1\n", "version: 1\npull-request: {branch: 'updater/{sha}'}\n")],
        "{file}:2:24: pull-request.branch: unknown placeholder {sha} in 'updater/{sha}'; use {env}, {app}, {command}",
    ),
    case(
        "camel-case-key",
        [("promote-from: staging", "promoteFrom: staging")],
        '{file}:4:50: environments.production.promoteFrom: unknown key; did you mean "promote-from"?',
    ),
    case(
        "snake-case-key",
        [("version: 1\n", "version: 1\npull_request: {draft: true}\n")],
        '{file}:2:1: pull_request: unknown key; did you mean "pull-request"?',
    ),
]


def error_of(path: Path) -> str:
    before = path.read_bytes()
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert path.read_bytes() == before
    assert caught.value.exit_code == 2
    message = caught.value.message
    assert "\n" not in message
    return message


def test_base_config_is_valid(tmp_path: Path) -> None:
    (tmp_path / ".updater.yaml").write_text(BASE)
    assert list(load(tmp_path / ".updater.yaml").apps) == ["web"]


@pytest.mark.parametrize("bad", CASES, ids=[c.name for c in CASES])
def test_exact_error(tmp_path: Path, bad: Case) -> None:
    text = BASE
    for old, new in bad.edits:
        assert old in text, "the case no longer applies to BASE"
        text = text + new if old == "" else text.replace(old, new)
    path = tmp_path / ".updater.yaml"
    path.write_text(text)
    expected = bad.message.replace("{file}", str(path)).replace("{root}", str(tmp_path.resolve()))
    assert error_of(path) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- web\n", "{file}:1:1: (top level): expected a mapping, got a list"),
        ("# nothing yet\n", "{file}:1:1: (top level): the file is empty; start with 'version: 1'"),
        (
            'version: 1\nenvironments: {a: {branch: "x\x07"}}\n',
            "{file}:2:30: control character U+0007 is not allowed in YAML; remove it",
        ),
        (
            "version: !!int x\nenvironments: {a: {}}\napps: {}\n",
            "{file}:1:10: version: cannot read 'x' as tag:yaml.org,2002:int; remove the tag",
        ),
        (
            "version: 1\n---\nversion: 1\n",
            "{file}:2:1: YAML syntax error: expected a single document in the stream, but found another document; fix the YAML syntax",
        ),
    ],
)
def test_whole_file_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / ".updater.yaml"
    path.write_text(text)
    assert error_of(path) == message.replace("{file}", str(path))


def test_symlink_leading_outside_the_repository(tmp_path: Path) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "secrets.yaml"
    (repo / "k8s" / "web").mkdir(parents=True)
    outside.write_text("token: x\n")
    os.symlink(outside, repo / "k8s" / "web" / "values-prod.yaml")
    path = repo / ".updater.yaml"
    path.write_text(BASE)
    assert error_of(path) == (
        f'{path}:10:19: apps.web.values.production: "k8s/web/values-prod.yaml" is a symlink to '
        f"{outside.resolve()}, outside the repository; use a path relative to the repository root {repo.resolve()}"
    )


def test_symlinked_directory_leading_outside(tmp_path: Path) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "elsewhere"
    (outside / "web").mkdir(parents=True)
    (outside / "web" / "values-stage.yaml").write_text("image: {tag: a}\n")
    repo.mkdir()
    os.symlink(outside, repo / "k8s")
    path = repo / ".updater.yaml"
    path.write_text(BASE)
    assert error_of(path).startswith(
        f'{path}:9:16: apps.web.values.staging: "k8s/web/values-stage.yaml" is a symlink to '
        f"{(outside / 'web' / 'values-stage.yaml').resolve()}, outside the repository"
    )


def test_directory_instead_of_file(tmp_path: Path) -> None:
    (tmp_path / "k8s" / "web" / "values-stage.yaml").mkdir(parents=True)
    path = tmp_path / ".updater.yaml"
    path.write_text(BASE)
    assert error_of(path) == (
        f'{path}:9:16: apps.web.values.staging: "k8s/web/values-stage.yaml" is a directory; name a YAML file'
    )


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / ".updater.yaml"
    path.write_bytes(BASE.encode().replace(b"acme", b"\xe9cme"))
    assert error_of(path) == f"{path}:7:20: not UTF-8; save the file as UTF-8"
