"""The bench's output: the human-readable report (a table of medians and the floors beneath it)
and the JSON of every figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from siammask.errors import SiamMaskError
from siammask.files import json_text, write_text_atomically

HEADER = ["backend", "template ms", "search ms", "refine ms", "decode+mask ms", "frame ms", "FPS",
          "peak RSS MB", "speed-up", "search x floor", "<=1px of fp32", "median err px"]
ONE_LINE = ("failed", "not run here")  # rows shown as their label and one note, outside the columns


def number(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def median_of(row: dict[str, Any], key: str) -> float | None:
    value = row.get(key)
    return value["median"] if isinstance(value, dict) else None


def settings_lines(result: dict[str, Any]) -> list[str]:
    """The machine and the run's settings, then --backend auto's pick for each precision."""
    m, s = result["machine"], result["settings"]
    lines = [
        f"machine: {m['cpu']}, {m['usable_cores']} usable cores of {m['cores']}, {s['threads']} threads; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v),
        f"sequence: {s['sequence']}, {s['frames']} tracked frames; latencies: median of {s['repeats']} calls "
        f"(batch 1) after {s['warmup']} warm-up; weights: {s['checkpoint']}",
        "",
    ]
    for pick in result.get("auto") or []:
        if pick.get("backend"):
            where = f" ({Path(pick['model']).name})" if pick.get("model") else ""
            lines.append(f"--backend auto, {pick['precision']}: {pick['backend']}{where}: {pick['reason']}")
        else:
            lines.append(f"--backend auto, {pick['precision']}: cannot run here: {pick.get('refused')}")
    if result.get("auto"):
        lines.append("")
    return lines


def table_cells(result: dict[str, Any]) -> list[list[str]]:
    """The header and one row of cells per reference run and backend x precision."""
    vs_floor = (result.get("floors") or {}).get("search_vs_floor", {})
    table = [HEADER]
    for row in result["reference"] + result["backends"]:
        if row.get("refused"):
            table.append([row["label"], f"not run here: {row['refused']}"] + [""] * (len(HEADER) - 2))
            continue
        if row.get("error"):
            table.append([row["label"], f"failed: {row['error']}"[:100]] + [""] * (len(HEADER) - 2))
            continue
        speed = row.get("speedup_vs_reference")
        multiple = (vs_floor.get(row["label"]) or {}).get("multiple")
        agree = row.get("agreement") or {}
        table.append([
            row["label"], number(median_of(row, "template_ms")), number(median_of(row, "search_ms")),
            number(median_of(row, "refine_ms")), number(median_of(row, "decode_mask_ms"), ".2f"),
            number(median_of(row, "frame_ms")), number(row.get("fps"), ".2f"),
            number(row.get("peak_rss_mb"), ".0f"), "-" if speed is None else f"{speed:.2f}x",
            "-" if multiple is None else f"{multiple:.2f}x",
            "-" if agree.get("within_1px") is None else f"{100 * agree['within_1px']:.1f}%",
            number(agree.get("median_error_px"), ".2f"),
        ])
    return table


def table_lines(result: dict[str, Any]) -> list[str]:
    """The table, its columns as wide as their widest measured cell, then what its columns mean."""
    table = table_cells(result)
    widths = [max(len(r[i]) if len(r) > i else 0 for r in table if not r[1].startswith(ONE_LINE))
              for i in range(len(HEADER))]
    lines = []
    for i, row in enumerate(table):
        if row[1].startswith(ONE_LINE):
            lines.append(f"{row[0]:<{widths[0]}}  {row[1]}")
            continue
        lines.append("  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    if result["reference"]:
        lines.append("speed-up: end-to-end FPS / the reference's (tools/test.py as the authors run it, autograd on)")
    agreed = [r for r in result["backends"] if r.get("agreement")]
    if agreed:
        base = agreed[0]["agreement"]["vs"]
        lines.append(f"<=1px of fp32, median err: open-loop, each frame replayed from the {base} run's input "
                     "state; error = largest polygon-coordinate difference from fp32's")
    lines.append("search x floor: search median / its precision's floor (GFLOP at the GEMM rate of that precision)")
    return lines


def floor_lines(result: dict[str, Any]) -> list[str]:
    """The model's GFLOP, the GEMM rates and the floors they give, each row against its floor."""
    flops, gemm, floor = result["flops"], result["gemm"], result["floor"]
    lines = [""]
    if flops:
        lines.append(f"model: template {flops['template_gflop']:.2f} GFLOP (once per target), search "
                     f"{flops['search_gflop']:.2f} + refine {flops['refine_gflop']:.2f} = "
                     f"{flops['frame_gflop']:.2f} GFLOP per frame")
    ref_flops = [r for r in result["reference"] if r.get("gflop_per_frame")]
    if ref_flops:
        lines.append(f"reference: {ref_flops[0]['gflop_per_frame']:.2f} GFLOP per frame (it also runs the unused "
                     "63x63 mask head and the mask branch over the whole score map)")
    if not gemm.get("error"):
        lines.append(f"fp32 GEMM (numpy {gemm['size']}x{gemm['size']} matmul, {gemm['threads']} threads): "
                     f"{gemm['gflops_best']:.1f} GFLOP/s best, {gemm['gflops_median']:.1f} median")
    if floor:
        lines.append(f"fp32 floor = GFLOP / GEMM rate: search {floor['search_ms']:.1f} ms, refine "
                     f"{floor['refine_ms']:.2f} ms, per frame {floor['frame_ms']:.1f} ms")
        for label, ratio in floor["measured_vs_floor"].items():
            lines.append(f"  {label}: search {ratio['search']:.2f}x the floor "
                         f"({ratio['achieved_gflops_search']:.1f} GFLOP/s achieved), refine {ratio['refine']:.2f}x, "
                         f"search+refine {ratio['engine_frame']:.2f}x")
    precision_floors = (result.get("floors") or {}).get("precisions", {})
    for precision, probe in ((result.get("gemm") or {}).get("precisions") or {}).items():
        if probe.get("skipped"):
            lines.append(f"{precision} GEMM: not measured: {probe['skipped']}")
        else:
            floor_ms = precision_floors.get(precision, {}).get("search_ms")
            lines.append(f"{precision} GEMM ({probe['op']}, {probe['size']}x{probe['size']}): "
                         f"{probe['gflops_best']:.1f} GFLOP/s best"
                         + (f", search floor {floor_ms:.1f} ms" if floor_ms is not None else ""))
    if (result.get("gemm") or {}).get("bf16_units_source"):
        lines.append(f"bf16 units: {'yes' if result['gemm']['bf16_units'] else 'no'} "
                     f"({result['gemm']['bf16_units_source']})")
    return lines


