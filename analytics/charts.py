"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, readable when printed.

Colours are the Okabe–Ito palette (distinguishable with the common colour-vision
deficiencies); every chart has a <title>, axes with labelled ticks, and its figures in text.
"""

import math
from decimal import Decimal

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from shop.money import money

PALETTE = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#8C6D1F",
    "#555555",
    "#F0C000",
    "#999999",
]
OTHER = "#B0B0B0"  # the "Other" slice: neutral grey
FONT = 'font-family="system-ui, sans-serif" font-size="12" fill="#333"'


def compact(value) -> str:
    """1234567 -> '1.2M', 4500 -> '4.5k', 12.5 -> '12.5'."""
    value = float(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round, evenly spaced tick values covering [low, high] (0 always inside), ending at the
    round value nearest above the data: 2,061 gets 0–2,500, not 0–3,000. About `count`
    intervals (2 fewer to 2 more); the step is 1, 2, 2.5 or 5 times a power of ten and never
    below 1, so an empty chart reads 0 and 1, not 0.2, 0.4…"""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1
    magnitude = 10 ** math.floor(math.log10((high - low) / count))
    best = None
    for power in (magnitude / 10, magnitude, magnitude * 10):
        for m in (1, 2, 2.5, 5):
            step = m * power
            if step < 1:
                continue
            first, last = math.floor(low / step), math.ceil(high / step)
            intervals = last - first
            if not max(1, count - 2) <= intervals <= count + 2:
                continue
            # The least white space above and below the data, then the fewest ticks.
            key = ((last * step - high) + (low - first * step), intervals)
            if best is None or key < best[0]:
                best = (key, step, first, last)
    if best is None:  # a range too small for the count: steps of 1
        step, first, last = 1, math.floor(low), math.ceil(high)
    else:
        _, step, first, last = best
    return [round(n * step, 10) for n in range(first, last + 1)]


def _svg(width: int, height: int, title: str, body: str) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" '
        'style="max-width:{}px" role="img" aria-label="{}" class="chart">'
        "<title>{}</title>{}</svg>",
        width,
        height,
        width,
        title,
        title,
        mark_safe(body),  # noqa: S308 - built below from escaped parts only
    )


def line_chart(
    *, labels: list[str], series: list[tuple[str, list]], title: str, width: int = 860
) -> SafeString:
    """One line per series over the labels (days), with a y axis in money and a legend."""
    height, left, right, top, bottom = 300, 64, 16, 36, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [float(v) for _, points in series for v in points] or [0.0]
    ticks = nice_ticks(min(values), max(values))
    y_lo, y_hi = ticks[0], ticks[-1]

    def x(i: int) -> float:
        return left + (plot_w * i / (len(labels) - 1) if len(labels) > 1 else plot_w / 2)

    def y(v) -> float:
        return top + plot_h - (float(v) - y_lo) / (y_hi - y_lo) * plot_h

    parts = []
    for t in ticks:
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
            f'stroke="{"#333" if t == 0 else "#ddd"}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end" {FONT}>'
            f"{escape(compact(t))}</text>"
        )
    step = max(1, math.ceil(len(labels) / 8))
    for i in range(0, len(labels), step):
        parts.append(
            f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" '
            f'stroke="#333"/><text x="{x(i):.1f}" y="{top + plot_h + 18}" text-anchor="middle" '
            f"{FONT}>{escape(labels[i])}</text>"
        )
    parts.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#333"/>'
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'stroke="#333"/>'
    )
    for n, (name, points) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(points))
        total = sum((Decimal(v) for v in points), Decimal(0))
        parts.append(
            f"<g><title>{escape(name)}: {money(total)} in total</title>"
            f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2.5" '
            f'stroke-linejoin="round"/></g>'
            f'<rect x="{left + n * 140}" y="10" width="14" height="14" fill="{colour}"/>'
            f'<text x="{left + n * 140 + 20}" y="22" {FONT}>{escape(name)}</text>'
        )
    return _svg(width, height, title, "".join(parts))


