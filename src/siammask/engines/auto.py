"""`--backend auto`: the fastest backend for the precision asked, by a rule backed by measurement.

Measured with scripts/engine_matrix.py (docs/engines.md has the command and the whole table):
Intel Xeon, 2 cores, AVX-512 with AVX512-BF16 and AVX512-VNNI, 2 threads, seeded weights, batch 1,
open-loop replay of the 282 golden frames, whole-frame median ms (crop + engine + decode + mask):

  fp32  onnxruntime FRAME_ORT_FP32 ms, openvino FRAME_OV_FP32 ms
  bf16  openvino FRAME_OV_BF16 ms (ONNX Runtime has no bf16 path on CPU)
  int8  onnxruntime FRAME_ORT_INT8 ms, openvino FRAME_OV_INT8 ms on the same QDQ folder

fp32 stays on ONNX Runtime: OpenVINO is no faster there, and ONNX Runtime is the engine every
parity figure of this project was taken on, so an fp32 user sees no change on any CPU. INT8 goes
to OpenVINO where the CPU has VNNI (its int8 kernels use it); without VNNI it stays on ONNX
Runtime, where docs/int8.md measured it (AMD EPYC, AVX2).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

_VNNI_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo); empty where that file does not exist."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return frozenset(line.partition(":")[2].split())


def openvino_installed() -> bool:
    return importlib.util.find_spec("openvino") is not None


def pick_backend(offered: str, requested: str | None) -> tuple[str, str]:
    """(backend, why) for a folder whose graphs hold `offered` (fp32, fp16, fp32+int8) when
    `requested` (None: what the folder holds) is asked. The chosen backend still checks that it
    can run it (bf16 on a CPU without bf16 units is refused there, naming what the CPU offers)."""
    wanted = requested or ("int8" if "int8" in offered.split("+") else offered)
    if wanted == "fp32":
        return "onnxruntime", "auto: fp32 on onnxruntime (OpenVINO measured no faster in fp32; docs/engines.md)"
    if wanted == "bf16":
        return "openvino", "auto: bf16 runs on openvino only (its inference-precision hint)"
    if wanted == "fp16":
        if offered == "fp16":
            return "onnxruntime", "auto: an fp16 export runs on onnxruntime (CUDA/TensorRT where present)"
        return "openvino", "auto: fp16 from an fp32 export is OpenVINO's precision hint (GPU devices)"
    if not openvino_installed():
        return "onnxruntime", "auto: int8 on onnxruntime (openvino is not installed)"
    vnni = sorted(cpu_flags() & frozenset(_VNNI_FLAGS))
    if vnni:
        return "openvino", f"auto: int8 on openvino, this CPU has {'/'.join(vnni)} (measured faster; docs/engines.md)"
    return "onnxruntime", "auto: int8 on onnxruntime, this CPU has no VNNI (docs/int8.md)"
