"""The git and files backends against real repositories and bare remotes in tmp dirs."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from testing.gitrepo import git, make_remote, reject_pushes
from updater.infra import retry
from updater.infra.errors import InputError, RemoteError
from updater.scm.base import Author, CommitRequest, Editor, PullRequestSpec, Reader
from updater.scm.files import FilesBackend
from updater.scm.git import GitBackend

VALUES = "image:\n  repository: example/api\n  tag: v1\n"


def replace_line(path: str, old: bytes, new: bytes) -> Editor:
    """An editor that swaps `old` for `new` in one file, as bump's editor does with a tag."""

    def editor(read: Reader) -> dict[str, bytes]:
        data = read(path)
        assert data is not None
        return {path: data.replace(old, new)}

    return editor


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    # The waits are not under test here; jitter still decides the order of the racing threads.
    monkeypatch.setattr(retry, "sleep", lambda seconds: None)


def test_read_gives_branch_head_bytes_and_none_for_missing(tmp_path: Path) -> None:
    remote = make_remote(tmp_path, {"a/values.yaml": "x: 1\r\n"}, branches=("main", "staging"))
    remote.commit({"a/values.yaml": "x: 2\r\n"}, "staging moves", branch="staging")
    with GitBackend(remote.url) as backend:
        assert backend.read("main", "a/values.yaml") == b"x: 1\r\n"
        assert backend.read("staging", "a/values.yaml") == b"x: 2\r\n"
        assert backend.read("main", "missing.yaml") is None
        with pytest.raises(InputError, match="branch 'nope' does not exist"):
            backend.read("nope", "a/values.yaml")


def test_apply_makes_one_commit_with_author_and_message(tmp_path: Path) -> None:
    remote = make_remote(tmp_path, {"api.yaml": VALUES, "web.yaml": VALUES})
    before = remote.head()

    def editor(read: Reader) -> dict[str, bytes]:
        return {p: (read(p) or b"").replace(b"tag: v1", b"tag: v2") for p in ("api.yaml", "web.yaml")}

    request = CommitRequest(
        branch="main", message="bump: v1 -> v2\n\ndetails", author=Author("Bot", "bot@x.test")
    )
    with GitBackend(remote.url) as backend:
        outcome = backend.apply(request, editor)
    assert outcome.changed and outcome.files == ("api.yaml", "web.yaml")
    assert outcome.commit == remote.head()
    assert git("rev-parse", f"{remote.head()}^", cwd=remote.bare).strip() == before
    assert remote.show("api.yaml") == VALUES.replace("v1", "v2").encode()
    assert git("log", "-1", "--format=%an <%ae>|%B", cwd=remote.bare).strip() == (
        "Bot <bot@x.test>|bump: v1 -> v2\n\ndetails"
    )


def test_nothing_to_change_makes_no_commit(tmp_path: Path) -> None:
    remote = make_remote(tmp_path, {"api.yaml": VALUES})
    before = remote.head()
    with GitBackend(remote.url) as backend:
        outcome = backend.apply(CommitRequest("main", "noop"), replace_line("api.yaml", b"v9", b"v9"))
    assert outcome.changed is False and outcome.commit is None
    assert remote.head() == before


def test_lost_race_reruns_editor_on_new_head(tmp_path: Path) -> None:
    remote = make_remote(tmp_path, {"api.yaml": VALUES, "web.yaml": VALUES})
    calls: list[bytes | None] = []

    def editor(read: Reader) -> dict[str, bytes]:
        calls.append(read("web.yaml"))
        if len(calls) == 1:
            # Someone else lands a commit between our fetch and our push.
            remote.commit({"web.yaml": VALUES.replace("v1", "w7")}, "concurrent change")
        data = read("api.yaml") or b""
        return {"api.yaml": data.replace(b"tag: v1", b"tag: v2")}

    with GitBackend(remote.url) as backend:
        outcome = backend.apply(CommitRequest("main", "bump api"), editor)
    assert len(calls) == 2 and calls[1] == VALUES.replace("v1", "w7").encode()
    assert outcome.changed
    assert remote.log() == ["bump api", "concurrent change", "initial layout"]
    assert remote.show("web.yaml") == VALUES.replace("v1", "w7").encode()
    assert remote.show("api.yaml") == VALUES.replace("v1", "v2").encode()


