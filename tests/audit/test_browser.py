"""The audit page in headless Chromium: no console errors, a screenshot with content, tiles that
show what metrics.json holds, n/a where a number is undefined, suspects with their sentence,
and a page that stays small."""

from __future__ import annotations

import json
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

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


class Tiles(HTMLParser):
    """The headline tiles of a rendered page: data-metric -> (shown number, full text)."""

    def __init__(self) -> None:
        super().__init__()
        self.tiles: dict[str, list[str]] = {}
        self.current: str | None = None
        self.depth = 0
        self.in_b = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs).get("data-metric")
        if found:
            self.current, self.depth = found, 0
            self.tiles[found] = ["", ""]
        if self.current:
            self.depth += 1
            self.in_b = tag == "b" or self.in_b

    def handle_endtag(self, tag: str) -> None:
        if self.current:
            self.depth -= 1
            self.in_b = self.in_b and tag != "b"
            if self.depth == 0:
                self.current = None

    def handle_data(self, data: str) -> None:
        if self.current:
            self.tiles[self.current][1] += data
            if self.in_b:
                self.tiles[self.current][0] += data


def shown(value: Any) -> str:
    """How the page writes a metrics value in a tile."""
    if value is None or (isinstance(value, dict) and value["rate"] is None):
        return "n/a"
    if isinstance(value, dict):
        return f"{100 * value['rate']:.1f}%"
    if isinstance(value, float):
        return f"{value:.3f}"
    return f"{value:,}"


def lookup(metrics: dict[str, Any], path: str) -> Any:
    value: Any = metrics
    for part in path.split("."):
        value = value[part]
    return value


def rendered(build: Path, out: Path, gold: Path | None = None) -> tuple[dict[str, Any], str]:
    """Audit `build` into `out` and return the metrics and the DOM Chromium builds from it."""
    metrics = audit(str(build), str(out), str(gold) if gold else None)
    dom = chromium(out / "index.html", out / "profile", "--dump-dom")
    assert dom.returncode == 0 and console_errors(dom.stderr) == [], dom.stderr[-2000:]
    return metrics, dom.stdout


def test_every_tile_shows_its_metrics_value(
    hand_build: Path, gold_csv: Path, tmp_path: Path
) -> None:
    metrics, dom = rendered(hand_build, tmp_path, gold_csv)
    parser = Tiles()
    parser.feed(dom)
    assert len(parser.tiles) == 9
    for path, (number, _) in parser.tiles.items():
        assert number == shown(lookup(metrics, path)), path
    # the agreement tile carries its k of n and interval
    text = parser.tiles["summary.agreement"][1]
    assert "7 of 13" in text and "95% CI" in text and "low support" in text


def test_an_undefined_kappa_shows_na_with_its_reason(tmp_path: Path, make_build: Any) -> None:
    """The issue's case: the manifest only votes 1 and agrees with the reports on most cells;
    kappa is then 0 by arithmetic, so the tile says n/a and why, and agreement is shown."""
    samples = {
        f"s{i}": {
            "site": "A",
            "manifest": [("a-raw", "A")],
            "reports": {"A": int(i != 3)},
            "rules": {},
            "final": {"A": 0.9},
        }
        for i in range(1, 6)
    }
    build = make_build(tmp_path / "build", samples)
    metrics, dom = rendered(build, tmp_path / "report")
    assert metrics["summary"]["mean_pairwise_kappa"] is None
    parser = Tiles()
    parser.feed(dom)
    number, text = parser.tiles["summary.mean_pairwise_kappa"]
    assert number == "n/a"
    assert "manifest votes only 1 on the 5 shared cells" in text
    assert parser.tiles["summary.agreement"][0] == "80.0%"
    assert parser.tiles["summary.gold_matched"][0] == "n/a"
    assert "0.000" not in parser.tiles["summary.mean_pairwise_kappa"][1]


def test_suspects_carry_their_deciding_sentence_and_pictures(
    hand_build: Path, gold_csv: Path, tmp_path: Path
) -> None:
    _, dom = rendered(hand_build, tmp_path, gold_csv)
    suspects = dom[dom.index('<section id="suspects">') :]
    suspects = suspects[: suspects.index("</section>")]
    assert "“There is <mark>finding B</mark>.”" in suspects  # s4's report sentence
    assert "source label “b raw”" in suspects  # s4's manifest vote and its raw string
    assert suspects.count('<img src="data:image/') >= 4 + 2  # thumbnails, and two map overlays
    assert 'href="suspects.csv"' in suspects


def test_page_size_of_a_demo_sized_build(sample_build: Path, tmp_path: Path) -> None:
    """The bundled sample (36 samples, photos and DICOM among them) stays far under 1 MB."""
    audit(str(sample_build), str(tmp_path))
    assert (tmp_path / "index.html").stat().st_size < 1_000_000
    assert json.loads((tmp_path / "metrics.json").read_text())["summary"]["samples"] == 36
