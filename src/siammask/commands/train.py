"""`siammask train`: fine-tune SiamMask on a VOT- or DAVIS-layout dataset, then score the input and
the trained model on held-out sequences with the tracker itself and keep the better of the two."""

from __future__ import annotations

import argparse

from siammask.commands.options import add_command, positive_int, thread_count

EPILOG = """\
examples:
  siammask train --dataset data/mine --checkpoint SiamMask_VOT.pth --output mine.pth --minutes 30
  siammask train --dataset data/synth --seeded --output trained.pth --steps 600 --train mask --bf16
  siammask train --dataset data/synth --seeded --output trained.pth --steps 1200 --train mask --bf16 --resume

The output is a checkpoint in the authors' layout (the keys of SiamMask_VOT.pth), which every other
command takes. Every --save-every steps it is rewritten, beside OUTPUT.train (the trained tensors
and Adam's state); --resume continues from that file to --steps in all, computing what an
uninterrupted run computes. --steps counts every step since the start, resumed ones included.

At the end both models track the held-out sequences (a line on stderr per sequence); when the
trained one scores worse (more failures, or as many and lower accuracy; DAVIS: lower J&F), the
INPUT model is written to --output instead, and the run says so (exit 0). --keep-worse writes
the trained one anyway. An existing --output or --json is replaced only when siammask wrote it.
"""


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to under 1, got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to under 1, got {text}")
    return value


HELP = "fine-tune SiamMask on a dataset (heads, mask or all)"


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "train", HELP, __doc__, EPILOG)
    p.add_argument("--dataset", required=True, metavar="DIR", help="VOT-layout (list.txt) or DAVIS-layout dataset")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", metavar="FILE", help="the model to start from (.pth)")
    source.add_argument("--seeded", action="store_true", help="start from the embedded seeded weights")
    p.add_argument("--output", required=True, metavar="FILE", help="trained checkpoint (.pth)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--steps", type=positive_int, metavar="N", help="steps in all (default 600)")
    length.add_argument("--minutes", type=positive_float, metavar="M", help="train for M minutes instead")
    p.add_argument("--train", choices=("heads", "mask", "all"), default="heads",
                   help="heads: the RPN; mask: also adjust, mask branch and refine; all: the backbone too")
    p.add_argument("--resume", action="store_true", help="continue from OUTPUT.train")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="data and augmentation seed (default 0)")
    p.add_argument("--batch", type=positive_int, default=8, metavar="B", help="pairs a step (default 8)")
    p.add_argument("--lr", type=positive_float, metavar="LR",
                   help="Adam's step size (default 1e-5 from --checkpoint, 1e-4 from --seeded)")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast (faster where the CPU has bf16)")
    p.add_argument("--threads", type=thread_count, metavar="N", help="CPU threads")
    p.add_argument("--save-every", type=positive_int, default=100, metavar="N", help="checkpoint interval (100)")
    p.add_argument("--max-gap", type=positive_int, default=14, metavar="N", help="frames between a pair's two (14)")
    p.add_argument("--holdout", type=int, metavar="K",
                   help="last K sequences held out and scored before/after (default 1 when there are >= 3)")
    p.add_argument("--eao-interval", metavar="LOW,HIGH", help="EAO interval of the held-out report (VOT)")
    p.add_argument("--year", type=int, choices=(2016, 2017), default=2017, help="DAVIS: ImageSets/YEAR")
    p.add_argument("--split", metavar="NAME", help="DAVIS: ImageSets/YEAR/NAME.txt (default train, else val)")
    p.add_argument("--json", metavar="FILE", help="write the run's figures and held-out reports as JSON")
    p.add_argument("--keep-worse", action="store_true",
                   help="write the trained model even when it scores worse than the input on the held-out sequences")
    p.add_argument("--negatives", type=fraction, default=0.25, metavar="F",
                   help="share of negative pairs: a template against a search crop without its target, every "
                        "anchor background (default 0.25)")
    p.add_argument("--reuse", type=positive_int, default=4, metavar="N",
                   help="times each drawn pair is trained on: the frozen layers run once a pair (default 4; "
                        "1 draws every pair afresh)")
    p.add_argument("--holdout-engine", choices=("auto", "export", "torch"), default="auto",
                   help="how the held-out sequences are tracked: export (ONNX, run by the engine --backend auto "
                        "picks), torch (PyTorch fp32 from the checkpoints), or auto: export from 200 held-out "
                        "frames on, where it is faster (default)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import fields

    from siammask.training.run import TrainRequest, train

    request = TrainRequest(**{f.name: getattr(args, f.name) for f in fields(TrainRequest)})
    train(request, lambda line: print(line, flush=True))
    return 0
