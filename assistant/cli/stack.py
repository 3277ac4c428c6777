"""``shop-assistant up|web|chat|token``: run the stack, one server of it, or talk to it."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from pathlib import Path

from assistant.cli.common import Subparsers, add_command
from assistant.settings import PROJECT_ROOT, Settings

DEFAULT_MODEL = PROJECT_ROOT / "models" / "current.tar.gz"


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.identity import sign_customer_token

    print(sign_customer_token(args.customer, settings.store_secret, ttl_seconds=args.ttl))
    return 0


def cmd_web(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.web.app import run_web

    run_web(settings, port=args.port, demo_mode=args.demo)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.launcher import Ports, StackError, running_stack
    from assistant.production_plan import running_production

    ports = Ports()
    stack: contextlib.AbstractContextManager[object]
    if settings.profile == "production":  # N replicas of each server behind HAProxy, on the same ports
        if args.demo:
            print("error: --demo is the demo profile's login page; the production profile has none", file=sys.stderr)
            return 2
        stack, token_from = running_production(settings, Path(args.model), replicas=args.replicas), "RASA_AUTH_TOKEN"
    else:
        stack, token_from = running_stack(settings, Path(args.model), ports, demo_mode=args.demo), "var/secrets.json"
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the children as Ctrl-C does
    try:
        with stack:
            print(
                f"\nShop Assistant ({settings.profile}) is running on the store in {settings.data_dir}\n"
                f"  chat in the browser:   http://127.0.0.1:{ports.web}/\n"
                f"  chat in the terminal:  .venv/bin/shop-assistant chat\n"
                f"  Rasa HTTP API:         http://127.0.0.1:{ports.rasa}/ (token in {token_from})\n"
                f"  logs:                  {settings.data_dir / 'logs'}\n"
                "Press Ctrl-C to stop.",
                flush=True,
            )
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                # A second Ctrl-C must not cut the clean shutdown short.
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                print("\nstopping...", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted while starting; stopped", file=sys.stderr)
        return 130
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("stopped", flush=True)
    return 0


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.chat_client import chat

    token = None
    if args.customer:
        from assistant.identity import sign_customer_token

        token = sign_customer_token(args.customer, settings.store_secret)
    chat(args.url, token)
    return 0


def register(sub: Subparsers) -> None:
    token = add_command(
        sub,
        "token",
        cmd_token,
        "print a store-signed customer token (what the store's backend issues)",
        "shop-assistant token --customer C0001 --ttl 600",
    )
    token.add_argument("--customer", required=True, help="the customer id the token vouches for")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")

    web = add_command(sub, "web", cmd_web, "run the web app (widget, REST API)", "shop-assistant web --port 8080")
    web.add_argument("--port", type=int, default=None, help="port to listen on (default: SHOP_WEB_PORT)")
    web.add_argument("--demo", action="store_true", help="demo storefront with a demo login")

    up = add_command(
        sub,
        "up",
        cmd_up,
        "start action server, Rasa and the web app; Ctrl-C stops them",
        "shop-assistant --data-dir var/demo up --demo",
    )
    up.add_argument("--model", default=str(DEFAULT_MODEL), help="the trained Rasa model")
    up.add_argument("--demo", action="store_true", help="demo storefront with a demo login")
    up.add_argument("--profile", choices=("demo", "production"), help="overrides SHOP_PROFILE (default demo)")
    up.add_argument("--replicas", type=int, default=1, help="production: how many of each server behind HAProxy")

    chat = add_command(
        sub, "chat", cmd_chat, "chat with the running assistant in the terminal", "shop-assistant chat --customer C0304"
    )
    chat.add_argument("--url", default="http://127.0.0.1:8080", help="the web app")
    chat.add_argument("--customer", help="chat as this customer (signs a token with the local store secret)")
