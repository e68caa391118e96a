"""PyTorch engine: the network in eval mode, same three calls as the ONNX graphs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from siammask.engine_contract import SearchResult, TemplateKernels
from siammask.model.checkpoint import load_model
from siammask.model.network import SiamMaskNet, cell_windows


class TorchEngine:
    name = "torch"
    precision = "fp32"
    wide_search = True  # the network is fully convolutional: any search size

    def __init__(self, model: SiamMaskNet, threads: int | None = None) -> None:
        self.model = model.eval()
        if threads:
            torch.set_num_threads(threads)

    @classmethod
    def from_checkpoint(cls, path: str | Path, threads: int | None = None) -> TorchEngine:
        return cls(load_model(path), threads)

    @torch.inference_mode()
    def template(self, z: np.ndarray) -> TemplateKernels:
        cls_k, loc_k, mask_k = self.model.template(torch.from_numpy(np.ascontiguousarray(z)))
        return TemplateKernels(cls_k.numpy(), loc_k.numpy(), mask_k.numpy())

    @torch.inference_mode()
    def search(self, x: np.ndarray, kernels: TemplateKernels) -> SearchResult:
        cls, loc, *features = self.model.search(
            torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(kernels.cls),
            torch.from_numpy(kernels.loc),
        )
        return SearchResult(cls.numpy(), loc.numpy(), features)

    @torch.inference_mode()
    def refine(
        self, search: SearchResult, kernels: TemplateKernels, rows: np.ndarray, cols: np.ndarray
    ) -> np.ndarray:
        xf, p0, p1, p2 = search.features
        windows = cell_windows(xf, p0, p1, p2, [int(r) for r in rows], [int(c) for c in cols])
        xf_w, p0_w, p1_w, p2_w = windows
        logits = self.model.refine(xf_w, torch.from_numpy(kernels.mask), p0_w, p1_w, p2_w)
        return torch.sigmoid(logits).numpy()