def check_lines(result: dict[str, Any]) -> list[str]:
    """The host-work target, the torch-free check, parity, a busy machine and every problem."""
    lines = []
    measured = [r for r in result["backends"] if not r.get("error") and not r.get("refused")]
    for row in measured:
        host = row["decode_mask_ms"]
        w, h = row["frame_size"]
        verdict = "within" if host["median"] <= result["decode_target_ms"] else "over"
        lines.append(f"decode+mask at {w}x{h}, {row['label']}: median {host['median']:.2f} ms, mean "
                     f"{host['mean']:.2f} ms ({verdict} the {result['decode_target_ms']:.0f} ms target)")
    for row in measured:
        if row.get("backend") == "onnxruntime":
            lines.append(f"{row['label']} worker: torch imported: {'YES' if row['torch_imported'] else 'no'}")
    if result["parity"]:
        pairs = ", ".join(f"{pair} {diff:.3g} px" for pair, diff in result["parity"].items())
        lines.append(f"largest polygon difference (same frames and weights; bf16/int8 may differ): {pairs}")
    load = (result.get("load_average") or {}).get("max")
    cores = result["machine"]["usable_cores"]
    if load is not None and load > cores + 0.5:  # our own run alone stays near `threads`
        lines.append(f"NOTE: the machine was busy (1-min load average up to {load:.1f} on {cores} cores "
                     "during the run): other processes' load inflates these timings; run again on an idle machine")
    for problem in result["problems"]:
        lines.append(f"PROBLEM: {problem}")
    return lines


def format_report(result: dict[str, Any]) -> str:
    """The human-readable report: a table (medians, ms) and the FLOP / GEMM floor beneath it."""
    return "\n".join(settings_lines(result) + table_lines(result) + floor_lines(result) + check_lines(result))


def write_json(result: dict[str, Any], path: str | Path) -> None:
    """Write all figures (per-frame polygons included) atomically."""
    try:
        write_text_atomically(Path(path), json_text(result))
    except OSError as exc:
        raise SiamMaskError(f"--json {path}: cannot be written ({exc.strerror or exc})") from None
