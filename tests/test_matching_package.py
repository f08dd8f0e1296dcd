"""The matching package's shape: the apply path stays light, and matching depends on the
services folder in one place only (no import cycle between the two)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "api" / "matching"


def test_the_apply_path_imports_no_index() -> None:
    heavy = ["creator_index", "brief_index", "sync", "shared", "ranking", "service"]
    code = (
        "import sys, api.services.applications\n"
        f"print(','.join(m for m in {heavy!r} if 'api.matching.' + m in sys.modules))"
    )
    # A fresh interpreter: this one has imported everything already.
    out = subprocess.run(  # noqa: S603 (our interpreter, our code)
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parents[1],
    )
    assert out.stdout.strip() == ""


def test_matching_imports_services_only_to_show_directory_profiles() -> None:
    importers = {}
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("api.services"):
                importers.setdefault(path.name, set()).update(a.name for a in node.names)
    assert importers == {"directory.py": {"account_read"}}
