"""A plain SVG bar chart of a benchmark report (no plotting library needed)."""

from __future__ import annotations

from html import escape
from typing import Any

COLOURS = {
    "raw-go": "#4d4d4d",
    "go-pkg": "#00add8",
    "stdlib": "#3776ab",
    "pyref": "#7aa6d6",
    "go": "#e8a317",
    "asyncio": "#8c6bb1",
    "uvloop": "#c994c7",
}

WIDTH = 1240
LABEL_W = 330
BAR_X = LABEL_W + 20
BAR_W = 430
ROW_H = 20
TITLE_H = 30


def _bar(y: float, row: dict[str, Any], value: float, top: float, text: str) -> list[str]:
    width = max(1.0, BAR_W * value / top) if top > 0 else 1.0
    colour = COLOURS.get(row["impl"], "#999999")
    return [
        f'<text x="{LABEL_W + 10}" y="{y + 14}" text-anchor="end">{escape(row["name"])}</text>',
        f'<rect x="{BAR_X}" y="{y + 3}" width="{width:.1f}" height="{ROW_H - 6}" '
        f'fill="{colour}"/>',
        f'<text x="{BAR_X + width + 6:.1f}" y="{y + 14}">{escape(text)}</text>',
    ]


def _busy(share: float | None) -> str:
    return f"{share:.0%}" if share is not None else "?"


def _ratio(value: float | None, what: str) -> str:
    return f"{value:.2f}x {what}" if value is not None else ""


def _size(size: int) -> str:
    return f"{size >> 20} MiB" if size >= 1 << 20 and size % (1 << 20) == 0 else f"{size} B"


def _throughput_text(r: dict[str, Any]) -> str:
    ratios = ", ".join(
        t
        for t in (_ratio(r.get("vs_stdlib"), "stdlib"), _ratio(r.get("vs_raw_go"), "raw Go"))
        if t
    )
    return f"{r['rps']:,.0f}  p99 {r['p99_ms']:.2f} ms  ({ratios})"


def _section(
    parts: list[str], y: float, title: str, bars: list[tuple[dict[str, Any], float, str]]
) -> float:
    """Add a section (its title, then a bar per (row, value, text), scaled to
    the largest value) to *parts* at height *y*; the height after it. A
    section without bars adds nothing."""
    if not bars:
        return y
    parts.append(f'<text x="10" y="{y + 18}" font-weight="bold">{escape(title)}</text>')
    y += TITLE_H
    top = max(value for _, value, _ in bars)
    for row, value, text in bars:
        parts += _bar(y, row, value, top, text)
        y += ROW_H
    return y + 8


def render(report: dict[str, Any], sections: dict[tuple[str, str], str]) -> str:
    """The report's throughput sections, repeated handle_request() and idle-connection
    memory as one SVG."""
    env = report["environment"]
    parts: list[str] = []
    y = 10.0
    head = "socketserver implementations side by side (make bench)"
    sub = (
        f"{env['clients']} clients, {env['payload_bytes']}-byte lines, {env['secs']:g} s per "
        f"measurement, {env['cpus']} CPUs, {env['go']}, Python {env['python']}, "
        f"CPUs {_busy(env.get('cpu_busy_before'))} busy before the run, {env['date']}"
    )
    parts.append(
        f'<text x="10" y="{y + 16}" font-size="15" font-weight="bold">{escape(head)}</text>'
    )
    parts.append(f'<text x="10" y="{y + 34}">{escape(sub)}</text>')
    y += TITLE_H + 24
    for (transport, pattern), title in sections.items():
        rows = [
            r
            for r in report["throughput"]
            if r["transport"] == transport and r["pattern"] == pattern and "error" not in r
        ]
        y = _section(
            parts,
            y,
            f"{title} (requests/s, higher is better)",
            [(r, r["rps"], _throughput_text(r)) for r in rows],
        )
    loops = [r for r in report.get("handle_request", []) if "error" not in r]
    if loops:
        y = _section(
            parts,
            y,
            f"Repeated UDPServer.handle_request(): seconds for {loops[0]['calls']:,} calls "
            "(lower is better) and RSS growth",
            [
                (
                    r | {"name": f"{r['name']} {_size(r['max_packet_size'])}"},
                    r["seconds"],
                    f"{r['seconds']:.3f} s  RSS +{r['rss_growth_kib'] / 1024:.1f} MiB  "
                    f"({_ratio(r.get('time_vs_stdlib'), 'stdlib time')})",
                )
                for r in loops
            ],
        )
    memory = [r for r in report["memory"] if "error" not in r and r.get("kib_per_conn")]
    y = _section(
        parts,
        y,
        "Idle connections held: server RSS per connection (KiB, lower is better) and threads",
        [
            (
                r,
                r["kib_per_conn"],
                f"{r['kib_per_conn']:.1f} KiB  {r['held']:,} conns  "
                f"{r['threads_held']:,} threads  "
                f"({_ratio(r.get('vs_raw_go'), 'raw Go')})",
            )
            for r in memory
        ],
    )
    height = int(y + 10)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, Arial, sans-serif" '
        f'font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n'
        + "\n".join(parts)
        + "\n</svg>\n"
    )
