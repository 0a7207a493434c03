"""Server-rendered SVG charts for the trial pages: no JavaScript, no CDN, readable without styles.

Each function takes plain numbers and returns safe SVG markup; every label is escaped."""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#1f6feb", "#d9480f", "#2f9e44", "#9c36b5", "#e8590c", "#0c8599"]
W, H = 640, 260
PAD_L, PAD_R, PAD_T, PAD_B = 48, 12, 14, 34


def _scale(value: float, lo: float, hi: float, out_lo: float, out_hi: float) -> float:
    if hi == lo:
        return out_lo
    return out_lo + (value - lo) * (out_hi - out_lo) / (hi - lo)


def _nice_max(value: float) -> float:
    """An axis end with round quarter ticks: 4 x (1, 2, 2.5 or 5 x 10^k) at or above value."""
    if value <= 0:
        return 1
    quarter = value / 4
    exp = 10 ** math.floor(math.log10(quarter))
    return 4 * next(m * exp for m in (1, 2, 2.5, 5, 10) if quarter <= m * exp + 1e-12)


def _frame(title: str, x_max: float, y_max: float, x_label: str, y_label: str, y_fmt=lambda v: f"{v:g}",
           x_ticks: list[tuple[float, str]] | None = None) -> list[str]:
    """Axes, grid and labels. `x_ticks` [(x, label)] overrides the default five even ticks."""
    parts = [
        f'<svg viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}" class="chart" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{PAD_L}" y1="{H - PAD_B}" x2="{W - PAD_R}" y2="{H - PAD_B}" stroke="#999"/>',
        f'<line x1="{PAD_L}" y1="{PAD_T}" x2="{PAD_L}" y2="{H - PAD_B}" stroke="#999"/>',
    ]
    for i in range(5):
        v = y_max * i / 4
        y = _scale(v, 0, y_max, H - PAD_B, PAD_T)
        parts.append(f'<line x1="{PAD_L}" y1="{y:.1f}" x2="{W - PAD_R}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#666">{escape(y_fmt(v))}</text>')
    if x_ticks is None:
        x_ticks = [(x_max * i / 4, f"{x_max * i / 4:.3g}") for i in range(5)]
    for v, label in x_ticks:
        x = _scale(v, 0, x_max, PAD_L, W - PAD_R)
        parts.append(f'<text x="{x:.1f}" y="{H - PAD_B + 14}" font-size="11" text-anchor="middle" fill="#666">{escape(label)}</text>')
    parts.append(f'<text x="{(PAD_L + W - PAD_R) / 2}" y="{H - 4}" font-size="11" text-anchor="middle" fill="#444">{escape(x_label)}</text>')
    parts.append(f'<text x="12" y="{PAD_T + 6}" font-size="11" fill="#444" transform="rotate(-90 12 {PAD_T + 6})" text-anchor="end">{escape(y_label)}</text>')
    return parts


def _legend(items: list[tuple[str, str, str]]) -> str:
    """(label, colour, dash) -> an HTML legend under the chart."""
    spans = "".join(
        f'<span><svg width="22" height="8"><line x1="0" y1="4" x2="22" y2="4" stroke="{c}" stroke-width="3"'
        f'{f" stroke-dasharray=\"{d}\"" if d else ""}/></svg> {escape(label)}</span>'
        for label, c, d in items
    )
    return f'<p class="chart-legend">{spans}</p>'


