"""The real action server (``python -m rasa_sdk --actions actions``) for tests, in a process group of its own.

Synchronous, so module-scoped fixtures can share one server: it starts in a second or two,
and its catalog index loads in the background after that.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.launcher import Ports, child_environment
from assistant.settings import PROJECT_ROOT, Settings

START_SECONDS = 150.0  # a generous bound for a loaded 2-core machine; the server is usually up in seconds


@contextmanager
def running_action_server(settings: Settings, log_path: Path) -> Iterator[str]:
    """Serve ``settings``' store on a free loopback port until the block ends; yields the base URL."""
    port = Ports.free().action_server
    env = {**child_environment(settings, Ports(action_server=port)), "SANIC_HOST": "127.0.0.1"}
    command = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(process, url, log_path)
            yield url
        finally:
            stop_group(process)


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"action server exited: {log_path.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"action server did not answer /health: {log_path.read_text(errors='replace')[-2000:]}")


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and its Sanic worker (its own process group), forcibly if it lingers."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
