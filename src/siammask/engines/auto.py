"""`--backend auto`: the fastest backend for the precision asked, by a rule backed by measurement.

Measured with scripts/engine_matrix.py (docs/engines.md has the commands and the whole tables):
AMD EPYC (Zen 4: family 25 model 17), 2 cores, AVX-512 with AVX512-BF16 and AVX512-VNNI, no AMX,
2 threads, seeded weights, batch 1, idle machine (load average 0.9 -> 1.5), open-loop replay of
the golden records (282 frames), whole-frame median ms (crop + engine + decode + mask), engines
interleaved in one process; OpenVINO compiled for static batch sizes (openvino_engine.py):

  fp32  onnxruntime   82.1        openvino   76.2  -> openvino (1.08x; polygons equal: both 100%)
  bf16  openvino      41.8                         -> openvino (no bf16 in ONNX Runtime on CPU)
  int8  onnxruntime   35.5        openvino   29.1  -> openvino (1.22x, same QDQ folder)

An earlier rule picked ONNX Runtime for fp32 and INT8: OpenVINO then ran the graphs with their
dynamic batch and copied its outputs, and was 0.94-0.97x (fp32) and 0.7-0.8x (INT8) of it.
OpenVINO is picked only where it was measured faster, CPUs with AVX512-VNNI (or AMX); ONNX
Runtime stays the pick on other CPUs (the AVX2 machines this project's first figures were
measured on), where OpenVINO is not installed (it is an extra), where ONNX Runtime has a GPU
provider (CUDA/TensorRT), and where --providers names ONNX Runtime providers. On an AVX2 EPYC
(no AVX-512) one 20-frame bench run had OpenVINO 1.06x (fp32) and 1.04x (INT8) faster a frame:
inside the VM's run-to-run drift, so not grounds to switch (docs/engines.md).
"""

from __future__ import annotations

from pathlib import Path


def cpu_flags() -> set[str]:
    """The CPU's feature flags as Linux lists them; empty where /proc/cpuinfo cannot be read."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return set(line.partition(":")[2].split())


def measured_openvino_cpu(flags: set[str]) -> bool:
    """A CPU of the kind OpenVINO was measured faster on (int8 dot products in AVX-512 or AMX)."""
    return bool({"avx512_vnni", "amx_int8"} & flags)


def pick_backend(
    offered: str, requested: str | None, openvino_installed: bool = True, onnx_gpu: bool = False,
    openvino_cpu: bool = True,
) -> tuple[str, str]:
    """(backend, why) for a folder whose graphs hold `offered` (fp32, fp16, fp32+int8) when
    `requested` (None: what the folder holds) is asked. The chosen backend still checks that it
    can run it (bf16 on a CPU without bf16 units is refused there, naming what the CPU offers)."""
    from siammask.deploy.manifest import precision_parts

    wanted = requested or ("int8" if "int8" in precision_parts(offered) else offered)
    if wanted == "bf16":
        return "openvino", "auto: bf16 runs on openvino only (its inference-precision hint)"
    if wanted == "fp16" and offered != "fp16":
        return "openvino", "auto: fp16 from an fp32 export is OpenVINO's precision hint (GPU devices)"
    if wanted == "fp16":
        return "onnxruntime", "auto: an fp16 export runs on onnxruntime (CUDA/TensorRT where present)"
    if onnx_gpu:
        return "onnxruntime", f"auto: {wanted} on onnxruntime (it has a GPU provider here)"
    if not openvino_installed:
        return "onnxruntime", (f"auto: {wanted} on onnxruntime (openvino, measured faster on CPU, is not "
                               "installed: pip install 'siammask[openvino]')")
    if not openvino_cpu:
        return "onnxruntime", (f"auto: {wanted} on onnxruntime (openvino was measured faster only on CPUs "
                               "with AVX512-VNNI or AMX; docs/engines.md)")
    if wanted == "int8":
        return "openvino", ("auto: int8 on openvino (measured 1.22x faster a frame than onnxruntime on the "
                            "same QDQ graphs; docs/engines.md)")
    return "openvino", ("auto: fp32 on openvino (measured 1.08x faster a frame than onnxruntime, same "
                        "polygons; docs/engines.md)")