def line_chart(*, title: str, series: list[dict], x_label: str, y_label: str, x_max: float | None = None,
               y_max: float | None = None, vlines: list[tuple[float, str]] = (), y_fmt=lambda v: f"{v:g}",
               integer_x: bool = False) -> SafeString:
    """series: [{"name", "points": [(x, y)], "color", "dash"}]."""
    xs = [x for s in series for x, _ in s["points"]] or [1]
    ys = [y for s in series for _, y in s["points"]] or [1]
    x_max = x_max or max(xs) or 1
    y_max = y_max or _nice_max(max(ys))
    ticks = None
    if integer_x:  # days: whole-number ticks at their true positions
        ticks = [(t, str(t)) for t in sorted({round(x_max * i / 4) for i in range(5)})]
    parts = _frame(title, x_max, y_max, x_label, y_label, y_fmt, ticks)
    for x, label in vlines:
        px = _scale(x, 0, x_max, PAD_L, W - PAD_R)
        parts.append(f'<line x1="{px:.1f}" y1="{PAD_T}" x2="{px:.1f}" y2="{H - PAD_B}" stroke="#888" stroke-dasharray="3 3"/>')
        parts.append(f'<text x="{px + 3:.1f}" y="{PAD_T + 10}" font-size="10" fill="#555">{escape(label)}</text>')
    for s in series:
        pts = " ".join(f"{_scale(x, 0, x_max, PAD_L, W - PAD_R):.1f},{_scale(y, 0, y_max, H - PAD_B, PAD_T):.1f}"
                       for x, y in s["points"])
        dash = f' stroke-dasharray="{s["dash"]}"' if s.get("dash") else ""
        parts.append(f'<polyline fill="none" stroke="{s["color"]}" stroke-width="2"{dash} points="{pts}"><title>{escape(s["name"])}</title></polyline>')
    parts.append("</svg>")
    return mark_safe("".join(parts) + _legend([(s["name"], s["color"], s.get("dash", "")) for s in series]))


def bar_chart(*, title: str, groups: list[str], series: list[dict], x_label: str, y_label: str) -> SafeString:
    """Grouped bars: groups along x (e.g. days), one bar per series (arm) in each group."""
    y_max = _nice_max(max([v for s in series for v in s["values"]] or [1]))
    n = max(len(groups), 1)
    every = max(1, math.ceil(n / 10))  # at most ~10 labels, under their groups
    ticks = [(i + 0.5, group) for i, group in enumerate(groups) if i % every == 0]
    parts = _frame(title, n, y_max, x_label, y_label, x_ticks=ticks)
    slot = (W - PAD_L - PAD_R) / n
    bar = max(1.0, slot * 0.8 / max(len(series), 1))
    for gi, group in enumerate(groups):
        for si, s in enumerate(series):
            v = s["values"][gi]
            y = _scale(v, 0, y_max, H - PAD_B, PAD_T)
            x = PAD_L + gi * slot + slot * 0.1 + si * bar
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{H - PAD_B - y:.1f}" fill="{s["color"]}">'
                         f'<title>{escape(s["name"])}, {escape(group)}: {v:g}</title></rect>')
    parts.append("</svg>")
    return mark_safe("".join(parts) + _legend([(s["name"], s["color"], "") for s in series]))


def report_charts(report: dict) -> dict[str, SafeString]:
    """The trial page's three charts from a report: cumulative sold vs on hand, daily sales, and
    the Beta posterior of each arm's sell-through with the two targets marked."""
    from trials.verdict import posterior_density

    arms = report.get("arms") or []
    if not any(arm["daily"] for arm in arms):
        return {}
    days = max(len(arm["daily"]) for arm in arms)
    cumulative, daily, posterior = [], [], []
    for i, arm in enumerate(arms):
        color = PALETTE[i % len(PALETTE)]
        total, pts = 0, [(0, 0)]
        for d in arm["daily"]:
            total += d["sold"]
            pts.append((d["day"], total))
        cumulative.append({"name": f"{arm['label']}: sold (cumulative)", "points": pts, "color": color})
        cumulative.append({"name": f"{arm['label']}: on hand", "color": color, "dash": "5 4",
                           "points": [(0, arm["units_received"])] + [(d["day"], d["on_hand"]) for d in arm["daily"]]})
        daily.append({"name": arm["label"], "color": color,
                      "values": [d["sold"] for d in arm["daily"]] + [0] * (days - len(arm["daily"]))})
        prior = arm.get("prior") or {"alpha": 1, "beta": 1}
        density = posterior_density(sold=arm["units_sold"], units=arm["units_received"],
                                    alpha=float(prior["alpha"]), beta=float(prior["beta"]))
        peak = max((y for _, y in density), default=0) or 1
        # Each curve scaled to its own peak: a sold-out arm's spike would otherwise flatten the rest.
        posterior.append({"name": f"{arm['label']}: sold {arm['units_sold']} of {arm['units_received']}", "color": color,
                          "points": [(x, y / peak) for x, y in density]})
    targets = report["targets"]
    return {
        "cumulative": line_chart(title="Cumulative units sold and on hand", series=cumulative,
                                 x_label="day of the window", y_label="units", x_max=days, integer_x=True),
        "daily": bar_chart(title="Units sold per day", groups=[str(d) for d in range(1, days + 1)], series=daily,
                           x_label="day of the window", y_label="units"),
        "posterior": line_chart(
            title="Posterior of sell-through (Beta)", series=posterior, x_label="sell-through",
            y_label="density ÷ peak", x_max=1, y_max=1,
            vlines=[(float(targets["kill_below"]), "kill below"), (float(targets["scale_at"]), "scale at")],
            y_fmt=lambda v: f"{v:.2f}",
        ),
    }


