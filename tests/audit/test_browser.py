"""The audit page in headless Chromium: no console errors, and a screenshot with content."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labelmill.audit import audit

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium (/usr/bin/chromium) is not installed"
)


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Open `page` in a fresh profile; stdout holds a --dump-dom, stderr the console log."""
    profile.mkdir(parents=True, exist_ok=True)
    command = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)


def console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def test_console_capture_sees_errors(tmp_path: Path) -> None:
    """A page that throws is caught, so a clean result below means something."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>notDefined();</script></body></html>")
    result = chromium(bad, tmp_path / "profile", "--dump-dom")
    assert any("notDefined" in line for line in console_errors(result.stderr))


def test_page_renders_without_console_errors(
    hand_build: Path, gold_csv: Path, tmp_path: Path
) -> None:
    audit(str(hand_build), str(tmp_path / "report"), str(gold_csv))
    page = tmp_path / "report" / "index.html"
    dom = chromium(page, tmp_path / "p1", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert console_errors(dom.stderr) == []
    assert "<h2>Suspect samples</h2>" in dom.stdout
    shot = tmp_path / "shot.png"
    result = chromium(page, tmp_path / "p2", f"--screenshot={shot}", "--window-size=1280,4000")
    assert result.returncode == 0, result.stderr[-2000:]
    assert console_errors(result.stderr) == []
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape == (4000, 1280, 3)
    # plots and text, not an empty page: many distinct colours, and ink in the top screen
    packed = pixels.astype(np.uint32) @ np.array([1 << 16, 1 << 8, 1], dtype=np.uint32)
    assert len(np.unique(packed)) > 500
    assert (pixels[:800] < 100).all(axis=2).mean() > 0.002
