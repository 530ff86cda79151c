"""Run the node unit tests of web/ (tests/web/*.test.mjs) as part of the Python suite."""

from __future__ import annotations

import shutil
import subprocess

from tests.web.conftest import ROOT


def test_web_unit_tests_pass_under_node() -> None:
    node = shutil.which("node")
    assert node is not None, "node is not installed (Node >= 20 runs the web client's unit tests)"
    done = subprocess.run([node, "--test", "tests/web/"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert "# fail 0" in report and "# pass 0" not in report, report


def test_reason_sentences_are_pythons_word_for_word() -> None:
    """web/e2e/reasons.js shows users exactly the sentences of hearth/e2e/reasons.py."""
    from hearth.e2e.reasons import Reason
    js = (ROOT / "web" / "e2e" / "reasons.js").read_text()
    for reason in Reason:
        quoted = reason.text.replace("'", "\\'")
        assert f"text: '{quoted}', retry: {str(reason.retry).lower()}" in js, reason
