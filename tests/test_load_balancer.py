"""The HAProxy configuration (assistant/load_balancer.py), checked by HAProxy itself and run for
real in front of two web apps (in-process, Rasa down: no model needed), with trusted and
untrusted peers on loopback (127.0.0.2 is the trusted TLS proxy, 127.0.0.3 anyone else)."""

from __future__ import annotations

import dataclasses
import ipaddress
import shutil
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from assistant.launcher import free_port
from assistant.load_balancer import Pool, haproxy_config
from assistant.web.app import create_app
from assistant.web.sessions import SECURE_SESSION_COOKIE, SESSION_COOKIE
from tests.test_web_hardening import settings_for

pytestmark = pytest.mark.production

HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
needs_haproxy = pytest.mark.skipif(HAPROXY is None, reason="HAProxy is not installed (make haproxy)")
TRUSTED = (ipaddress.ip_network("127.0.0.2/32"),)


def test_every_pool_is_health_checked_and_forwarded_headers_are_guarded() -> None:
    config = haproxy_config([Pool("web", 8080, "/healthz", (9001, 9002)), Pool("rasa", 5005, "/", (9003,))], 8404, TRUSTED)
    assert config.count(" check\n") == 3 and "uri /healthz" in config and "uri / " in config
    assert "http-request del-header X-Forwarded-Proto if !from_trusted_proxy" in config
    assert "acl from_trusted_proxy src 127.0.0.2/32" in config and "option forwardfor" in config
    assert "timeout tunnel 1h" in config  # WebSockets
    assert "bind 127.0.0.1:5005" in config  # internal doors stay on loopback
    untrusting = haproxy_config([Pool("web", 8080, "/healthz", (9001,))], 8404, ())
    assert "http-request del-header X-Forwarded-Proto\n" in untrusting  # nobody's headers believed


@needs_haproxy
def test_haproxy_accepts_the_configuration(tmp_path: Path) -> None:
    path = tmp_path / "haproxy.cfg"
    path.write_text(haproxy_config([Pool("web", free_port(), "/healthz", (free_port(), free_port())),
                                    Pool("rasa", free_port(), "/", (free_port(),))], free_port(), TRUSTED))
    checked = subprocess.run([str(HAPROXY), "-c", "-f", str(path)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.fixture
async def balanced(tmp_path: Path) -> AsyncIterator[str]:
    """Two real web apps (trusting loopback, where HAProxy is) behind a real HAProxy; its URL."""
    if HAPROXY is None:
        pytest.skip("HAProxy is not installed (make haproxy)")
    settings = settings_for(tmp_path, trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),),
                            allowed_hosts=("localhost", "127.0.0.1"))
    servers = [TestServer(create_app(dataclasses.replace(settings, data_dir=tmp_path / f"replica{n}"), rasa_timeout=2.0),
                          port=free_port()) for n in (1, 2)]
    for server in servers:
        await server.start_server()
    front, monitor = free_port(), free_port()
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_config([Pool("web", front, "/healthz", tuple(s.port for s in servers))], monitor, TRUSTED))
    balancer = subprocess.Popen([str(HAPROXY), "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{monitor}/lb-health", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "HAProxy never saw a healthy web replica"
                time.sleep(0.3)
        yield f"http://127.0.0.1:{front}"
    finally:
        balancer.terminate()
        balancer.wait(timeout=30)
        for server in servers:
            await server.close()


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "localhost", "Origin": "https://localhost"}


async def _post_from(url: str, source: str) -> tuple[int, aiohttp.CookieJar]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0)), cookie_jar=jar) as session:
        async with session.post(f"{url}/api/chat", json={"message": ""}, headers=FORWARDED) as response:
            return response.status, jar


async def test_through_haproxy_forwarded_https_counts_only_from_the_trusted_proxy(balanced: str) -> None:
    status, jar = await _post_from(balanced, "127.0.0.2")
    assert status == 400  # the empty message is refused; the request's origin is accepted
    cookie = next(iter(jar))
    assert cookie.key == SECURE_SESSION_COOKIE and cookie["secure"]

    status, jar = await _post_from(balanced, "127.0.0.3")
    assert status == 403  # "https://localhost" is not the plain-http origin it came to
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=("127.0.0.3", 0)),
                                     cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(f"{balanced}/", headers=FORWARDED) as page:
            assert "Strict-Transport-Security" not in page.headers
        cookie = next(iter(session.cookie_jar))
        assert cookie.key == SESSION_COOKIE and not cookie["secure"]
