"""`siammask train`: fine-tune SiamMask on a VOT- or DAVIS-layout dataset, then score the input and
the trained model on held-out sequences with the tracker itself and keep the better of the two."""

from __future__ import annotations

import argparse

from siammask.commands.options import add_command, positive_int, thread_count
from siammask.errors import SiamMaskError, printable

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
                   help="heads: adjust + RPN; mask: also the mask branch and refine; all: the backbone too")
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
    p.add_argument("--holdout-engine", choices=("auto", "export", "torch"), default="auto",
                   help="how the held-out sequences are tracked: export (ONNX, run by the engine --backend auto "
                        "picks), torch (PyTorch fp32 from the checkpoints), or auto: export from 200 held-out "
                        "frames on, where it is faster (default)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    import torch
    from tqdm import tqdm

    from siammask.files import file_sha256, json_text
    from siammask.model.checkpoint import load_into, read_checkpoint
    from siammask.model.network import SiamMaskNet
    from siammask.training.loop import Diverged, Settings, Trainer, full_state, write_model
    from siammask.training.memory import check_batch
    from siammask.training.outputs import check_outputs, remove_stale_temporaries, save_text

    if args.checkpoint and not Path(args.checkpoint).is_file():
        raise SiamMaskError(f"--checkpoint {args.checkpoint}: not a file")
    # every output is checked before any work: a FIFO, a folder, a file siammask did not write,
    # two outputs on one file, an output on the input
    outputs = check_outputs(args.output, args.json, [("--checkpoint", args.checkpoint)] if args.checkpoint else [],
                            args.resume)
    remove_stale_temporaries(outputs)  # what a killed run left
    output = outputs.model
    interval = None
    if args.eao_interval:
        from siammask.evaluation.vot.report import parse_interval

        interval = parse_interval(args.eao_interval)
    check_batch(args.batch, args.train)
    if args.threads:
        torch.set_num_threads(args.threads)
    lr = args.lr if args.lr is not None else (SEEDED_LR if args.seeded else FINE_TUNE_LR)
    settings = Settings(train=args.train, seed=args.seed, batch=args.batch, lr=lr, bf16=args.bf16,
                        max_gap=args.max_gap)
    dataset, tracks, held = _load(args)

    model = SiamMaskNet()
    if args.checkpoint:
        load_into(model, read_checkpoint(args.checkpoint).state, source=f"checkpoint {args.checkpoint}")
        origin = "sha256:" + file_sha256(args.checkpoint)
    else:
        from siammask.model.seeded import SEED, seeded_state_dict

        load_into(model, {k: torch.from_numpy(v) for k, v in seeded_state_dict().items()}, source="seeded")
        origin = f"seeded:{SEED}"
    initial = full_state(model)  # the input model, kept in case training makes it worse
    source = f"{origin} {Path(args.dataset).resolve()} {','.join(t.name for t in tracks)}"
    trainer = Trainer(model, settings, tracks)
    if args.resume:
        trainer.restore(outputs.state, source)
    steps = None if args.minutes else (args.steps or 600)
    print(f"train {args.train} from {'seeded weights' if args.seeded else printable(args.checkpoint)} (lr {lr:g}): "
          f"{len(tracks)} tracks, held out {len(held)}; step {trainer.step}" + (f" of {steps}" if steps else ""),
          flush=True)
    saved = {"step": trainer.step if args.resume else None}

    def save() -> None:
        write_model(model, output)
        trainer.save_state(outputs.state, source)
        saved["step"] = trainer.step

    start_step, start, cpu_start = trainer.step, time.monotonic(), time.process_time()
    smooth: list[float] = []
    with tqdm(total=steps, initial=trainer.step, unit="step", desc="train", dynamic_ncols=True, disable=None) as bar:
        def progress(values: dict[str, float]) -> None:
            smooth.append(values["total"])
            rate = (trainer.step - start_step) * settings.batch / max(time.monotonic() - start, 1e-9)
            bar.update(1)
            bar.set_postfix_str(f"loss {sum(smooth[-20:]) / len(smooth[-20:]):.3f}, {rate:.2f} pairs/s")

        try:
            trainer.run(steps, args.minutes * 60 if args.minutes else None, args.save_every, save, progress)
        except Diverged as exc:
            raise SiamMaskError(f"{exc}: training stopped; {_kept(outputs, saved['step'])}; try a lower --lr") from None
    seconds, cpu = time.monotonic() - start, time.process_time() - cpu_start
    pairs = (trainer.step - start_step) * settings.batch
    # CPU time too: on a shared machine the wall time says as much about the neighbours
    print(f"trained {trainer.step - start_step} steps ({pairs} pairs) in {seconds:.0f} s: "
          f"{seconds / max(pairs, 1):.3f} s a pair ({cpu / max(pairs, 1):.3f} CPU s)", flush=True)
    summary = {"steps": trainer.step, "steps_this_run": trainer.step - start_step, "pairs": pairs,
               "seconds": seconds, "cpu_seconds": cpu, "seconds_per_pair": seconds / max(pairs, 1),
               "settings": settings.fingerprint(),
               "threads": torch.get_num_threads(), "loss_first": trainer.history[:10],
               "loss_last": trainer.history[-10:]}
    if held:
        summary.update(_judge(args, dataset, held, interval, outputs, initial))
    else:
        print(f"wrote {printable(output)} (the trained model; not scored: no held-out sequence, see --holdout)")
        summary["written"] = "trained"
    if outputs.json:
        save_text(outputs.json, json_text(summary), "--json")
    return 0


# Adam's step size by starting point (docs/training.md, "Fine-tuning a trained model"): from the
# seeded weights the heads have everything to learn; from a trained model, 4 steps of batch 2 at
# 1e-4 took held-out accuracy from 0.815 to 0.363, at 1e-5 they kept it.
SEEDED_LR = 1e-4
FINE_TUNE_LR = 1e-5


def _kept(outputs: object, step: int | None) -> str:
    """What a stopped run leaves, as the files on disk say (a resumed run may have no model file)."""
    model, state = outputs.model, outputs.state  # type: ignore[attr-defined]
    if step is None:
        return "no checkpoint was written"
    if model.is_file():
        return f"the checkpoint of step {step} ({model}) is kept"
    if state.is_file():
        return f"the training state of step {step} ({state}) is kept; --resume continues from it"
    return "no checkpoint was written"


def _judge(args: argparse.Namespace, dataset: object, held: list[str], interval: object, outputs: object,
           initial: dict) -> dict:
    """Score the input and the trained model on the held-out sequences and leave the better one
    at --output (the trained one with --keep-worse); the summary's held-out part."""
    from siammask.training import holdout
    from siammask.training.outputs import save_torch, work_folder

    output = outputs.model  # type: ignore[attr-defined]
    shown = printable(output)
    with work_folder(outputs) as work:  # type: ignore[arg-type]
        before = work / "before.pth"
        save_torch({"state_dict": initial}, before, "checkpoint")
        report, table = holdout.evaluate(dataset, held, {"before": before, "after": output}, args.threads,
                                         interval, work, args.holdout_engine)
        print(f"held-out sequences ({', '.join(held)}): before = the input model, after = the trained one")
        print(table, end="", flush=True)
        worse = holdout.score(report, "after") < holdout.score(report, "before")
        figures = f"{holdout.describe(report, 'before')} before, {holdout.describe(report, 'after')} after"
        if worse and not args.keep_worse:
            save_torch({"state_dict": initial}, output, "checkpoint")
            print(f"the trained model scores worse on the held-out sequences ({figures}): wrote the INPUT model "
                  f"to {shown}; --keep-worse writes the trained one (try a lower --lr, fewer steps or more data)")
            written = "input"
        else:
            note = " (worse: kept by --keep-worse)" if worse else ""
            print(f"wrote the trained model to {shown}{note} ({figures})")
            written = "trained"
    return {"holdout": report, "written": written, "trained_worse": worse}


def _load(args: argparse.Namespace) -> tuple[object, list, list[str]]:
    """The dataset, the training tracks and the held-out sequence names."""
    from siammask.datasets.davis import load_davis
    from siammask.datasets.formats import DAVIS, detect_format
    from siammask.training.data import check_pairable, davis_tracks, vot_tracks
    from siammask.training.holdout import split_holdout

    if detect_format(args.dataset) is DAVIS:
        from pathlib import Path

        split = args.split or ("train" if (Path(args.dataset) / "ImageSets" / str(args.year) / "train.txt").is_file()
                               else "val")
        dataset = load_davis(args.dataset, args.year, split)
        train, held = split_holdout(dataset.names, args.holdout)
        tracks = davis_tracks([dataset[n] for n in train])
    else:
        from siammask.datasets.vot import load_dataset

        dataset = load_dataset(args.dataset)
        train, held = split_holdout(dataset.names, args.holdout)
        tracks = vot_tracks([dataset[n] for n in train])
    return dataset, check_pairable(tracks), held
