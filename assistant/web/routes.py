"""The URL map of the web app, in one place."""

from __future__ import annotations

from aiohttp import web

from assistant.web import views_api, views_chat, views_dashboard, views_observe, views_privacy, views_store
from assistant.web.analytics_task import setup_analytics_timer
from assistant.web.console.setup import setup_console
from assistant.web.nudge_task import setup_nudge_timer
from assistant.web.views_events import setup_events


def setup_routes(app: web.Application) -> None:
    """Register every route: the storefront, the JSON API, health, and the widget files."""
    app.router.add_get("/", views_store.get_index)
    app.router.add_post("/api/chat", views_chat.post_chat)
    app.router.add_get("/api/history", views_chat.get_history)
    app.router.add_get("/api/search", views_api.get_search)
    app.router.add_get("/api/me/export", views_privacy.get_export)
    app.router.add_get("/api/me/export/{link}", views_privacy.get_export_link)
    app.router.add_get("/healthz", views_api.get_health)
    app.router.add_get("/static/{name}", views_store.get_static)
    # Observability (issue #14): Prometheus metrics and readiness (/healthz stays liveness)
    app.router.add_get("/metrics", views_observe.get_metrics)
    app.router.add_get("/readyz", views_observe.get_ready)
    setup_analytics_timer(app)  # the demo profile's analytics feed when SHOP_ANALYTICS_INTERVAL_SECONDS > 0
    views_dashboard.setup_dashboard(app)  # /agent/dashboard for admins
    setup_events(app)  # POST /api/events for the storefront
    setup_nudge_timer(app)  # abandoned-cart reminders when SHOP_NUDGE_INTERVAL_SECONDS > 0
    setup_console(app)  # agent pages and APIs, /api/chat/stream; needs the Rasa client context first