def forecast_chart(forecast: dict) -> SafeString:
    """Median forecast path of cumulative sales per arm against its batch."""
    series = []
    for i, arm in enumerate(forecast["arms"]):
        color = PALETTE[i % len(PALETTE)]
        series.append({"name": f"{arm['label']}: median path", "color": color,
                       "points": [(0, 0)] + [(d + 1, v) for d, v in enumerate(arm["median_cumulative"])]})
        series.append({"name": f"{arm['label']}: batch", "color": color, "dash": "2 4",
                       "points": [(0, arm["units"]), (forecast["window_days"], arm["units"])]})
    return line_chart(title="Forecast: median cumulative sales", series=series, x_label="day of the window",
                      y_label="units", x_max=forecast["window_days"], integer_x=True)


def funnel_chart(stages: list[tuple[str, int, str]]) -> SafeString:
    """Horizontal bars, widest first: [(label, count, colour)]."""
    top = max([n for _, n, _ in stages] or [1]) or 1
    row, width = 34, W - 200
    parts = [f'<svg viewBox="0 0 {W} {row * len(stages) + 8}" role="img" aria-label="Trial funnel" class="chart" xmlns="http://www.w3.org/2000/svg"><title>Trial funnel</title>']
    for i, (label, n, color) in enumerate(stages):
        w = max(2, width * n / top)
        y = 4 + i * row
        parts.append(f'<text x="150" y="{y + 20}" font-size="13" text-anchor="end" fill="#333">{escape(label)}</text>')
        parts.append(f'<rect x="160" y="{y}" width="{w:.1f}" height="{row - 8}" rx="3" fill="{color}"><title>{escape(label)}: {n}</title></rect>')
        parts.append(f'<text x="{160 + w + 6:.1f}" y="{y + 20}" font-size="13" fill="#333">{n}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def reliability_chart(reliability: dict) -> SafeString:
    """Forecast probability against how often it happened, per bin, for P(scale) and P(kill); the
    diagonal is perfect calibration. Each point's area follows the number of arms in its bin."""
    parts = _frame("Reliability of forecast probabilities", 1, 1, "forecast probability", "observed frequency",
                   y_fmt=lambda v: f"{v:.2f}", x_ticks=[(i / 4, f"{i / 4:.2f}") for i in range(5)])
    x0, y0 = _scale(0, 0, 1, PAD_L, W - PAD_R), _scale(0, 0, 1, H - PAD_B, PAD_T)
    x1, y1 = _scale(1, 0, 1, PAD_L, W - PAD_R), _scale(1, 0, 1, H - PAD_B, PAD_T)
    parts.append(f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="#888" stroke-dasharray="4 4">'
                 "<title>perfect calibration</title></line>")
    series = [("P(scale)", "#1a7f37", reliability.get("scale") or []), ("P(kill)", "#cf222e", reliability.get("kill") or [])]
    biggest = max([b["n"] for _, _, bins in series for b in bins] or [1])
    for name, color, bins in series:
        pts = [(_scale(b["forecast"], 0, 1, PAD_L, W - PAD_R), _scale(b["observed"], 0, 1, H - PAD_B, PAD_T), b)
               for b in bins]
        if len(pts) > 1:
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="'
                         + " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in pts) + '"/>')
        for x, y, b in pts:
            r = 3 + 6 * math.sqrt(b["n"] / biggest)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{color}" fill-opacity="0.75">'
                         f'<title>{escape(name)} {b["lo"]:.1f}–{b["hi"]:.1f}: forecast {b["forecast"]:.2f}, '
                         f'happened {b["observed"]:.2f} ({b["n"]} arms)</title></circle>')
    parts.append("</svg>")
    return mark_safe("".join(parts) + _legend([(name, color, "") for name, color, _ in series]
                                              + [("perfect calibration", "#888", "4 4")]))
