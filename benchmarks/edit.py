"""Time `set_value` on a 20,000+-line values file against ruamel.yaml's round-trip load + dump.

Prints both times and their ratio (target <= 1.0), best of 3 runs each, with ruamel's C parser when
ruamel.yaml.clib is installed and, in a child process that cannot import it, without.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testing import yamlgen
from updater.yamledit import Locator, set_value

LINES = 20_000


def values_file() -> str:
    """Return a realistic values file: one block per service (image, env, resources, comments)."""
    services = []
    for i in range(LINES // 14 + 1):
        image = yamlgen.Map(
            (
                ("repository", yamlgen.Scalar(f"europe-docker.pkg.dev/p/r/svc{i}")),
                ("tag", yamlgen.Scalar(f"v1.{i}.0", '"')),
                ("pullPolicy", yamlgen.Scalar("IfNotPresent")),
            )
        )
        env = yamlgen.Seq(
            (
                yamlgen.Map((("name", yamlgen.Scalar("LOG_LEVEL")), ("value", yamlgen.Scalar("info", "'")))),
                yamlgen.Map(
                    (("name", yamlgen.Scalar("B")), ("value", yamlgen.Scalar("1.10", '"'))), flow=True
                ),
            )
        )
        limits = yamlgen.Map(
            (("cpu", yamlgen.Scalar("100m")), ("memory", yamlgen.Scalar("128Mi"))), flow=True
        )
        service = yamlgen.Map(
            (
                ("enabled", yamlgen.Scalar("true")),
                ("replicas", yamlgen.Scalar(str(i % 5))),
                ("image", image),
                ("env", env),
                ("resources", yamlgen.Map((("limits", limits),))),
            )
        )
        services.append((f"svc{i}", service))
    layout = yamlgen.Layout(comment_every=4, blank_every=9)
    return yamlgen.render(yamlgen.Map(tuple(services)), layout).text


def best(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure() -> None:
    from ruamel.yaml import YAML, main

    text = values_file()
    middle = text.count("\n") // 2
    key = f"svc{middle // 16}.image.tag"

    def round_trip() -> None:
        yaml = YAML()
        out = io.StringIO()
        yaml.dump(yaml.load(text), out)

    new, changes = set_value(text, Locator(key=key), "2.10")
    assert changes[0].changed and len(new) == len(text) + 1 - len(changes[0].old or "") + 3
    edit = best(lambda: set_value(text, Locator(key=key), "2.10"))
    rt = best(round_trip)
    parser = "C parser (ruamel.yaml.clib)" if getattr(main, "CParser", None) else "pure-Python parser only"
    lines = text.count("\n") + 1
    print(f"{parser}: {lines} lines, set one tag {edit:.3f} s, ruamel round-trip load+dump {rt:.3f} s")
    print(f"  ratio edit / round-trip = {edit / rt:.2f} (target <= 1.0)")


if __name__ == "__main__":
    if sys.argv[1:] == ["--no-clib"]:
        sys.modules["_ruamel_yaml"] = None  # type: ignore[assignment]  # as if the wheel were absent
        sys.modules["_ruamel_yaml_clibz"] = None  # type: ignore[assignment]
        measure()
    else:
        measure()
        subprocess.run([sys.executable, __file__, "--no-clib"], check=True)
