"""One self-contained HTML report of a run: inline SVG charts, no network, no JS library.

Every chart is a ``<figure data-chart="NAME">`` holding one SVG; a chart without data draws
an explicit "no data" panel instead. A few lines of inline JS check, once the page has
loaded, that every chart drew something (``body[data-ok="1"]``) and record any script error
(``body[data-error]``): the browser test reads both from the rendered DOM.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from parallelprompt.db import readside
from parallelprompt.results.document import Stats
from parallelprompt.results.stats import read_stats_rows, shape_stats
from parallelprompt.results.text import contract_label, format_cache

CHARTS = (
    "funnel",
    "categories",
    "pass_rate",
    "tiers",
    "languages",
    "sources",
    "novel_emergence",
    "throughput",
    "cost",
    "failure_reasons",
)
WIDTH = 560
ROW = 22
LABEL_W = 170
BAR_W = 170
TIME_BUCKETS = 40
TOP = 15
COLORS = {
    "bar": "#4c78a8",
    "pass": "#54a24b",
    "high": "#2e7d32",
    "medium": "#9ccc65",
    "fail": "#e45756",
    "line": "#f58518",
    "muted": "#9e9e9e",
}

Bar = tuple[str, float, str]  # label, value, text shown after the bar


# -- SVG primitives (pure) --------------------------------------------------------------------


def _svg(height: float, body: str, title: str) -> str:
    h = int(height)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {h}" width="{WIDTH}" '
        f'height="{h}" role="img" aria-label="{escape(title)}">{body}</svg>'
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{klass}>{escape(text)}</text>'


def no_data(title: str, message: str = "no data") -> str:
    body = f'<rect x="1" y="1" width="{WIDTH - 2}" height="78" rx="6" class="empty"/>' + _text(
        WIDTH / 2, 45, message, anchor="middle", cls="muted"
    )
    return _svg(80, body, title)


def hbars(title: str, bars: Sequence[Bar], color: str, max_value: float | None = None) -> str:
    """Horizontal bars, one per row, labelled on the left, value text on the right."""
    if not bars or all(v <= 0 for _, v, _ in bars):
        return no_data(title)
    top = max_value or max(v for _, v, _ in bars)
    parts = []
    for i, (label, value, shown) in enumerate(bars):
        y = 6 + i * ROW
        w = max(BAR_W * value / top, 1.0) if top > 0 else 1.0
        parts.append(_text(LABEL_W - 6, y + 14, _clip(label, 30), anchor="end"))
        parts.append(
            f'<rect x="{LABEL_W}" y="{y + 2}" width="{w:.1f}" height="{ROW - 6}" '
            f'fill="{color}"><title>{escape(label)}: {escape(shown)}</title></rect>'
        )
        parts.append(_text(LABEL_W + w + 6, y + 14, shown))
    return _svg(12 + len(bars) * ROW, "".join(parts), title)


def funnel(title: str, stages: Sequence[tuple[str, int]]) -> str:
    """Each stage's bar is scaled to the first stage; its text gives the count and its share of
    the stage before it (the first stage: 100 %)."""
    if not stages or stages[0][1] <= 0:
        return no_data(title)
    top = stages[0][1]
    parts = []
    previous = top
    for i, (label, value) in enumerate(stages):
        y = 6 + i * (ROW + 6)
        w = max(240 * value / top, 1.0)
        x = LABEL_W + (240 - w) / 2
        share = f"{value / previous * 100:.1f}%" if i else "100%"
        parts.append(_text(LABEL_W - 8, y + 15, label, anchor="end"))
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{ROW}" rx="3" '
            f'fill="{COLORS["bar"]}" opacity="{1 - i * 0.1:.2f}"/>'
        )
        parts.append(_text(LABEL_W + 248, y + 15, f"{value:,} ({share})"))
        previous = value if value > 0 else previous
    height = 12 + len(stages) * (ROW + 6)
    parts.append(_text(LABEL_W + 248, height + 6, "% of the stage above", cls="muted"))
    return _svg(height + 14, "".join(parts), title)


def stacked(title: str, segments: Sequence[tuple[str, int, str]]) -> str:
    total = sum(v for _, v, _ in segments)
    if total <= 0:
        return no_data(title)
    parts, x = [], 10.0
    for label, value, color in segments:
        w = (WIDTH - 20) * value / total
        parts.append(
            f'<rect x="{x:.1f}" y="10" width="{w:.1f}" height="36" fill="{color}">'
            f"<title>{escape(label)}: {value:,}</title></rect>"
        )
        x += w
    legend_x = 10.0
    for label, value, color in segments:
        parts.append(f'<rect x="{legend_x:.1f}" y="58" width="12" height="12" fill="{color}"/>')
        text = f"{label}: {value:,} ({value / total * 100:.1f}%)"
        parts.append(_text(legend_x + 18, 69, text))
        legend_x += 270
    return _svg(80, "".join(parts), title)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values (1, 2, 2.5 or 5 x 10^k apart) covering [lo, hi]."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [math.floor(lo / step) * step]
    while ticks[-1] < hi:  # the last tick at or above hi: the axis covers every point
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def line(
    title: str,
    points: Sequence[tuple[float, float]],
    *,
    x_label: str,
    y_label: str,
    fmt_x: Any = None,
    fmt_y: Any = None,
    reference: tuple[float, str] | None = None,
) -> str:
    """A polyline on axes with round ticks and light grid lines; ``reference`` draws a dashed
    horizontal line at a value, labelled (e.g. the average)."""
    if len(points) < 2:
        return no_data(title)
    fx = fmt_x or (lambda v: f"{v:,.0f}")
    fy = fmt_y or (lambda v: f"{v:,.0f}")
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y_ticks = nice_ticks(0.0, max(max(p[1] for p in points), reference[0] if reference else 0.0))
    y1 = max(y_ticks[-1], 1e-12)
    left, right, top, bottom = 64.0, WIDTH - 20.0, 26.0, 176.0

    def sx(x: float) -> float:
        return left + (right - left) * ((x - x0) / (x1 - x0) if x1 > x0 else 0.0)

    def sy(y: float) -> float:
        return bottom - (bottom - top) * (y / y1)

    parts = [
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" class="axis"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" class="axis"/>',
    ]
    for t in y_ticks:
        y = sy(t)
        if t > 0:
            parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" class="grid"/>')
        parts.append(_text(left - 4, y + 4, fy(t), anchor="end"))
    for t in nice_ticks(x0, x1, 6):  # only those inside the range are drawn
        if x0 <= t <= x1:
            x = sx(t)
            parts.append(
                f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" class="axis"/>'
            )
            parts.append(_text(x, bottom + 16, fx(t), anchor="middle"))
    pts = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points)
    parts.append(
        f'<polyline points="{pts}" fill="none" stroke="{COLORS["line"]}" stroke-width="2"/>'
    )
    if reference is not None:
        y = sy(reference[0])
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" class="ref"/>'
            + _text(right, y - 4, reference[1], anchor="end", cls="muted")
        )
    parts.append(_text((left + right) / 2, bottom + 32, x_label, anchor="middle", cls="muted"))
    parts.append(_text(left, 12, y_label, cls="muted"))
    return _svg(214, "".join(parts), title)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v * 100:.1f}%"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.3g} min"
    return f"{seconds / 3600:.3g} h"


# -- charts from the statistics (pure) --------------------------------------------------------


def chart_funnel(stats: Stats) -> str:
    d = stats["dedup"]
    stages = [
        ("source rows ingested", d["corpus_source_rows"]),
        ("unique prompts", d["corpus_unique_prompts"]),
        ("processed", stats["processed"]["prompts"]),
        ("classified parallelizable", stats["total_classified_as_parallelizable"]),
        ("passed validation", stats["passed_validation"]),
        ("high confidence", stats["tiers"]["high_confidence"]),
    ]
    return funnel("outcome funnel", stages)


def chart_categories(stats: Stats) -> str:
    bars = [
        (c["category"] + (" *" if c["is_novel"] else ""), c["classified"], f"{c['classified']:,}")
        for c in stats["categories"][:TOP]
    ]
    return hbars("category distribution", bars, COLORS["bar"])


def chart_pass_rate(stats: Stats) -> str:
    bars = [
        (
            c["category"],
            float(c["pass_rate"] or 0.0),
            f"{_pct(c['pass_rate'])} ({c['passed']:,}/{c['classified']:,})",
        )
        for c in stats["categories"][:TOP]
    ]
    return hbars("pass rate by category", bars, COLORS["pass"], max_value=1.0)


def chart_tiers(stats: Stats) -> str:
    t = stats["tiers"]
    return stacked(
        "tier split",
        [
            ("high_confidence", t["high_confidence"], COLORS["high"]),
            ("medium_confidence", t["medium_confidence"], COLORS["medium"]),
        ],
    )


def chart_languages(stats: Stats) -> str:
    bars = [
        (
            lang["language"],
            lang["source_rows"],
            f"{lang['source_rows']:,} rows · passed {_pct(lang['pass_rate'])}",
        )
        for lang in stats["languages"][:TOP]
    ]
    return hbars("languages", bars, COLORS["bar"])


def chart_sources(stats: Stats) -> str:
    bars = [
        (
            src["source"],
            src["source_rows"],
            f"{src['source_rows']:,} rows, {src['passed']:,} passed ({_pct(src['pass_rate'])})",
        )
        for src in stats["sources"][:TOP]
    ]
    return hbars("source datasets", bars, COLORS["bar"])


def chart_novel(stats: Stats) -> str:
    firsts = sorted(
        n["first_seen_after_prompts"]
        for n in stats["novel_categories"]
        if n["first_seen_after_prompts"]
    )
    if not firsts:
        return no_data("novel-category emergence", "no novel categories")
    points: list[tuple[float, float]] = [(0.0, 0.0)]
    for i, pos in enumerate(firsts):
        points += [(float(pos), float(i)), (float(pos), float(i + 1))]
    points.append((float(max(stats["processed"]["prompts"], firsts[-1])), float(len(firsts))))
    return line(
        "novel-category emergence",
        points,
        x_label="prompts processed",
        y_label="distinct novel labels",
    )


def chart_throughput(
    timeline: Sequence[tuple[float, int, int, float]], stats: Stats | None = None
) -> str:
    """Prompts/s per time bucket, and the run's throughput (``stats``'s figure) as a dashed
    line: one definition everywhere, see :func:`results.stats.throughput`."""
    if not timeline:
        return no_data("throughput over time")
    bucket = (timeline[1][0] - timeline[0][0]) if len(timeline) > 1 else 1.0
    points = [(t, n / bucket) for t, n, _tok, _c in timeline]
    points.append((points[-1][0] + bucket, points[-1][1]))  # the last bucket's extent
    average = None if stats is None else stats["throughput"]["prompts_per_s"]
    reference = None if average is None else (float(average), f"run: {average:,.2f} prompts/s")
    return line(
        "throughput over time",
        points,
        x_label="time since the first result",
        y_label="prompts/s",
        fmt_x=_duration,
        fmt_y=_number,
        reference=reference,
    )


def _number(v: float) -> str:
    if v >= 100 or v == int(v):
        return f"{v:,.0f}"
    return f"{v:,.2f}".rstrip("0").rstrip(".")


def chart_cost(timeline: Sequence[tuple[float, int, int, float]]) -> str:
    if not timeline:
        return no_data("cost over time")
    bucket = (timeline[1][0] - timeline[0][0]) if len(timeline) > 1 else 1.0
    total, points = 0.0, [(timeline[0][0], 0.0)]
    for t, _n, _tok, cost in timeline:
        total += cost
        points.append((t + bucket, total))
    return line(
        "cumulative cost",
        points,
        x_label="time since the first result",
        y_label="USD",
        fmt_x=_duration,
        fmt_y=lambda v: f"${v:,.4g}",
    )


def chart_failure_reasons(stats: Stats) -> str:
    merged = [
        (f"{kind}: {reason}", n)
        for kind, reasons in (
            ("failed", stats["failure_reasons"]),
            ("unparseable", stats["unparseable_reasons"]),
            ("dead", stats["dead_reasons"]),
        )
        for reason, n in reasons.items()
    ]
    merged.sort(key=lambda kv: -kv[1])
    bars = [(label, n, f"{n:,}") for label, n in merged[:TOP]]
    return hbars("top failure reasons", bars, COLORS["fail"])


# -- the page ---------------------------------------------------------------------------------

TITLES = {
    "funnel": "Outcome funnel (each stage as a share of the one before)",
    "categories": "Category distribution (classified parallelizable; * novel)",
    "pass_rate": "Pass rate by category",
    "tiers": "Tier split of the prompts that passed",
    "languages": "Languages (source rows)",
    "sources": "Source datasets (source rows; passed of parallelizable)",
    "novel_emergence": "Novel-category emergence",
    "throughput": "Throughput over time",
    "cost": "Cost over time",
    "failure_reasons": "Top failure reasons",
}

STYLE = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;
background:#fafafa}
h1{font-size:22px;margin:0 0 4px}.sub{color:#666;margin-bottom:12px}
.note{background:#fff3cd;border:1px solid #e0c36a;padding:8px 12px;border-radius:6px;margin:8px 0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(600px,1fr));gap:16px}
figure{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px;margin:0}
figcaption{font-weight:600;margin-bottom:8px}
svg text{font-size:12px;fill:#333}svg text.muted{fill:#888}
svg .axis{stroke:#999;stroke-width:1}svg .grid{stroke:#eee;stroke-width:1}
svg .ref{stroke:#666;stroke-width:1;stroke-dasharray:5 4}svg rect.empty{fill:#f4f4f4;stroke:#bbb;
stroke-dasharray:4 3}
table{border-collapse:collapse;background:#fff;margin:8px 0 16px}
td,th{border:1px solid #ddd;padding:4px 10px;text-align:left}td.n{text-align:right}
"""

