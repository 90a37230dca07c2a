"""The editor without ruamel.yaml.clib: the unit and property tests again, on the pure-Python parser.

ruamel.yaml.clib is optional; its absence is simulated in a child process (the import fails, as it
does when the wheel is not installed), which exercises the other parser's marks and readings.
"""

from __future__ import annotations

import os
import subprocess
import sys

CHILD = """
import sys
sys.modules["_ruamel_yaml"] = sys.modules["_ruamel_yaml_clibz"] = None  # as if not installed
from updater.yamledit import _tree
assert not _tree.has_c_parser()
import pytest
tests = ["tests/test_yamledit.py", "tests/test_yamledit_property.py"]
sys.exit(pytest.main(["-p", "no:cacheprovider", *tests]))
"""


def test_editor_without_the_c_parser() -> None:
    env = {**os.environ, "PROPERTY_EXAMPLES": "300"}
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    summary = result.stdout.splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "skipped" not in summary
