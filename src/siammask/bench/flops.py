"""The model's GFLOP per call: with this machine's GEMM rate it gives the bench's floors (the
time the convolutions would take at GEMM speed), so a reader can tell how far a backend is from
what the hardware allows, not only how it compares with another backend."""

from __future__ import annotations


def correlation_gflop(channels: int, kernel: int, out_hw: int) -> float:
    """Depth-wise correlation written as shifted multiply-adds: elementwise ops that the flop
    counter does not see, so counted here (2 FLOP per multiply-add)."""
    return 2.0 * channels * kernel * kernel * out_hw * out_hw / 1e9


def count_gflops() -> dict[str, float] | None:
    """GFLOP of the template, search and refine graphs at batch 1 (convolutions and matmuls by
    torch's FlopCounterMode, plus the correlations); None without torch."""
    try:
        import torch
        from torch.utils.flop_counter import FlopCounterMode
    except ModuleNotFoundError:
        return None
    from siammask.model.network import (
        KERNEL_SIZE,
        REFINE_WINDOWS,
        SCORE_SIZE,
        SEARCH_SIZE,
        SEARCH_WINDOW,
        TEMPLATE_SIZE,
        SiamMaskNet,
    )

    net = SiamMaskNet().eval()
    k = torch.zeros(1, 256, KERNEL_SIZE, KERNEL_SIZE)
    calls = {
        "template": lambda: net.template(torch.zeros(1, 3, TEMPLATE_SIZE, TEMPLATE_SIZE)),
        "search": lambda: net.search(torch.zeros(1, 3, SEARCH_SIZE, SEARCH_SIZE), k, k),
        "refine": lambda: net.refine(
            torch.zeros(1, 256, SEARCH_WINDOW, SEARCH_WINDOW), k,
            torch.zeros(1, 64, REFINE_WINDOWS[0], REFINE_WINDOWS[0]),
            torch.zeros(1, 256, REFINE_WINDOWS[1], REFINE_WINDOWS[1]),
            torch.zeros(1, 512, REFINE_WINDOWS[2], REFINE_WINDOWS[2]),
        ),
    }
    correlations = {"template": 0.0, "search": 2 * correlation_gflop(256, KERNEL_SIZE, SCORE_SIZE),
                    "refine": correlation_gflop(256, KERNEL_SIZE, 1)}
    out: dict[str, float] = {}
    with torch.no_grad():
        for name, call in calls.items():
            counter = FlopCounterMode(display=False)
            with counter:
                call()
            out[f"{name}_gflop"] = counter.get_total_flops() / 1e9 + correlations[name]
    out["frame_gflop"] = out["search_gflop"] + out["refine_gflop"]
    return out
