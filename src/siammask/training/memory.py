"""How many training pairs a step may hold: the memory a step needs, estimated before any work.

A step holds its batch's crops, the backbone's activations for each (kept for the backward pass
with `--train all`) and the refine module's passes (`--train mask|all`). The figures below are
the peak resident memory a pair adds, measured on CPU (docs/training.md); `--batch` is refused in
one line when the estimate exceeds the memory this process may still use, rather than failing
with a MemoryError (or the kernel's OOM killer) after the data have been read.
"""

from __future__ import annotations

from siammask.errors import SiamMaskError
from siammask.system import available_memory

MIB = 1 << 20
# Peak resident memory a pair adds to a step, by --train, with a margin of about half: measured
# (docs/training.md) 21, 26 and 346 MiB a pair (peak RSS of one step, batch 1 against 4 or 3).
PAIR_BYTES = {"heads": 32 * MIB, "mask": 40 * MIB, "all": 512 * MIB}
# What a run holds besides its batch: the network, Adam's moments, the held-out engines (a
# process holding the network measured 495 MiB before its first step).
BASE_BYTES = 1536 * MIB


def check_batch(batch: int, train: str, available: int | None = None) -> int:
    """`batch`, refused when a step of that many pairs would need more memory than is available."""
    available = available_memory() if available is None else available
    if available is None:
        return batch
    per_pair = PAIR_BYTES[train]
    need = BASE_BYTES + batch * per_pair
    if need > available:
        most = max((available - BASE_BYTES) // per_pair, 0)
        advice = f"use --batch {most} or less" if most else "free memory first"
        raise SiamMaskError(f"--batch {batch}: a step of --train {train} would need about {_gib(need)} "
                            f"({per_pair // MIB} MiB a pair), and {_gib(max(available, 0))} is available; {advice}")
    return batch


def _gib(count: int) -> str:
    return f"{count / (1 << 30):.1f} GiB"
