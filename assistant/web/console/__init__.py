"""The agent console: sign-in, the queue of handoffs, live conversations, hand-back.

``setup.setup_console(app)`` adds its routes, the handoff service on the app's store, the WebSocket hub
and the watcher task to the web app.
"""
