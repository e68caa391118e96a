"""Write a deterministic synthetic tracking dataset in the VOT2016 layout (or VOT-LT, DAVIS): a textured target moving,
rotating and changing size over a cluttered background, with exact ground truth and per-frame
attribute tags. The same options always give byte-identical files.
"""

from __future__ import annotations

import argparse
import importlib
import re

from siammask.commands.options import add_command

EPILOG = """\
examples:
  siammask synth data/synth
      3 sequences of 60 frames, 320x240, seed 0

  siammask synth /tmp/vot-synth --sequences 5 --frames 120 --size 640x480 --seed 7

  siammask synth data/synth --force
      replace a dataset written before (a directory without list.txt is never replaced)

  siammask synth data/davis-synth --layout davis --sequences 2 --frames 20 --objects 3
      a DAVIS 2017-layout dataset: objects of several shapes occluding each other, every frame annotated

  siammask synth data/lt-synth --layout vot-lt --sequences 4 --frames 300
      a VOT2018-LT-layout dataset: the target hides behind a panel or leaves the view for 15-35
      frames and comes back elsewhere (at least 47 frames; longer sequences hold several absences)

  siammask synth data/otb-synth --layout otb --sequences 4 --frames 40 --size 160x120
  siammask synth data/lasot-synth --layout lasot --frames 120
  siammask synth data/got10k-synth --layout got10k --frames 80
      one-pass benchmark layouts (OTB, LaSOT, GOT-10k val) for `eval`; LaSOT's and GOT-10k's
      targets go away and come back as vot-lt's do (at least 47 frames)

layout: OUT/list.txt, OUT/synthNN/00000001.jpg..., OUT/synthNN/groundtruth.txt (8 values per line:
the target's rotated rectangle) and OUT/synthNN/<attribute>.tag (one 0/1 per frame).
--layout vot2020: the same, groundtruth.txt holding the target's visible pixels as vot-toolkit's mask
lines (m<x>,<y>,<w>,<h>,<run lengths>; empty where the occluder hides it all).
--layout davis: OUT/JPEGImages/480p/davisNN/00000.jpg..., OUT/Annotations/480p/davisNN/00000.png...
(palette PNGs, 0 background, k the k-th object) and OUT/ImageSets/2016|2017/val.txt.
--layout vot-lt: OUT/list.txt, OUT/ltNN/00000001.jpg..., OUT/ltNN/groundtruth.txt (x,y,w,h a line,
nan,nan,nan,nan on frames where the target cannot be seen).
--layout otb: OUT/synthNN/img/0001.jpg..., OUT/synthNN/groundtruth_rect.txt (x,y,w,h; commas or tabs).
--layout lasot: OUT/synth/synth-N/img/00000001.jpg..., groundtruth.txt, full_occlusion.txt,
out_of_view.txt, nlp.txt, and OUT/testing_set.txt.
--layout got10k: OUT/val/list.txt, OUT/val/GOT-10k_Val_NNNNNN/00000001.jpg..., groundtruth.txt,
absence.label, cover.label, cut_by_image.label, meta_info.ini.
"""

_SIZE_RE = re.compile(r"\s*(\d+)\s*[xX]\s*(\d+)\s*")


def parse_size(text: str) -> tuple[int, int]:
    """Parse "WxH" (e.g. 320x240) into (width, height); argparse reports a bad value as usage."""
    match = _SIZE_RE.fullmatch(text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 320x240, got {text!r}")
    return int(match.group(1)), int(match.group(2))


HELP = "write a synthetic dataset, VOT2016, VOT-LT, DAVIS, OTB, LaSOT or GOT-10k layout (deterministic)"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `synth` subcommand to the CLI's subparsers."""
    parser = add_command(subparsers, "synth", HELP, __doc__, EPILOG)
    parser.add_argument("out", metavar="OUT", help="output directory (must not exist or be empty)")
    parser.add_argument(
        "--sequences", type=int, default=3, metavar="N", help="number of sequences (default 3)"
    )
    parser.add_argument(
        "--frames", type=int, default=60, metavar="M", help="frames per sequence (default 60)"
    )
    parser.add_argument(
        "--size", type=parse_size, default=(320, 240), metavar="WxH", help="frame size (default 320x240)"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument(
        "--layout", choices=("vot", "vot2020", "vot-lt", "davis", "broad", "otb", "lasot", "got10k"), default="vot",
        help="vot: one target a sequence, VOT2016 layout (default); vot2020: the same sequences, the ground truth "
             "the target's visible pixels as vot-toolkit's mask lines; vot-lt: the target goes away and comes "
             "back, VOT2018-LT layout; davis: several objects with label maps, DAVIS 2017 layout; broad: the "
             "training generator (varied shapes, textures, distractors, occluders; DAVIS layout), another "
             "renderer than the others so that their sequences stay held out; otb, lasot, got10k: the one-pass "
             "benchmarks' layouts (LaSOT's and GOT-10k's targets go away and come back)",
    )
    parser.add_argument(
        "--objects", type=int, default=3, metavar="K",
        help="davis layout: objects in even sequences (odd ones hold one fewer; default 3)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace OUT if it already holds a dataset (has list.txt)"
    )
    parser.set_defaults(func=run)


# layout -> (datasets module, its writer, what the written line calls the sequences, whether it
# takes --objects); the one-pass writer also takes the layout's name
_WRITERS = {
    "vot": ("synth", "make_dataset", "sequence(s)", False),
    "vot2020": ("synth", "make_mask_dataset", "VOT2020-layout sequence(s) (mask ground truth)", False),
    "vot-lt": ("synth_lt", "make_lt_dataset", "VOT-LT-layout sequence(s)", False),
    "davis": ("synth_davis", "make_davis_dataset", "DAVIS-layout sequence(s)", True),
    "broad": ("synth_broad", "make_broad_dataset", "broad training sequence(s) (DAVIS layout)", True),
    "otb": ("synth_onepass", "make_onepass_dataset", "OTB-layout sequence(s)", False),
    "lasot": ("synth_onepass", "make_onepass_dataset", "LaSOT-layout sequence(s)", False),
    "got10k": ("synth_onepass", "make_onepass_dataset", "GOT-10k-layout (val split) sequence(s)", False),
}


def run(args: argparse.Namespace) -> int:
    """Write the dataset and print one line saying what was written."""
    module, writer, what, with_objects = _WRITERS[args.layout]
    make = getattr(importlib.import_module(f"siammask.datasets.{module}"), writer)
    layout = (args.layout,) if module == "synth_onepass" else ()
    options = {"objects": args.objects} if with_objects else {}
    out = make(args.out, *layout, sequences=args.sequences, frames=args.frames, size=args.size, seed=args.seed,
               overwrite=args.force, **options)
    width, height = args.size
    objects = f", up to {args.objects} objects" if with_objects else ""
    print(f"wrote {args.sequences} {what} x {args.frames} frames{objects}, {width}x{height}, seed {args.seed} to {out}")
    return 0