CHECK_JS = """
window.addEventListener('error', function (e) {
  document.body.setAttribute('data-error', String(e.message || 'script error'));
});
document.addEventListener('DOMContentLoaded', function () {
  var charts = document.querySelectorAll('[data-chart]');
  var ok = charts.length > 0;
  charts.forEach(function (c) {
    var svg = c.querySelector('svg');
    var shapes = svg ? svg.querySelectorAll('rect,path,polyline,line,circle').length : 0;
    var box = svg ? svg.getBBox() : null;
    var drew = shapes > 0 && box !== null && box.width > 0 && box.height > 0;
    c.setAttribute('data-drawn', drew ? '1' : '0');
    if (!drew) { ok = false; }
  });
  document.body.setAttribute('data-ok', ok ? '1' : '0');
});
"""


def _summary_table(stats: Stats) -> str:
    proc = stats["processed"]["prompts"]
    rows = "".join(
        f"<tr><td>{escape(o)}</td><td class=n>{n:,}</td>"
        f"<td class=n>{_pct(n / proc if proc else None)}</td></tr>"
        for o, n in stats["outcomes"].items()
    )
    tok = stats["tokens"]
    return (
        "<table><tr><th>outcome</th><th>prompts</th><th>share</th></tr>"
        f"{rows}<tr><th>processed</th><th class=n>{proc:,}</th><th></th></tr></table>"
        f"<p>Source rows: {stats['processed']['source_rows']:,}; calls saved by dedup: "
        f"{stats['dedup']['calls_saved']:,}. Tokens: {tok['input']:,} in, {tok['output']:,} out. "
        f"Cost: ${stats['cost_usd']:,.4f}. Original keys: classified parallelizable "
        f"{stats['total_classified_as_parallelizable']:,}, passed "
        f"{stats['passed_validation']:,}, failed {stats['failed_validation']:,}.</p>"
        + _cache_paragraph(stats)
    )


