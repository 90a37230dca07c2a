"""`updater set` end to end: the real CLI in a subprocess on real files in a tmp dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from testing.cli import run

VALUES = (
    'image:\n  repository: eu.gcr.io/p/app  # repo\n  tag: "v1"\ncontainers:\n  - image: eu.gcr.io/p/app:v1\n'
)


@pytest.fixture
def values(tmp_path: Path) -> Path:
    path = tmp_path / "values.yaml"
    path.write_bytes(VALUES.encode())
    path.chmod(0o640)
    os.utime(path, (1_000_000_000, 1_000_000_000))
    return path


def assert_untouched(path: Path, data: bytes) -> None:
    """The file has exactly its old bytes and its old mtime: nothing was written."""
    assert path.read_bytes() == data
    assert path.stat().st_mtime == 1_000_000_000


def test_set_writes_only_the_tag_and_keeps_mode(values: Path) -> None:
    result = run("set", str(values), "image.tag", "1.10")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{values}:3: image.tag: set 1.10 (was v1)\n"
    assert values.read_text() == VALUES.replace('"v1"', '"1.10"')
    assert oct(values.stat().st_mode & 0o777) == "0o640"
    assert sorted(p.name for p in values.parent.iterdir()) == ["values.yaml"]  # no temp file left


def test_set_through_a_symlink_writes_the_target_and_keeps_the_link(values: Path) -> None:
    link = values.parent / "link.yaml"
    link.symlink_to(values.name)
    assert run("set", str(link), "image.tag", "v2").returncode == 0
    assert link.is_symlink()
    assert values.read_text() == VALUES.replace('"v1"', '"v2"')


def test_dry_run_prints_the_diff_and_writes_nothing(values: Path) -> None:
    result = run("set", "--dry-run", str(values), "image.tag", "v2")
    assert result.returncode == 0
    assert result.stdout == (
        f"--- a/{values}\n+++ b/{values}\n@@ -1,5 +1,5 @@\n image:\n"
        '   repository: eu.gcr.io/p/app  # repo\n-  tag: "v1"\n+  tag: "v2"\n containers:\n'
        "   - image: eu.gcr.io/p/app:v1\n"
    )
    assert_untouched(values, VALUES.encode())


def test_json_one_change(values: Path) -> None:
    result = run("set", "--json", str(values), "image.tag", "v2")
    assert json.loads(result.stdout) == {
        "file": str(values),
        "mode": "yaml",
        "key": "image.tag",
        "old": "v1",
        "new": "v2",
        "changed": True,
        "line": 3,
        "changes": [
            {
                "key": "image.tag",
                "document": 0,
                "line": 3,
                "old": "v1",
                "new": "v2",
                "changed": True,
                "shared_with": None,
            }
        ],
    }


def test_json_image_locator_with_several_changes_and_dry_run(values: Path) -> None:
    result = run("set", "--json", "--dry-run", str(values), "--image", "eu.gcr.io/p/app", "v2")
    report = json.loads(result.stdout)
    assert [(c["key"], c["line"], c["old"], c["new"]) for c in report["changes"]] == [
        ("image.tag", 3, "v1", "v2"),
        ("containers[0].image", 5, "v1", "v2"),
    ]
    assert (report["key"], report["changed"]) == ("image.tag", True)
    assert [line for line in report["diff"].splitlines() if line.startswith("+ ")] == [
        '+  tag: "v2"',
        "+  - image: eu.gcr.io/p/app:v2",
    ]
    assert_untouched(values, VALUES.encode())


def test_an_edit_inside_a_shared_block_lists_every_key_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text("a: &x {tag: v1}\nb: *x\nc:\n  <<: *x\n")
    result = run("set", str(path), "a.tag", "v2")
    assert result.returncode == 0, result.stderr
    assert path.read_text() == "a: &x {tag: v2}\nb: *x\nc:\n  <<: *x\n"
    assert result.stdout == (
        f"{path}:1: a.tag: set v2 (was v1)\n"
        f"{path}:2: b.tag: set v2 (was v1), shared with a.tag\n"
        f"{path}:4: c.tag: set v2 (was v1), shared with a.tag\n"
    )
    report = json.loads(run("set", "--json", str(path), "a.tag", "v3").stdout)
    assert [(c["key"], c["line"], c["shared_with"]) for c in report["changes"]] == [
        ("a.tag", 1, None),
        ("b.tag", 2, "a.tag"),
        ("c.tag", 4, "a.tag"),
    ]


def test_already_up_to_date_writes_nothing(values: Path) -> None:
    result = run("set", str(values), "image.tag", "v1")
    assert (result.returncode, result.stdout) == (0, f"{values}:3: image.tag: already v1 (was v1)\n")
    assert_untouched(values, VALUES.encode())


def test_marker_and_create(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text("app:\n  name: x\n  tag: v1  # updater: app\n")
    assert run("set", str(path), "--marker", "app", "v2").returncode == 0
    assert run("set", "--create", str(path), "app.digest", "sha256:" + "a" * 64).returncode == 0
    assert path.read_text() == f"app:\n  name: x\n  tag: v2  # updater: app\n  digest: sha256:{'a' * 64}\n"


ERRORS = [
    ("a: 1\nb: [x\nc: 2\n", ["{f}", "b.x", "v2"], "{f}:3: invalid YAML: "),
    (
        VALUES,
        ["{f}", "image.tga", "v2"],
        "{f}:2: image has no key 'tga'; did you mean tag? (or pass --create to add it)",
    ),
    (
        VALUES,
        ["{f}", "image", "v2"],
        "{f}:2: image is a mapping where a scalar is expected: give the full key path",
    ),
    (
        "---\na: 1\n---\na: 2\n",
        ["{f}", "a", "v2"],
        "{f}: a is in documents 0 (line 2), 1 (line 4): pick one with",
    ),
    (VALUES, ["{f}", "image.tag", "v2\nx: 1"], "{f}: invalid value 'v2\\nx: 1': expected an OCI tag"),
    (
        VALUES,
        ["--document", "1", "{f}", "image.tag", "v2"],
        "{f}: --document 1 does not exist: the file has 1",
    ),
    (VALUES, ["{f}", "--image", "x/none", "v2"], "{f}: no value found for image x/none"),
    (
        "tag: &t v1\nb: *t\n",
        ["{f}", "tag", "v2"],
        "{f}:1: tag is shared through &t, used as an alias at line 2",
    ),
    (
        "a: v1\nb: 1\na: v0\n",
        ["{f}", "a", "v2"],
        "{f}:3: a is set 2 times in one mapping (lines 1, 3); readers take the last",
    ),
    (
        VALUES,
        ["{f}", "image.tag", "sha256:" + "a" * 64],
        "{f}:3: image.tag holds 'v1', not a digest: sha256:",
    ),
    (
        "image:\n  tag: |\n    v1\n",
        ["{f}", "image.tag", "v2"],
        "{f}:2: image.tag is a block scalar (|): write it as a plain value first",
    ),
    (
        "defaults: &d\n  tag: v1\napp:\n  <<: *d\n",
        ["{f}", "app.tag", "v2"],
        "{f}:4: app.tag is inherited through '<<' from line 2: change it there, or add the key here",
    ),
    (
        "image:\n  tag: v1\n",
        ["--create", "{f}", "sidecar.tag", "v2"],
        "{f}:1: the document root has no key 'sidecar'; it has: image",
    ),
    (b"a: \xff\n", ["{f}", "a", "v2"], "{f}:1: not UTF-8 text (byte 3): save the file as UTF-8"),
]


@pytest.mark.parametrize(("content", "args", "message"), ERRORS)
def test_errors_are_one_line_exit_2_and_leave_the_file_untouched(
    tmp_path: Path, content: str | bytes, args: list[str], message: str
) -> None:
    path = tmp_path / "values.yaml"
    data = content if isinstance(content, bytes) else content.encode()
    path.write_bytes(data)
    os.utime(path, (1_000_000_000, 1_000_000_000))
    result = run("set", *(a.format(f=path) for a in args))
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("updater: error: " + message.format(f=path))
    assert_untouched(path, data)


def test_a_digest_goes_into_an_image_reference(values: Path) -> None:
    digest = "sha256:" + "a" * 64
    result = run("set", str(values), "--image", "eu.gcr.io/p/app", f"v2@{digest}")
    assert result.returncode == 0, result.stderr
    assert values.read_text() == VALUES.replace('"v1"', f'"v2@{digest}"').replace(":v1", f":v2@{digest}")


def test_image_in_several_documents_with_document(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text("---\nimage: x/app:v1\n---\nimage: x/app:v1\n")
    result = run("set", str(path), "--image", "x/app", "--document", "1", "v2")
    assert result.returncode == 0
    assert path.read_text() == "---\nimage: x/app:v1\n---\nimage: x/app:v2\n"


@pytest.mark.parametrize("name", ["missing.yaml", "file.yaml/inside.yaml", "dangling.yaml"])
def test_unreadable_files(tmp_path: Path, name: str) -> None:
    (tmp_path / "file.yaml").write_text("a: 1\n")
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "nowhere.yaml")
    result = run("set", str(tmp_path / name), "a", "v2")
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"updater: error: {tmp_path / name}: cannot read: ")
    assert (tmp_path / "file.yaml").read_text() == "a: 1\n"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    result = run("set", str(tmp_path), "a", "v2")
    assert (result.returncode, result.stderr) == (
        2,
        f"updater: error: {tmp_path}: is a directory: give a YAML file\n",
    )


def test_root_refuses_paths_and_symlinks_leading_outside(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    outside = tmp_path / "outside.yaml"
    outside.write_text("a: v1\n")
    (root / "link.yaml").symlink_to(outside)
    (root / "ok.yaml").write_text("a: v1\n")
    for path in (root / "link.yaml", root / ".." / "outside.yaml"):
        result = run("set", "--root", str(root), str(path), "a", "v2")
        assert result.returncode == 2
        assert result.stderr.startswith(
            f"updater: error: {path}: leads outside --root {root} (to {outside});"
        )
    assert outside.read_text() == "a: v1\n"
    assert run("set", "--root", str(root), str(root / "ok.yaml"), "a", "v2").returncode == 0
    assert (root / "ok.yaml").read_text() == "a: v2\n"


def test_usage_errors() -> None:
    assert run("set", "f.yaml", "v2").stderr == "updater: error: expected FILE KEY VALUE; got 2 arguments\n"
    result = run("set", "f.yaml", "--image", "x", "--marker", "y", "v2")
    assert (result.returncode, result.stderr) == (
        2,
        "updater: error: give either --image or --marker, not both\n",
    )


def test_set_help_imports_no_heavy_library() -> None:
    code = (
        "import sys\nfrom updater.cli import main\nmain(['set', '--help'])\n"
        "heavy = ('github', 'google.cloud', 'grpc', 'docker', 'requests', 'ruamel')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "--allow-aliases" in out
    assert out.strip().splitlines()[-1] == "[]"