def bar_chart(
    *, items: list[tuple[str, Decimal]], title: str, width: int = 860, colour: str = PALETTE[0]
) -> SafeString:
    """Horizontal bars, largest first as given, each labelled with its name and value."""
    bar, gap, left, right, top = 22, 8, 260, 100, 8
    if not items:  # no axis to read: say so, as the donut does
        return _svg(
            width,
            60,
            title,
            f'<text x="{width / 2}" y="34" text-anchor="middle" {FONT}>No sales</text>',
        )
    height = top * 2 + len(items) * (bar + gap) + 24
    plot_w = width - left - right
    high = max([float(v) for _, v in items] + [0.0])
    ticks = nice_ticks(0.0, high, 4)
    scale = plot_w / ticks[-1]
    parts = []
    axis_y = top + len(items) * (bar + gap)
    for t in ticks:
        parts.append(
            f'<line x1="{left + t * scale:.1f}" x2="{left + t * scale:.1f}" y1="{top}" '
            f'y2="{axis_y}" stroke="#ddd"/><text x="{left + t * scale:.1f}" y="{axis_y + 16}" '
            f'text-anchor="middle" {FONT}>{escape(compact(t))}</text>'
        )
    for i, (label, value) in enumerate(items):
        y = top + i * (bar + gap)
        short = label if len(label) <= 38 else label[:36] + "…"
        parts.append(
            f"<g><title>{escape(label)}: {money(value)}</title>"
            f'<text x="{left - 8}" y="{y + bar * 0.7:.1f}" text-anchor="end" {FONT}>'
            f"{escape(short)}</text>"
            f'<rect x="{left}" y="{y}" width="{max(float(value) * scale, 1):.1f}" height="{bar}" '
            f'fill="{colour}"/><text x="{left + float(value) * scale + 6:.1f}" '
            f'y="{y + bar * 0.7:.1f}" {FONT}>{money(value, grouped=True)}</text></g>'
        )
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{axis_y}" stroke="#333"/>')
    return _svg(width, height, title, "".join(parts))


def donut_chart(
    *, items: list[tuple[str, Decimal]], title: str, width: int = 860, slices: int = 8
) -> SafeString:
    """Shares out of 100 as a ring, the largest `slices` by name and the rest as 'Other',
    with a legend giving each share."""
    shown = list(items[:slices])
    rest = sum((Decimal(v) for _, v in items[slices:]), Decimal(0))
    if rest:
        shown.append(("Other", rest))
    height, cx, cy, r_out, r_in = max(240, 40 + 24 * len(shown)), 130, 120, 100, 58
    parts = []
    angle = -math.pi / 2
    total = float(sum((Decimal(v) for _, v in shown), Decimal(0))) or 1.0
    for n, (label, value) in enumerate(shown):
        colour = OTHER if rest and n == len(shown) - 1 else PALETTE[n % len(PALETTE)]
        sweep = 2 * math.pi * float(value) / total
        if sweep >= 2 * math.pi - 1e-9:  # one slice: a full ring
            parts.append(
                f'<circle cx="{cx}" cy="{cy}" r="{(r_out + r_in) / 2}" fill="none" '
                f'stroke="{colour}" stroke-width="{r_out - r_in}"/>'
            )
        elif sweep > 0:
            end = angle + sweep
            large = 1 if sweep > math.pi else 0
            p = [
                (cx + r_out * math.cos(angle), cy + r_out * math.sin(angle)),
                (cx + r_out * math.cos(end), cy + r_out * math.sin(end)),
                (cx + r_in * math.cos(end), cy + r_in * math.sin(end)),
                (cx + r_in * math.cos(angle), cy + r_in * math.sin(angle)),
            ]
            parts.append(
                f'<path d="M{p[0][0]:.2f},{p[0][1]:.2f} A{r_out},{r_out} 0 {large} 1 '
                f"{p[1][0]:.2f},{p[1][1]:.2f} L{p[2][0]:.2f},{p[2][1]:.2f} "
                f'A{r_in},{r_in} 0 {large} 0 {p[3][0]:.2f},{p[3][1]:.2f} Z" fill="{colour}" '
                f'stroke="#fff" stroke-width="1"><title>{escape(label)}: {value}%</title></path>'
            )
            angle = end
        ly = 24 + n * 24
        parts.append(
            f'<rect x="280" y="{ly - 12}" width="14" height="14" fill="{colour}"/>'
            f'<text x="300" y="{ly}" {FONT}>{escape(label)} — {value}%</text>'
        )
    if not shown:
        parts.append(f'<text x="{cx}" y="{cy}" text-anchor="middle" {FONT}>No sales</text>')
    return _svg(width, height, title, "".join(parts))
