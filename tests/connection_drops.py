"""Losing PostgreSQL, Redis and RabbitMQ under a running stack, without touching anyone else's.

The servers are shared (other test sessions, other engineers), so they are never restarted:
their loss is simulated by closing the connections of this stack's processes only.

- PostgreSQL: ``pg_terminate_backend`` on every backend of this session's own tracker database.
- Redis: ``CLIENT KILL ID`` for each client whose address is a socket of one of our processes.
- RabbitMQ: ``rabbitmqctl close_connection`` (the server closes it, as the management API's
  DELETE /api/connections/{name} does; the management plugin is not enabled on these
  machines) for each connection from one of our processes; without a usable
  ``rabbitmqctl``, ``ss -K`` destroys those sockets on the processes' side instead.

Which sockets are ours comes from Linux's /proc: the socket inodes among the processes'
file descriptors, matched with /proc/net/tcp{,6}.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import psycopg
import redis

ESTABLISHED = "01"


def process_group(leaders: Iterable[int]) -> set[int]:
    """Every live process whose process group is one of ``leaders`` (a server and its workers)."""
    groups, members = set(leaders), set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) in groups:
                    members.add(int(entry.name))
    return members


def _socket_inodes(pids: Iterable[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    return inodes


def local_ports(pids: Iterable[int], server_port: int) -> set[int]:
    """The local ports of the processes' established TCP connections to ``server_port``."""
    inodes = _socket_inodes(pids)
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
                if state == ESTABLISHED and int(remote.rsplit(":", 1)[1], 16) == server_port and inode in inodes:
                    ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def drop_postgres(conninfo: str, database: str) -> int:
    """Terminate every backend connected to ``database``; how many were terminated."""
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return sum(1 for (terminated,) in rows if terminated)


def drop_redis(url: str, pids: Iterable[int]) -> int:
    """Kill the Redis clients that are sockets of ``pids``; how many were killed."""
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        ports = local_ports(pids, int(client.connection_pool.connection_kwargs.get("port", 6379)))
        killed = 0
        for entry in client.client_list():
            if int(str(entry["addr"]).rsplit(":", 1)[1]) in ports:
                killed += int(client.client_kill_filter(_id=entry["id"]))
        return killed
    finally:
        client.close()


def drop_rabbitmq(pids: Iterable[int], server_port: int = 5672) -> tuple[int, str]:
    """Close the RabbitMQ connections of ``pids``; how many, and how (rabbitmqctl or ss -K)."""
    ports = local_ports(pids, server_port)
    rabbitmqctl = shutil.which("rabbitmqctl") or ("/usr/sbin/rabbitmqctl" if Path("/usr/sbin/rabbitmqctl").exists() else None)
    if rabbitmqctl:
        listing = subprocess.run([rabbitmqctl, "-q", "list_connections", "pid", "peer_port"],
                                 capture_output=True, text=True, timeout=60)
        if listing.returncode == 0:
            closed = 0
            for line in listing.stdout.splitlines():
                fields = line.split()
                if len(fields) == 2 and fields[1].isdigit() and int(fields[1]) in ports:
                    done = subprocess.run([rabbitmqctl, "-q", "close_connection", fields[0], "message ledger test"],
                                          capture_output=True, text=True, timeout=60)
                    closed += done.returncode == 0
            return closed, "rabbitmqctl close_connection"
    for port in ports:
        subprocess.run(["ss", "-K", "-tn", "dport", "=", f":{server_port}", "sport", "=", f":{port}"],
                       capture_output=True, check=True, timeout=30)
    return len(ports), "ss -K on the processes' side"
