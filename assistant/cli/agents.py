"""``shop-assistant agents``: the agent console's accounts, created and changed only from here.

Passwords come from a prompt (typed twice) or the first line of stdin, never from argv,
where other users of the machine could read them.
"""

from __future__ import annotations

import argparse
import sys

from assistant.cli.common import Subparsers, add_command, add_group
from assistant.settings import Settings


def _new_password(args: argparse.Namespace) -> str | None:
    """The password from stdin (``--password-stdin``) or typed twice at a prompt; never from argv."""
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass(f"password for {args.username}: ")
    if getpass.getpass("again: ") != password:
        print("the passwords differ; nothing was changed", file=sys.stderr)
        return None
    return password


def cmd_add(settings: Settings, args: argparse.Namespace) -> int:
    """Create a console account; the password comes from stdin or a prompt, never argv."""
    from assistant.agents import AccountError, add_agent
    from assistant.store.db import open_store

    password = _new_password(args)
    if password is None:
        return 1
    try:
        with open_store(settings.database_url, migrate_first=True) as store, store.unit_of_work() as uow:
            agent = add_agent(uow.agents, args.username, password, args.role, args.display_name)
            uow.commit()
            print(f"agent {agent.username} ({agent.role}, shown to shoppers as {agent.display_name!r}) created")
    except AccountError as error:
        print(f"not created: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_change(settings: Settings, args: argparse.Namespace) -> int:
    """``agents disable|enable|remove|reset-password USERNAME``: sessions of the account end at once."""
    from assistant.agents import AccountError, remove_agent, reset_password, set_disabled
    from assistant.store.db import open_store

    password = _new_password(args) if args.agents_command == "reset-password" else ""
    if password is None:
        return 1
    try:
        with open_store(settings.database_url, migrate_first=True) as store, store.unit_of_work() as uow:
            if args.agents_command == "remove":
                remove_agent(uow.agents, args.username)
            elif args.agents_command == "reset-password":
                reset_password(uow.agents, args.username, password)
            else:
                set_disabled(uow.agents, args.username, args.agents_command == "disable")
            uow.commit()
    except AccountError as error:
        print(f"nothing changed: {error}", file=sys.stderr)
        return 1
    done = {"disable": "disabled", "enable": "enabled", "remove": "removed", "reset-password": "given a new password"}
    print(f"agent {args.username} {done[args.agents_command]}")
    return 0


def register(sub: Subparsers) -> None:
    agents = add_group(sub, "agents", "agent console accounts")
    agent_add = add_command(
        agents,
        "add",
        cmd_add,
        "create an agent account (password from a prompt or stdin)",
        "shop-assistant agents add alice --role agent\n"
        'echo "$PASSWORD" | shop-assistant agents add bob --role admin --password-stdin',
    )
    agent_add.add_argument("username", help="the login name")
    agent_add.add_argument("--role", choices=("agent", "admin"), default="agent", help="admins see every conversation")
    agent_add.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line of stdin"
    )
    agent_add.add_argument("--display-name", default="Support", help="the name shoppers see")
    for name, help_text in (
        ("disable", "disable an account (its sessions end at once)"),
        ("enable", "re-enable an account"),
        ("remove", "delete an account (its conversations go back to the queue)"),
        ("reset-password", "set a new password (from a prompt or stdin); sessions end"),
    ):
        change = add_command(agents, name, cmd_change, help_text, f"shop-assistant agents {name} alice")
        change.add_argument("username", help="the login name")
        if name == "reset-password":
            change.add_argument(
                "--password-stdin", action="store_true", help="read the password from the first line of stdin"
            )