def test_concurrent_backends_all_land_linearly(tmp_path: Path) -> None:
    files = {f"app{i}.yaml": VALUES for i in range(8)}
    files["shared.yaml"] = "".join(f"app{i}: v1\n" for i in range(8))
    remote = make_remote(tmp_path, files)
    errors: list[BaseException] = []

    def bump(i: int) -> None:
        def editor(read: Reader) -> dict[str, bytes]:
            own = (read(f"app{i}.yaml") or b"").replace(b"tag: v1", b"tag: v2")
            shared = (read("shared.yaml") or b"").replace(f"app{i}: v1".encode(), f"app{i}: v2".encode())
            return {f"app{i}.yaml": own, "shared.yaml": shared}

        try:
            with GitBackend(remote.url) as backend:
                backend.apply(CommitRequest("main", f"bump app{i}"), editor)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert remote.count() == 9 and remote.is_linear()
    assert sorted(remote.log()[:8]) == sorted(f"bump app{i}" for i in range(8))
    assert remote.show("shared.yaml") == "".join(f"app{i}: v2\n" for i in range(8)).encode()
    for i in range(8):
        assert remote.show(f"app{i}.yaml") == VALUES.replace("v1", "v2").encode()


def test_push_refused_for_good_is_remote_error_and_clone_clean(tmp_path: Path) -> None:
    remote = make_remote(tmp_path, {"api.yaml": VALUES})
    reject_pushes(remote, "branch is frozen by policy")
    before = remote.head()
    clone = tmp_path / "clone"
    backend = GitBackend(remote.url, workdir=clone)
    with pytest.raises(RemoteError, match=r"\(main\) was refused: remote: branch is frozen by policy$"):
        backend.apply(CommitRequest("main", "bump"), replace_line("api.yaml", b"v1", b"v2"))
    assert remote.head() == before
    assert git("status", "--porcelain", cwd=clone) == ""
    assert git("rev-parse", "HEAD", cwd=clone).strip() == before
    assert (clone / "api.yaml").read_text() == VALUES


def test_unreachable_remote_is_remote_error(tmp_path: Path) -> None:
    with (
        GitBackend(str(tmp_path / "nowhere.git")) as backend,
        pytest.raises(RemoteError, match=r"nowhere\.git"),
    ):
        backend.read("main", "a.yaml")


def test_token_in_url_never_in_errors(tmp_path: Path) -> None:
    secret = "s3cr3t-token-value"
    with (
        GitBackend(f"http://user:{secret}@127.0.0.1:9/repo.git") as backend,
        pytest.raises(RemoteError) as info,
    ):
        backend.read("main", "a.yaml")
    # The credentials never reach git's URL, so errors name the server without them.
    assert secret not in info.value.message and "http://127.0.0.1:9/repo.git" in info.value.message


def test_history_lists_versions_newest_first(tmp_path: Path) -> None:
    remote = make_remote(tmp_path, {"api.yaml": VALUES, "other.yaml": "a: 1\n"})
    remote.commit({"api.yaml": VALUES.replace("v1", "v2")}, "v2")
    remote.commit({"other.yaml": "a: 2\n"}, "unrelated")
    remote.commit({"api.yaml": VALUES.replace("v1", "v3")}, "v3")
    with GitBackend(remote.url) as backend:
        backend.read("main", "api.yaml")  # a shallow fetch first: history must deepen it
        revisions = backend.history("main", "api.yaml")
    assert [r.content for r in revisions] == [VALUES.replace("v1", v).encode() for v in ("v3", "v2", "v1")]
    assert revisions[0].author == "Test Author <author@example.test>"
    assert revisions[0].date >= revisions[-1].date


def test_pull_request_mode_pushes_head_branch(tmp_path: Path) -> None:
    remote = make_remote(tmp_path, {"api.yaml": VALUES})
    spec = PullRequestSpec(head="updater/prod/api", title="t", body="b")
    request = CommitRequest("main", "bump", mode="pull-request", pull_request=spec)
    with GitBackend(remote.url) as backend:
        outcome = backend.apply(request, replace_line("api.yaml", b"v1", b"v2"))
    assert outcome.notes == ("pushed to branch updater/prod/api; open a pull request into main",)
    assert remote.show("api.yaml", branch="updater/prod/api") == VALUES.replace("v1", "v2").encode()
    assert remote.show("api.yaml") == VALUES.encode()


