"""CPU time and resident memory of a server's whole process group, read from Linux /proc.

The launcher starts each server in a session of its own, so its pid leads a process group
that also holds its workers (Sanic's, uvicorn's): the benches measure the group, not the pid.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from assistant.launcher import Service


def _stat_fields(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name (field 3 onwards)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_group(leader: int) -> list[int]:
    """Every live process of the group ``leader`` started (a server and its workers, e.g. Sanic's)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int(_stat_fields(int(entry.name))[2]) == leader:
                    members.append(int(entry.name))
    return members


def cpu_seconds(leader: int) -> float:
    """User + system CPU time so far of a server's process group (Linux /proc)."""
    total = 0
    for pid in process_group(leader):
        with contextlib.suppress(OSError, IndexError):
            fields = _stat_fields(pid)
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def rss_mib(leader: int) -> float:
    """Resident memory of a server's process group, in MiB."""
    total_kib = 0
    for pid in process_group(leader):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
    return round(total_kib / 1024, 1)


def process_memory(services: Sequence[Service]) -> dict[str, float]:
    """Resident memory (MiB) of each server (its whole process group) after the load (#15.7)."""
    return {service.name: rss_mib(service.process.pid) for service in services if service.process}
