"""The URL map of the web app, in one place."""

from __future__ import annotations

from aiohttp import web

from assistant.integrations import webhooks as platform_webhooks
from assistant.web import (
    views_api,
    views_chat,
    views_chat_stream,
    views_dashboard,
    views_events,
    views_observe,
    views_privacy,
    views_store,
)
from assistant.web.analytics_task import setup_analytics_timer
from assistant.web.backend_task import setup_backend_task
from assistant.web.console import store_requests
from assistant.web.console import views as console_views
from assistant.web.console import websockets as console_websockets
from assistant.web.console.setup import setup_console
from assistant.web.live.setup import setup_live
from assistant.web.nudge_task import setup_nudge_timer


def setup_routes(app: web.Application) -> None:
    """Register every route: the storefront, the JSON API, health, the widget files, the agent console."""
    app.router.add_get("/", views_store.get_index)
    app.router.add_post("/api/chat", views_chat.post_chat)
    app.router.add_get("/api/chat/stream", views_chat_stream.shopper_stream)
    app.router.add_get("/api/history", views_chat.get_history)
    app.router.add_post("/api/events", views_events.post_events)  # the storefront's, with its key
    app.router.add_get("/api/search", views_api.get_search)
    app.router.add_get("/api/me/export", views_privacy.get_export)
    app.router.add_get("/api/me/export/{link}", views_privacy.get_export_link)
    app.router.add_get("/healthz", views_api.get_health)
    app.router.add_get("/static/{name}", views_store.get_static)
    # Observability (issue #14): Prometheus metrics and readiness (/healthz stays liveness)
    app.router.add_get("/metrics", views_observe.get_metrics)
    app.router.add_get("/readyz", views_observe.get_ready)
    setup_analytics_timer(app)  # the demo profile's analytics feed when SHOP_ANALYTICS_INTERVAL_SECONDS > 0
    setup_nudge_timer(app)  # abandoned-cart reminders when SHOP_NUDGE_INTERVAL_SECONDS > 0
    setup_live(app)  # hub, handoff service, watcher; needs the Rasa client and store contexts first
    setup_console(app)  # agent sessions and the login throttle
    router = app.router
    router.add_get("/agent/login", console_views.get_login)
    router.add_post("/agent/login", console_views.post_login)
    router.add_post("/agent/logout", console_views.post_logout)
    router.add_get("/agent", console_views.get_console)
    router.add_get("/agent/ws", console_websockets.agent_stream)
    router.add_get("/agent/api/queue", console_views.get_queue)
    router.add_get("/agent/api/conversations/{handoff_id}", console_views.get_conversation)
    router.add_post("/agent/api/conversations/{handoff_id}/claim", console_views.post_claim)
    router.add_post("/agent/api/conversations/{handoff_id}/messages", console_views.post_message)
    router.add_post("/agent/api/conversations/{handoff_id}/hand-back", console_views.post_hand_back)
    router.add_post("/agent/api/conversations/{handoff_id}/close", console_views.post_close)
    router.add_get("/agent/dashboard", views_dashboard.get_dashboard)  # admins: analytics
    router.add_get("/agent/api/analytics", views_dashboard.get_analytics)
    setup_backend_task(app)  # store backend: outbox delivery, store answers told (SHOP_BACKEND_INTERVAL_SECONDS)
    router.add_get("/agent/store-requests", store_requests.get_store_requests_page)  # what the store has not taken
    router.add_get("/agent/api/store-requests", store_requests.get_store_requests)
    router.add_post("/api/integrations/{platform}/webhook", platform_webhooks.post_platform_webhook)  # verified
