"""web/ui/qr.js draws the same QR code as Python's `qrcode` package, module for module.

Python's `qrcode` is the independent implementation: for each payload (the real safety
number's 65 bytes, and sizes on both sides of version boundaries, including where the
byte count grows to 16 bits and where version information appears), the JS module
must pick the same smallest version, and its matrix under each of the eight masks must
equal `qrcode`'s matrix forced to that version, level M and mask.

The mask JS picks is checked against the standard's penalty computed on `qrcode`'s
matrices. `qrcode`'s own pick is not the reference: it scores each mask with the
format and version information (and the always-dark module) left light, and it does
not count the quiet zone as light for finder-like patterns; ISO/IEC 18004 scores the
finished symbol, as qr.js does. So the reference penalty is `qrcode.util.lost_point`
(the same run, block, finder-like and balance rules) on `qrcode`'s finished matrix, plus
the finder-like patterns that need the quiet zone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import qrcode
import qrcode.util
from nacl.signing import SigningKey

from hearth.crypto.safety import QR_SIZE, qr_payload
from tests.web.conftest import ROOT

HERE = Path(__file__).resolve().parent

# (level-M byte capacity of a version, its version): one byte more needs the next version.
# 9 -> 10 widens the byte count to 16 bits, 7 adds version information, 32 is the version
# whose alignment pattern spacing breaks the general rule, 40 is the largest.
BOUNDARIES = [(14, 1), (26, 2), (42, 3), (62, 4), (84, 5), (122, 7), (180, 9), (213, 10),
              (331, 13), (1538, 32), (2331, 40)]


def safety_payload() -> bytes:
    mine = bytes(SigningKey(bytes(range(32))).verify_key)
    theirs = bytes(SigningKey(bytes(range(1, 33))).verify_key)
    return qr_payload(mine, theirs)


def payload(length: int, salt: int = 0) -> bytes:
    """Varied bytes (not a repeated value, which would favour one mask by accident)."""
    return bytes((i * 73 + salt * 29 + (i * i) % 251) % 256 for i in range(length))


def qrcode_matrix(data: bytes, version: int, mask: int) -> list[str]:
    qr = qrcode.QRCode(version=version, error_correction=qrcode.constants.ERROR_CORRECT_M,
                       mask_pattern=mask, border=0)
    # Force byte mode: qrcode would otherwise split digit or letter runs into other modes.
    qr.add_data(qrcode.util.QRData(data, mode=qrcode.util.MODE_8BIT_BYTE))
    qr.make(fit=False)
    return ["".join("1" if dark else "0" for dark in row) for row in qr.modules]


def qrcode_version(data: bytes) -> int:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(qrcode.util.QRData(data, mode=qrcode.util.MODE_8BIT_BYTE))
    return int(qr.best_fit())


def qrcode_own_mask(data: bytes) -> int:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(qrcode.util.QRData(data, mode=qrcode.util.MODE_8BIT_BYTE))
    qr.make()
    return int(qr.mask_pattern)


def standard_penalty(rows: list[str]) -> int:
    """`qrcode`'s rules on the finished symbol, plus finder-like patterns whose four light
    modules lie (partly) in the quiet zone, which `qrcode` does not look at."""
    score = int(qrcode.util.lost_point([[c == "1" for c in row] for row in rows]))
    size = len(rows)
    for line in rows + ["".join(col) for col in zip(*rows, strict=True)]:
        padded = "0000" + line + "0000"
        for i in range(len(padded) - 10):
            inside = i >= 4 and i + 11 <= size + 4
            if not inside and padded[i:i + 11] in ("00001011101", "10111010000"):
                score += 40
    return score


def run_js(cases: list[dict[str, Any]], tmp_path: Path) -> list[dict[str, Any]]:
    node = shutil.which("node")
    assert node is not None, "node is not installed (Node >= 20 runs the web client's modules)"
    file = tmp_path / "qr_cases.json"
    file.write_text(json.dumps(cases))
    done = subprocess.run([node, str(HERE / "run_qr.mjs"), str(file)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    answers: list[dict[str, Any]] = json.loads(done.stdout)
    return answers


def test_the_safety_payload_is_what_the_tests_use() -> None:
    assert len(safety_payload()) == QR_SIZE == 65


@pytest.mark.parametrize("data", [safety_payload(), payload(1), payload(14), payload(15),
                                  payload(181, 1), payload(122, 2)],
                         ids=["safety-65", "1", "14", "15", "181", "122"])
def test_every_mask_matches_qrcode(data: bytes, tmp_path: Path) -> None:
    answers = run_js([{"hex": data.hex(), "mask": m} for m in range(8)], tmp_path)
    version = qrcode_version(data)
    for mask, answer in enumerate(answers):
        assert (answer["version"], answer["mask"]) == (version, mask)
        assert answer["rows"] == qrcode_matrix(data, version, mask), f"mask {mask}"


def test_version_and_mask_choice(tmp_path: Path) -> None:
    sizes = [length + extra for length, _ in BOUNDARIES for extra in (0, 1)
             if length + extra <= BOUNDARIES[-1][0]]
    datas = [safety_payload()] + [payload(n, salt) for salt, n in enumerate(sizes)]
    answers = run_js([{"hex": d.hex(), "mask": None} for d in datas], tmp_path)
    assert {(len(d), a["version"]) for d, a in zip(datas, answers, strict=True)} >= set(BOUNDARIES)
    for data, answer in zip(datas, answers, strict=True):
        version, mask = answer["version"], answer["mask"]
        assert version == qrcode_version(data), len(data)
        assert answer["rows"] == qrcode_matrix(data, version, mask), len(data)
        reference = [standard_penalty(qrcode_matrix(data, version, m)) for m in range(8)]
        assert answer["penalties"] == reference, len(data)
        assert mask == reference.index(min(reference)), len(data)


def test_too_long_is_refused(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node is not None
    file = tmp_path / "qr_cases.json"
    file.write_text(json.dumps([{"hex": "00" * 2332, "mask": None}]))
    done = subprocess.run([node, str(HERE / "run_qr.mjs"), str(file)], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert done.returncode != 0
    assert "2332 bytes do not fit" in done.stderr
