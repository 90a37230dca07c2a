"""Refresh README snippets from the files they show (`make readme`), or --check that they match.

A snippet is an HTML comment `<!-- snippet: PATH -->` followed by a fenced block whose body is the file
verbatim, so the README's examples are the very files the test suite validates.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNIPPET = re.compile(r"(<!-- snippet: (?P<path>\S+) -->\n```(?P<lang>[a-z]*)\n)(?P<body>.*?)(```\n)", re.S)


def refresh(readme: str, root: Path) -> str:
    """Return the README text with every snippet body replaced by its file's current text."""

    def body(match: re.Match[str]) -> str:
        text = (root / match["path"]).read_text(encoding="utf-8")
        if not text.endswith("\n"):
            text += "\n"
        return match.group(1) + text + match.group(5)

    return SNIPPET.sub(body, readme)


def main(argv: list[str]) -> int:
    readme_path = ROOT / "README.md"
    current = readme_path.read_text(encoding="utf-8")
    fresh = refresh(current, ROOT)
    if "--check" in argv:
        if fresh != current:
            print("README.md snippets differ from their files: run `make readme`", file=sys.stderr)
            return 1
        return 0
    if fresh != current:
        readme_path.write_text(fresh, encoding="utf-8")
        print("README.md snippets refreshed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
