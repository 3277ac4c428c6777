"""What the shopper's widget and the agent console share: live updates and handoffs.

``hub`` fans messages out to open WebSockets, ``handoffs`` is what agents do to a
conversation (and what chat asks about a hold), ``watcher`` notices what happens outside
the web app's own requests, ``profile`` is what an agent sees of a shopper, ``frames`` is
the WebSocket framing both streams use. ``setup.setup_live(app)`` wires them into the app.
"""
