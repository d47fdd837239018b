"""The HTML report: self-contained, every chart drawn, checked in real headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from html import escape as html_escape
from pathlib import Path

import pytest

from parallelprompt.db import connect_sync
from parallelprompt.results.report import CHARTS, funnel, line, nice_ticks, render_report
from parallelprompt.results.stats import EMULATOR_NOTE, active_seconds, compute_stats, throughput
from tests.results.conftest import LMSYS, WILDCHAT
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
            "Chromium (apt-get install -y chromium; `make test` installs it when run as root)"
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
    assert html_escape(EMULATOR_NOTE) in html  # the one notice (common.provenance), escaped
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


def test_funnel_stages_are_shares_of_the_previous_stage() -> None:
    svg = funnel("f", [("rows", 1000), ("unique", 500), ("processed", 250), ("passed", 0)])
    assert "1,000 (100%)" in svg
    assert "500 (50.0%)" in svg
    assert "250 (50.0%)" in svg  # of the 500 above, not of the 1,000 at the top
    assert "0 (0.0%)" in svg
    assert "% of the stage above" in svg


def test_axes_have_round_ticks() -> None:
    assert nice_ticks(0, 9.3) == [0, 2.5, 5, 7.5, 10]
    assert nice_ticks(0, 412) == [0, 200, 400, 600]
    assert nice_ticks(0, 400) == [0, 100, 200, 300, 400]
    svg = line("t", [(0.0, 0.0), (60.0, 3.0), (120.0, 7.0)], x_label="x", y_label="y")
    y_labels = re.findall(r'<text x="60\.0" [^>]*text-anchor="end">([^<]*)</text>', svg)
    assert len(y_labels) >= 4, svg
    x_ticks = re.findall(r'class="axis"/><text [^>]*text-anchor="middle">([^<]*)</text>', svg)
    assert len(x_ticks) >= 4, svg


def test_report_has_run_date_sources_and_one_throughput(results_db: Path) -> None:
    conn = connect_sync(results_db)
    stats = compute_stats(conn)
    html = render_report(conn)
    started = datetime.fromtimestamp(stats["run"]["created_at"], UTC).strftime("%Y-%m-%dT")
    assert f"started {started}" in html
    fig = re.search(r'<figure data-chart="sources".*?</figure>', html, re.S)
    assert fig is not None and LMSYS in fig.group(0) and WILDCHAT in fig.group(0)
    per_s = stats["throughput"]["prompts_per_s"]
    assert f"run: {per_s:,.2f} prompts/s" in html  # the chart's line is the stats figure


def test_throughput_is_prompts_per_second_of_worker_time() -> None:
    # two workers overlapping, then a resumed session after a long pause
    sessions = [(100.0, 160.0), (130.0, 190.0), (10_000.0, 10_030.0)]
    assert active_seconds(sessions) == 90.0 + 30.0
    assert throughput(240, active_seconds(sessions)) == 2.0
    assert throughput(5, 0.0) is None
