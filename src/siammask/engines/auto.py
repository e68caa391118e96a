"""`--backend auto`: the fastest backend for the precision asked, by a rule backed by measurement.

Measured with scripts/engine_matrix.py (docs/engines.md has the commands and the whole tables):
AMD EPYC (Zen 4: family 25 model 17), 2 cores, AVX-512 with AVX512-BF16 and AVX512-VNNI, no AMX,
2 threads, seeded weights, batch 1,
open-loop replay of the golden records, whole-frame median ms (crop + engine + decode + mask),
engines interleaved in one process. The machine was shared (load average 3-11), so the
absolute figures are several times an idle machine's; the ratios are what the rule uses.

  run (282 frames)     1 (load 2.6-11.3)   2 (load 5.3-7.1)
  fp32  onnxruntime         887                 727        -> onnxruntime
        openvino            941                 751
  bf16  openvino            583                 423        -> openvino (no bf16 in ONNX Runtime on CPU)
  int8  onnxruntime         290                 218        -> onnxruntime (same QDQ folder on both)
        openvino            408                 271

So auto changes nothing for fp32 and INT8 users on any CPU: ONNX Runtime stays their engine
(and the one every parity figure of this project was taken on); OpenVINO serves the
precisions only it can give on a CPU, bf16 (and fp16 from an fp32 export on a GPU device).
"""

from __future__ import annotations


def pick_backend(offered: str, requested: str | None) -> tuple[str, str]:
    """(backend, why) for a folder whose graphs hold `offered` (fp32, fp16, fp32+int8) when
    `requested` (None: what the folder holds) is asked. The chosen backend still checks that it
    can run it (bf16 on a CPU without bf16 units is refused there, naming what the CPU offers)."""
    wanted = requested or ("int8" if "int8" in offered.split("+") else offered)
    if wanted == "bf16":
        return "openvino", "auto: bf16 runs on openvino only (its inference-precision hint)"
    if wanted == "fp16" and offered != "fp16":
        return "openvino", "auto: fp16 from an fp32 export is OpenVINO's precision hint (GPU devices)"
    if wanted == "fp16":
        return "onnxruntime", "auto: an fp16 export runs on onnxruntime (CUDA/TensorRT where present)"
    if wanted == "int8":
        return "onnxruntime", ("auto: int8 on onnxruntime (measured 1.2-1.4x faster a frame than openvino on "
                               "the same QDQ graphs; docs/engines.md)")
    return "onnxruntime", "auto: fp32 on onnxruntime (openvino measured no faster in fp32; docs/engines.md)"