def _cache_paragraph(stats: Stats) -> str:
    line = format_cache(stats["cache"])
    return f"<p>{escape(line[0].upper() + line[1:])}.</p>" if line else ""


def _novel_table(stats: Stats) -> str:
    novel = stats["novel_categories"][:TOP]
    if not novel:
        return ""
    rows = "".join(
        f"<tr><td>{escape(n['label'])}</td><td>{escape(n['description'] or '')}</td>"
        f"<td class=n>{n['count']:,}</td><td class=n>{n['passed']:,}</td></tr>"
        for n in novel
    )
    return (
        "<h2>Novel categories</h2><table><tr><th>label</th><th>description</th>"
        f"<th>prompts</th><th>passed</th></tr>{rows}</table>"
    )


def _header(stats: Stats) -> str:
    run = stats["run"]
    if run is None:
        sub = "no run recorded yet"
    else:
        sub = (
            f"run {run['id']} · started {iso(run['created_at'])} · model {run['model_id']} via "
            f"{run['api']} · backend {run['backend']} · profile {stats['profile']} · "
            f"{contract_label(stats)}"
        )
        tp = stats["throughput"]
        if tp["first_result_at"] is not None:
            sub += (
                f" · results {iso(tp['first_result_at'])} to {iso(tp['last_result_at'])}"
                f" · throughput {_number(tp['prompts_per_s'] or 0.0)} prompts/s"
            )
    note = stats["backend_note"]
    banner = f'<div class="note">{escape(note)}</div>' if note else ""
    return f"<h1>parallelprompt report</h1><div class=sub>{escape(sub)}</div>{banner}"


