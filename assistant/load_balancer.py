"""The HAProxy configuration in front of the replicas of the production profile.

Three balanced front doors, each a pool of loopback replicas with an HTTP health check
(a replica that stops answering leaves the pool within seconds and comes back by itself):

- ``web``: the public door (widget, REST API, agent console, WebSockets). It is where a
  TLS-terminating proxy or the shopper's browser connects. ``X-Forwarded-For/Proto/Host``
  that arrive here are kept only from ``SHOP_TRUSTED_PROXIES`` peers and deleted from
  anyone else; HAProxy then appends the peer to ``X-Forwarded-For`` and sets
  ``X-Forwarded-Proto`` when none was kept, so the web app (which trusts this balancer)
  sees the shopper's scheme, host and address. WebSockets get a long tunnel timeout.
- ``rasa``: the web app's and channels' way to the Rasa servers, loopback only.
- ``actions``: the Rasa servers' way to the action servers, loopback only.

A fourth, ``monitor``, answers ``/lb-health`` 200 while every pool has a live replica:
the launcher's readiness wait and an orchestrator's probe.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

# Long enough for an agent's console and a shopper's widget to hold their WebSocket while
# idle (both ping well within it); a slow Rasa turn (model on a loaded machine) fits in the
# server timeout.
WEBSOCKET_TUNNEL_TIMEOUT = "1h"
SERVER_TIMEOUT = "90s"


@dataclass(frozen=True)
class Pool:
    """One balanced service: where it listens and its replicas' loopback ports."""

    name: str
    listen_port: int
    health_path: str
    replica_ports: tuple[int, ...]
    health_host: str = "127.0.0.1"  # the Host of the check: the web app answers only its allowed hosts


def _acl_sources(trusted: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> str:
    return " ".join(str(network) for network in trusted)


def haproxy_config(
    pools: Sequence[Pool], monitor_port: int,
    trusted_proxies: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network] = (),
    bind_host: str = "127.0.0.1",
) -> str:
    """The whole ``haproxy.cfg``; the pool named ``web`` is the public door on ``bind_host``."""
    lines = [
        "# Written by shop-assistant (assistant/load_balancer.py) at every start; edits are lost.",
        "global",
        "    log stdout format raw local0 info",
        "    maxconn 4096",
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    option dontlognull",
        "    option redispatch",  # a request for a replica that died goes to another
        "    retries 2",
        "    timeout connect 5s",
        "    timeout http-request 15s",
        "    timeout client 60s",
        f"    timeout server {SERVER_TIMEOUT}",
        f"    timeout tunnel {WEBSOCKET_TUNNEL_TIMEOUT}",
        "    timeout http-keep-alive 10s",
        "    default-server inter 2s fall 2 rise 1",
        "",
        "frontend monitor",
        f"    bind 127.0.0.1:{monitor_port}",
        "    monitor-uri /lb-health",
    ]
    lines += [f"    monitor fail if {{ nbsrv({pool.name}_replicas) lt 1 }}" for pool in pools]
    for pool in pools:
        public = pool.name == "web"
        lines += ["", f"frontend {pool.name}", f"    bind {bind_host if public else '127.0.0.1'}:{pool.listen_port}"]
        if public:
            if trusted_proxies:
                lines.append(f"    acl from_trusted_proxy src {_acl_sources(trusted_proxies)}")
                condition = " if !from_trusted_proxy"
            else:
                condition = ""
            lines += [f"    http-request del-header {header}{condition}"
                      for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded")]
            lines += [
                "    http-request set-header X-Forwarded-Proto https if { ssl_fc }",
                "    http-request set-header X-Forwarded-Proto http if !{ req.hdr(X-Forwarded-Proto) -m found }",
                "    option forwardfor",  # appends the peer's address to X-Forwarded-For
            ]
        lines += [f"    default_backend {pool.name}_replicas", "", f"backend {pool.name}_replicas", "    balance roundrobin",
                  "    option httpchk",
                  f"    http-check send meth GET uri {pool.health_path} ver HTTP/1.1 hdr Host {pool.health_host}",
                  "    http-check expect status 200"]
        lines += [f"    server {pool.name}{number} 127.0.0.1:{port} check"
                  for number, port in enumerate(pool.replica_ports, start=1)]
    return "\n".join(lines) + "\n"
