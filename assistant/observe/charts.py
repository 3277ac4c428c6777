"""Server-drawn charts and figure tiles for the analytics dashboard: plain SVG and HTML, escaped.

No script and no inline style (the app's Content-Security-Policy allows neither): bars
are SVG rectangles sized by attributes, colours come from ``dashboard.css`` classes.
Every figure carries the sentence saying how it is computed
(:data:`assistant.observe.report.DEFINITIONS`).
"""

from __future__ import annotations

from html import escape
from typing import Any

BAR_HEIGHT = 22
LABEL_WIDTH = 230
BAR_WIDTH = 300


def percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.1f}%"


def tile(key: str, title: str, value: str, how: str) -> str:
    """One figure: its value, its name, and how it is computed."""
    return (
        f'<section class="db-tile" data-testid="figure-{escape(key)}">'
        f'<h3>{escape(title)}</h3><p class="db-value" data-testid="value-{escape(key)}">{escape(value)}</p>'
        f'<p class="db-how">{escape(how)}</p></section>'
    )


def bar_chart(key: str, title: str, rows: list[tuple[str, float]], how: str, unit: str = "") -> str:
    """A horizontal bar chart of ``(label, value)`` rows as an accessible SVG (``role="img"`` with a title)."""
    if not rows:
        body = '<p class="db-empty">Nothing in this period.</p>'
    else:
        top = max(value for _, value in rows) or 1.0
        height = BAR_HEIGHT * len(rows)
        bars = []
        for n, (label, value) in enumerate(rows):
            y = n * BAR_HEIGHT
            width = max(1.0, BAR_WIDTH * value / top) if value else 0.0
            shown = f"{value:g}{unit}"
            bars.append(
                f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" class="db-label">{escape(label[:40])}</text>'
                f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" height="{BAR_HEIGHT - 6}" class="db-bar">'
                f"<title>{escape(label)}: {escape(shown)}</title></rect>"
                f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 15}" class="db-number">{escape(shown)}</text>'
            )
        body = (
            f'<svg role="img" aria-label="{escape(title)}" width="{LABEL_WIDTH + BAR_WIDTH + 60}" height="{height}" '
            f'viewBox="0 0 {LABEL_WIDTH + BAR_WIDTH + 60} {height}" xmlns="http://www.w3.org/2000/svg">'
            f"<title>{escape(title)}</title>{''.join(bars)}</svg>"
        )
    return (
        f'<section class="db-chart" data-testid="chart-{escape(key)}"><h3>{escape(title)}</h3>{body}'
        f'<p class="db-how">{escape(how)}</p></section>'
    )


def render(report: dict[str, Any]) -> str:
    """The dashboard's figures and charts for one report."""
    how = report["definitions"]
    csat = report["csat"]
    tiles = [
        tile("conversations", "Conversations", str(report["conversations"]), how["conversations"]),
        tile("shopper_started_conversations", "Shopper-started", str(report["shopper_started_conversations"]),
             how["shopper_started_conversations"]),
        tile("proactive_conversations", "Opened by reminders and alerts", str(report["proactive_conversations"]),
             how["proactive_conversations"]),
        tile("containment_rate", "Containment", percent(report["containment_rate"]), how["containment_rate"]),
        tile("fallback_rate", "Fallback rate", percent(report["fallback_rate"]), how["fallback_rate"]),
        tile("handoff_rate", "Handoff rate", percent(report["handoff_rate"]), how["handoff_rate"]),
        tile("median_claim_seconds", "Median time to claim",
             "n/a" if report["median_claim_seconds"] is None else f"{report['median_claim_seconds']:g} s",
             how["median_claim_seconds"]),
        tile("csat", "CSAT", "n/a" if csat["average"] is None else f"{csat['average']:.2f} / 5 ({csat['count']})", how["csat"]),
        tile("search_to_cart_rate", "Search → add to cart", percent(report["search_to_cart_rate"]), how["search_to_cart_rate"]),
        tile("recommendation_to_cart_rate", "Recommendation → add to cart", percent(report["recommendation_to_cart_rate"]),
             how["recommendation_to_cart_rate"]),
        tile("chat_assisted_orders", "Chat-assisted orders", str(report["chat_assisted_orders"]), how["chat_assisted_orders"]),
        tile("chat_assisted_revenue", "Chat-assisted revenue", f"{report['chat_assisted_revenue']:,.2f}",
             how["chat_assisted_revenue"]),
    ]
    outcomes = [("Contained", report["contained_conversations"]), ("Ended on a fallback", report["fallback_ended_conversations"]),
                ("Handed to a person", report["handed_off_conversations"])]
    charts = [
        bar_chart("outcomes", "How shopper-started conversations ended", [(k, float(v)) for k, v in outcomes],
                  "Shopper-started conversations by outcome: a person was requested; the last shopper message got the "
                  "fallback; contained is neither (one both handed off and ending on a fallback is in both of those bars)."),
        bar_chart("handoffs_by_reason", "Handoffs by reason", [(k, float(v)) for k, v in report["handoffs_by_reason"].items()],
                  how["handoffs_by_reason"]),
        bar_chart("handoffs_by_channel", "Handoffs by channel", [(k, float(v)) for k, v in report["handoffs_by_channel"].items()],
                  how["handoffs_by_channel"]),
        bar_chart("csat_distribution", "CSAT answers", [(f"{k} / 5", float(v)) for k, v in csat["distribution"].items()], how["csat"]),
        bar_chart("zero_result_searches", "Top searches that found nothing",
                  [(row["query"], float(row["count"])) for row in report["zero_result_searches"]], how["zero_result_searches"]),
        bar_chart("top_unanswered", "Top unanswered messages (grouped by meaning)",
                  [(row["example"] + (f" (+{len(row['variants']) - 1} wordings)" if len(row["variants"]) > 1 else ""),
                    float(row["count"])) for row in report["top_unanswered"]], how["top_unanswered"]),
    ]
    return f'<div class="db-tiles">{"".join(tiles)}</div><div class="db-charts">{"".join(charts)}</div>'
