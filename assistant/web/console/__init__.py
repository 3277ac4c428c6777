"""The agent console: sign-in, the queue of handoffs, live conversations, hand-back.

``setup.setup_console(app)`` adds agent sessions and the login throttle to the web app;
the handoff service and the hub it shares with chat are in :mod:`assistant.web.live`.
"""
