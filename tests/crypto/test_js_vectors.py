"""Run the node suite (tests/js) so that the Python test command covers the JS twin too.

tests/js loads the same vector files as tests/crypto and runs them through web/crypto
(WebCrypto only); a failure here shows node's own report.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
MIN_NODE = 20


def test_node_suite_passes() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node is not installed: web/crypto is tested with `node --test tests/js/` "
            f"(Node >= {MIN_NODE}, for WebCrypto Ed25519/X25519); install nodejs and rerun"
        )
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()
    major = int(version.lstrip("v").split(".")[0])
    assert major >= MIN_NODE, f"node {version} is too old: web/crypto needs Node >= {MIN_NODE}"
    result = subprocess.run(
        [node, "--test", "tests/js/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
    )
    report = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"node --test tests/js/ failed ({version}):\n{report}", pytrace=False)
    assert "# fail 0" in report, report