def iso(unix: float | None) -> str:
    """Unix seconds as ISO 8601 in UTC, to the second (as the views show them, to the ms)."""
    if unix is None:
        return "-"
    return datetime.fromtimestamp(float(unix), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_charts(stats: Stats, timeline: Sequence[tuple[float, int, int, float]]) -> dict[str, str]:
    return {
        "funnel": chart_funnel(stats),
        "categories": chart_categories(stats),
        "pass_rate": chart_pass_rate(stats),
        "tiers": chart_tiers(stats),
        "languages": chart_languages(stats),
        "sources": chart_sources(stats),
        "novel_emergence": chart_novel(stats),
        "throughput": chart_throughput(timeline, stats),
        "cost": chart_cost(timeline),
        "failure_reasons": chart_failure_reasons(stats),
    }


def render_html(stats: Stats, timeline: Sequence[tuple[float, int, int, float]]) -> str:
    """The page, from the statistics document and the (seconds, prompts, tokens, cost)
    timeline buckets. Pure."""
    charts = build_charts(stats, timeline)
    figures = "".join(
        f'<figure data-chart="{name}"><figcaption>{escape(TITLES[name])}</figcaption>'
        f"{charts[name]}</figure>"
        for name in CHARTS
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>parallelprompt report</title>"
        f"<style>{STYLE}</style><script>{CHECK_JS}</script></head><body>"
        f"{_header(stats)}{_summary_table(stats)}<div class=grid>{figures}</div>"
        f"{_novel_table(stats)}</body></html>\n"
    )


def read_timeline(
    conn: sqlite3.Connection, stats: Stats, source: str | None = None
) -> list[tuple[float, int, int, float]]:
    tp, run = stats["throughput"], stats["run"]
    if run is None or tp["first_result_at"] is None:
        return []
    t0 = float(tp["first_result_at"])
    # about TIME_BUCKETS buckets, but a handful of results each, so a short run is no zigzag
    buckets = min(TIME_BUCKETS, max(int(stats["processed"]["prompts"]) // 5, 1))
    bucket = max(float(tp["results_span_s"]) / buckets, 1.0)
    rows = readside.timeline(conn, run["id"], source, t0=t0, bucket=bucket, buckets=buckets)
    # the last result sits exactly at the end of the span: in the last bucket, not a bucket
    # of its own (which would draw a false drop to nearly zero); trailing empty buckets go
    last = max((i for i, (n, _tok, _c) in enumerate(rows) if n), default=0)
    return [
        (i * bucket, int(n), int(tok), float(c)) for i, (n, tok, c) in enumerate(rows[: last + 1])
    ]


def render_report(
    conn: sqlite3.Connection, *, run_id: int | None = None, profile: str | None = None
) -> str:
    """The HTML report of a run (default: latest) under a profile (default: the run's)."""
    with readside.snapshot(conn):
        stats = shape_stats(read_stats_rows(conn, run_id=run_id, profile=profile))
        timeline = read_timeline(conn, stats)
    return render_html(stats, timeline)
