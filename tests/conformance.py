"""Conformance run: `updater set` on every case of the shared corpus of real Helm values files.

Usage: python tests/conformance.py ../shared/corpus

The corpus is read in place. Each case is set to `prod-docs-123abc` and to `2.10` on a temporary
copy, by running the `updater` console script once per case. A case passes when exactly one line differs, the
difference lies inside the target scalar, and the file loads under YAML 1.2 and YAML 1.1 to the
original data with only the target replaced by the string. This checks the editor independently:
with loaders, not the event comparison the editor verifies itself with. Prints "N passed, M failed"
and exits 1 on any failure.
"""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testing.yamlgen import load
from updater.domain.keypath import format_key_path

VALUES = ("prod-docs-123abc", "2.10")


def normal(value: Any) -> Any:
    """Return a form of loaded data that compares equal when the data is equal (NaN included)."""
    if isinstance(value, dict):
        return {repr(normal(k)): normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normal(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "<nan>"
    return (type(value).__name__, value)


def replaced(docs: list[Any], case: dict[str, Any], value: str) -> list[Any]:
    """Return a copy of the loaded documents with the case's target set to `value`.

    The deep copy keeps the sharing that anchors, aliases and merge keys create, so a value the file
    shares through an anchored block changes everywhere it is used, as it does when the file is read.
    """
    docs = copy.deepcopy(docs)
    node = docs[case["doc"]]
    for seg in case["path"][:-1]:
        node = node[seg]
    node[case["path"][-1]] = value
    return docs


def _common(a: bytes, b: bytes) -> int:
    """Return the length of the common prefix of two byte strings."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def check_line(old: bytes, new: bytes, case: dict[str, Any], value: str) -> str | None:
    """Return why the byte change is not exactly one line, inside the target scalar; None if it is."""
    old_lines, new_lines = old.split(b"\n"), new.split(b"\n")
    if len(old_lines) != len(new_lines):
        return f"line count changed {len(old_lines)} -> {len(new_lines)}"
    differing = [i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b]
    if differing != [case["line"] - 1]:
        return f"lines {[i + 1 for i in differing]} differ, expected only {case['line']}"
    a, b = old_lines[case["line"] - 1], new_lines[case["line"] - 1]
    prefix = _common(a, b)
    suffix = _common(a[prefix:][::-1], b[prefix:][::-1])
    removed, added = a[prefix : len(a) - suffix], b[prefix : len(b) - suffix]
    raw = case["raw"].encode("utf-8")
    spans = [i for i in range(len(a) + 1) if a.startswith(raw, i)]
    if not any(s <= prefix and prefix + len(removed) <= s + len(raw) for s in spans):
        return f"change {removed!r} -> {added!r} at column {prefix + 1} is outside the scalar {raw!r}"
    if value.encode() not in b:
        return f"new line {b!r} does not contain {value!r}"
    return None


# The console script users run, from the environment running this file (make conformance: .venv).
UPDATER = str(Path(sys.executable).with_name("updater"))


def run_file(item: tuple[str, str, list[dict[str, Any]]]) -> list[tuple[str, str | None]]:
    """Run every case of one corpus file (both values); return (case name, failure or None) pairs."""
    corpus, name, cases = item
    original = (Path(corpus) / "values" / name).read_bytes()
    data = {version: load(original.decode(), version) for version in ((1, 2), (1, 1))}
    results: list[tuple[str, str | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for number, (case, value) in enumerate((c, v) for c in cases for v in VALUES):
            target = Path(tmp) / str(number) / name
            target.parent.mkdir()
            target.write_bytes(original)
            argv = ["set", "--document", str(case["doc"]), str(target), format_key_path(case["path"]), value]
            runs.append((case, value, target, argv))
        for case, value, target, argv in runs:
            proc = subprocess.run([UPDATER, *argv], capture_output=True, text=True)
            code, stderr = proc.returncode, proc.stderr
            label = f"{name} {format_key_path(case['path'])} = {value}"
            if code != 0:
                results.append((label, f"exit {code}: {stderr.strip()}"))
                continue
            new = target.read_bytes()
            problem = check_line(original, new, case, value)
            for version, before in data.items():
                if problem is None and normal(load(new.decode(), version)) != normal(
                    replaced(before, case, value)
                ):
                    problem = f"YAML {version} data differs beyond the target"
            results.append((label, problem))
    return results


def main(argv: list[str]) -> int:
    corpus = argv[1] if len(argv) > 1 else "../shared/corpus"
    if not (Path(corpus) / "cases.json").is_file():
        print(
            f"conformance: no corpus at {corpus} (no cases.json): pass the corpus directory", file=sys.stderr
        )
        return 2
    cases = json.loads((Path(corpus) / "cases.json").read_text(encoding="utf-8"))
    by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in cases:
        by_file[case["file"]].append(case)
    items = sorted(((corpus, f, c) for f, c in by_file.items()), key=lambda i: -len(i[2]))
    started = time.perf_counter()
    workers = int(os.environ.get("CONFORMANCE_JOBS", min(4, os.cpu_count() or 1)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = [r for rs in pool.map(run_file, items) for r in rs]
    failed = [(label, why) for label, why in results if why is not None]
    for label, why in failed:
        print(f"FAIL {label}: {why}")
    print(
        f"{len(results) - len(failed)} passed, {len(failed)} failed ({time.perf_counter() - started:.0f} s)"
    )
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
