"""Does an Argo CD Application read our repository, branch and values file? (`config validate --deep`)

Pure: given the Application's `spec.source(s)` and where updater writes (repository URL, branch, file
relative to the repository root), return what does not match. A Helm source names values files
relative to its `path` (`helm.valueFiles`), or, in a multi-source app, as `$REF/path` in another
source whose `ref` is REF (https://argo-cd.readthedocs.io/en/stable/user-guide/multiple_sources/);
a plain directory or Kustomize source reads every file under its `path`.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import urlsplit

from updater.deploy.application import Application, Source, printable


def same_repository(a: str, b: str) -> bool:
    """True when two git URLs (https, ssh, scp-like, file:// or a path) name the same repository."""
    return _key(a) == _key(b)


def _key(url: str) -> str:
    url = url.strip()
    scp = re.match(r"^[\w.-]+@([\w.-]+):(?!//)(.*)$", url)
    if scp:
        host, path = scp.group(1), scp.group(2)
    elif "://" in url:
        parts = urlsplit(url)
        host, path = (parts.hostname or ""), parts.path
    else:
        host, path = "", url
    path = path.rstrip("/").removesuffix(".git").rstrip("/")
    return f"{host.lower()}/{path.lstrip('/')}" if host else posixpath.normpath(path)


def problems(app: Application, repo_url: str, branch: str, file: str) -> list[str]:
    """Return why `app` would not deploy `file` of `repo_url` at `branch` (empty: it would)."""
    ours = [s for s in app.sources if same_repository(s.repo_url, repo_url)]
    if not ours:
        seen = ", ".join(printable(s.repo_url) for s in app.sources) or "no source"
        return [f"its source is {seen}, not {printable(repo_url)}"]
    found: list[str] = []
    reading = [s for s in app.sources if _reads(s, ours, file)]
    if not reading:
        where = "; ".join(_describe(s) for s in app.sources)
        found.append(f"no source reads {file} ({where})")
    for source in ours:
        if source.target_revision not in (branch, f"refs/heads/{branch}"):
            revision = printable(source.target_revision or "HEAD")
            found.append(f"targetRevision is {revision}, not branch {branch}")
    return found


def _reads(source: Source, ours: list[Source], file: str) -> bool:
    for value_file in source.value_files:
        if value_file.startswith("$"):
            ref, _, rest = value_file[1:].partition("/")
            if any(s.ref == ref for s in ours) and posixpath.normpath(rest) == file:
                return True
        elif source in ours and posixpath.normpath(posixpath.join(source.path or ".", value_file)) == file:
            return True
    if source in ours and not source.chart and not source.value_files:
        base = posixpath.normpath(source.path or ".")
        return base == "." or file.startswith(base + "/")
    return False


def _describe(source: Source) -> str:
    files = ", ".join(source.value_files) or "-"
    return f"{printable(source.repo_url)} path {printable(source.path or '.')} valueFiles {printable(files)}"
