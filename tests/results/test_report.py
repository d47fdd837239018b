"""The HTML report: self-contained, every chart drawn, checked in real headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from db import connect_sync
from db.report import CHARTS, render_report
from db.stats import EMULATOR_NOTE
from tests.results.test_stats import judge_one_under

ARTIFACTS = Path(__file__).parents[2] / "artifacts"
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "chromium is not installed: the report test renders the page in Debian's headless "
            "Chromium (apt-get install -y chromium; .ci/run installs it)"
        )
    return found


def _browser(page: Path, profile: Path, *args: str) -> str:
    cmd = [_chromium(), *BROWSER_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _check_dom(dom: str) -> None:
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None
    assert 'data-ok="1"' in body.group(0), body.group(0)
    assert "data-error" not in body.group(0), body.group(0)
    for name in CHARTS:
        fig = re.search(rf'<figure data-chart="{name}"[^>]*>(.*?)</figure>', dom, re.S)
        assert fig is not None, name
        assert 'data-drawn="1"' in fig.group(0)[:120], name
        assert re.search(r"<(rect|polyline|line|path|circle)\b", fig.group(1)), name


def test_report_is_self_contained(results_db: Path) -> None:
    html = render_report(connect_sync(results_db))
    for name in CHARTS:
        assert f'data-chart="{name}"' in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    assert "<script src" not in html and "<link" not in html
    assert EMULATOR_NOTE in html
    assert "Comparative Analysis" in html


def test_report_names_the_verdicts_contract_and_checks_the_profile(results_db: Path) -> None:
    conn = connect_sync(results_db)
    with pytest.raises(ValueError, match="no verdicts under profile 'original'"):
        render_report(conn, profile="original")
    judge_one_under(conn, "original", "test-v2")
    html = render_report(conn, profile="original")
    assert "verdicts under contract test-v2; the run&#x27;s contract test-v1" in html


def test_empty_report_draws_no_data_panels(tmp_path: Path) -> None:
    html = render_report(connect_sync(tmp_path / "empty.db"))
    assert html.count("no data") >= len(CHARTS) - 1  # novel: "no novel categories"
    assert "no run recorded yet" in html


@pytest.mark.slow
def test_report_renders_in_headless_chromium(results_db: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_report(connect_sync(results_db)), encoding="utf-8")
    _check_dom(_browser(page, tmp_path / "profile", "--dump-dom"))
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    _browser(page, tmp_path / "profile2", f"--screenshot={shot}", "--window-size=1300,2600")
    assert shot.exists() and shot.stat().st_size > 10_000


@pytest.mark.slow
def test_empty_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "empty.html"
    page.write_text(render_report(connect_sync(tmp_path / "empty.db")), encoding="utf-8")
    _check_dom(_browser(page, tmp_path / "profile", "--dump-dom"))
