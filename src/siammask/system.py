"""What this machine lets the process use, asked before work that could exhaust it (targets
tracked at once, a training batch): refusing in one line is kinder than the OOM killer."""

from __future__ import annotations

import os
import resource


def available_memory() -> int | None:
    """Bytes this process may still allocate: the least of the system's available memory, a cgroup
    (container) limit and the address-space limit (ulimit -v). None when none can be read."""
    limits = []
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as f:
            text = f.read().strip()
        if text != "max":
            with open("/sys/fs/cgroup/memory.current", encoding="ascii") as f:
                limits.append(int(text) - int(f.read().strip()))
    except (OSError, ValueError):
        pass
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        limits.append(soft - _address_space_used())
    return min(limits) if limits else None


def _address_space_used() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