def test_files_backend_edits_in_place_and_has_no_history(tmp_path: Path) -> None:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s/api.yaml").write_text(VALUES)
    (tmp_path / "k8s/api.yaml").chmod(0o640)
    backend = FilesBackend(tmp_path)
    outcome = backend.apply(CommitRequest("ignored", "m"), replace_line("k8s/api.yaml", b"v1", b"v2"))
    assert outcome.changed and outcome.files == ("k8s/api.yaml",) and outcome.commit is None
    assert (tmp_path / "k8s/api.yaml").read_text() == VALUES.replace("v1", "v2")
    assert (tmp_path / "k8s/api.yaml").stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in (tmp_path / "k8s").iterdir()) == ["api.yaml"]
    again = backend.apply(CommitRequest("ignored", "m"), replace_line("k8s/api.yaml", b"v1", b"v2"))
    assert again.changed is False
    with pytest.raises(InputError, match="keeps no history"):
        backend.history("main", "k8s/api.yaml")
    assert backend.descends("main", "a" * 40, "a" * 40) is True  # no commits: only the same one
    assert backend.descends("main", "a" * 40, "b" * 40) is False


@pytest.mark.parametrize(
    ("environ", "given", "expected"),
    [
        (
            {"GIT_AUTHOR_NAME": "CI Bot", "GIT_AUTHOR_EMAIL": "ci@example.test"},
            None,
            "CI Bot <ci@example.test>",
        ),
        ({}, None, "updater <updater@users.noreply.localhost>"),  # the default
        ({"GIT_AUTHOR_NAME": "Half Set"}, None, "updater <updater@users.noreply.localhost>"),
        ({"GIT_AUTHOR_NAME": "CI Bot", "GIT_AUTHOR_EMAIL": "ci@example.test"}, "Cfg", "Cfg <cfg@x.test>"),
    ],
)
def test_author_from_config_else_environment_else_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], given: str | None, expected: str
) -> None:
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    remote = make_remote(tmp_path, {"api.yaml": VALUES})
    author = Author(given, f"{given.lower()}@x.test") if given else None
    with GitBackend(remote.url) as backend:
        backend.apply(CommitRequest("main", "bump", author=author), replace_line("api.yaml", b"v1", b"v2"))
    assert git("log", "-1", "--format=%an <%ae>", cwd=remote.bare).strip() == expected
    # Without a committer in the environment, the author commits too.
    assert git("log", "-1", "--format=%cn <%ce>", cwd=remote.bare).strip() == expected


def test_url_clone_is_shallow_until_history_deepens_it(tmp_path: Path) -> None:
    remote = make_remote(tmp_path, {"api.yaml": VALUES})
    for version in ("v2", "v3"):
        remote.commit({"api.yaml": VALUES.replace("v1", version)}, f"api {version}")
    with GitBackend(f"file://{remote.bare}") as backend:
        assert backend.read("main", "api.yaml") == VALUES.replace("v1", "v3").encode()
        assert git("rev-parse", "--is-shallow-repository", cwd=backend.dir).strip() == "true"
        assert git("rev-list", "--count", "refs/remotes/origin/main", cwd=backend.dir).strip() == "1"
        revisions = backend.history("main", "api.yaml")
        assert git("rev-parse", "--is-shallow-repository", cwd=backend.dir).strip() == "false"
    assert [r.content for r in revisions] == [VALUES.replace("v1", v).encode() for v in ("v3", "v2", "v1")]


def test_descends_between_commits_already_fetched_needs_no_remote(tmp_path: Path) -> None:
    """History's tie-breaks ask about commits the clone has: answered locally, the remote untouched."""
    remote = make_remote(tmp_path, {"api.yaml": VALUES})
    old = remote.head()
    new = remote.commit({"api.yaml": VALUES.replace("v1", "v2")}, "v2")
    with GitBackend(remote.url) as backend:
        backend.history("main", "api.yaml")
        remote.bare.rename(tmp_path / "gone.git")  # any fetch now fails
        assert backend.descends("main", old, new) is True
        assert backend.descends("main", new, old) is False
        with pytest.raises(RemoteError):  # a commit the clone lacks still needs the remote
            backend.descends("main", old, "f" * 40)


def test_history_after_a_write_still_sees_every_version(tmp_path: Path) -> None:
    """A write fetches the head alone (shallow): the history and ancestry after it fetch it all again."""
    remote = make_remote(tmp_path, {"api.yaml": VALUES})
    old = remote.head()
    with GitBackend(remote.url) as backend:
        assert len(backend.history("main", "api.yaml")) == 1
        backend.apply(CommitRequest("main", "v2"), replace_line("api.yaml", b"v1", b"v2"))
        backend.apply(CommitRequest("main", "v3"), replace_line("api.yaml", b"v2", b"v3"))
        assert [r.message for r in backend.history("main", "api.yaml")] == ["v3", "v2", "initial layout"]
        backend.apply(CommitRequest("main", "v4"), replace_line("api.yaml", b"v3", b"v4"))
        assert backend.descends("main", old, remote.head()) is True
