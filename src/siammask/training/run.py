"""A `siammask train` run: check the outputs, load the dataset and the starting model, train
(resumable), then score the input and the trained model on held-out sequences with the tracker
itself and keep the better of the two. The command parses its options into a TrainRequest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siammask.errors import SiamMaskError, printable


@dataclass(frozen=True)
class TrainRequest:
    """What to train, from what, and where to write it: `siammask train`'s options, named alike
    (their help says what each means)."""

    dataset: str
    output: str
    checkpoint: str | None = None
    seeded: bool = False  # start from the embedded seeded weights (instead of checkpoint)
    steps: int | None = None  # steps in all (600 when neither steps nor minutes is given)
    minutes: float | None = None
    train: str = "heads"
    resume: bool = False
    seed: int = 0
    batch: int = 8
    lr: float | None = None  # None: SEEDED_LR from the seeded weights, FINE_TUNE_LR from a checkpoint
    bf16: bool = False
    threads: int | None = None
    save_every: int = 100
    max_gap: int = 14
    holdout: int | None = None
    eao_interval: str | None = None  # "LOW,HIGH", parsed after the outputs are checked
    year: int = 2017
    split: str | None = None
    json: str | None = None
    keep_worse: bool = False
    holdout_engine: str = "auto"
    negatives: float = 0.25  # share of negative pairs (the search crop without the target)
    reuse: int = 4  # times each drawn pair's frozen features are trained on


# Adam's step size by starting point (docs/training.md, "Fine-tuning a trained model"): from the
# seeded weights the heads have everything to learn; from a trained model, 4 steps of batch 2 at
# 1e-4 took held-out accuracy from 0.815 to 0.363, at 1e-5 they kept it.
SEEDED_LR = 1e-4
FINE_TUNE_LR = 1e-5
PROGRESS_EVERY = 10  # steps between progress lines


def train(args: TrainRequest, say: Callable[[str], None]) -> dict[str, Any]:
    """Check every output, train, then judge the trained model against the input on the held-out
    sequences and leave the better one at `args.output`; `say` gets the lines a user reads (the
    progress bar goes to stderr). Returns the summary (also written to `args.json` when given)."""
    import time

    import torch

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
                        max_gap=args.max_gap, negatives=args.negatives, reuse=args.reuse)
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
    say(f"train {args.train} from {'seeded weights' if args.seeded else printable(args.checkpoint)} (lr {lr:g}): "
        f"{len(tracks)} tracks, held out {len(held)}; step {trainer.step}" + (f" of {steps}" if steps else ""))
    saved = {"step": trainer.step if args.resume else None}

    def save() -> None:
        write_model(model, output)
        trainer.save_state(outputs.state, source)
        saved["step"] = trainer.step

    start_step, start, cpu_start = trainer.step, time.monotonic(), time.process_time()
    recent: list[dict[str, float]] = []

    def progress(values: dict[str, float]) -> None:
        # a line every PROGRESS_EVERY steps (and the first): a log shows the run moving
        recent.append(values)
        done = trainer.step - start_step
        if done != 1 and trainer.step % PROGRESS_EVERY and trainer.step != steps:
            return
        mean = {k: sum(v[k] for v in recent) / len(recent) for k in recent[-1]}
        parts = ", ".join(f"{k} {mean[k]:.3f}" for k in mean if k != "total")
        pairs = done * settings.batch
        wall, cpu_used = time.monotonic() - start, time.process_time() - cpu_start
        say(f"step {trainer.step}" + (f" of {steps}" if steps else "") + f": loss {mean['total']:.3f} ({parts}); "
            f"{pairs / max(wall, 1e-9):.2f} pairs/s ({cpu_used / pairs:.3f} CPU s a pair)")
        recent.clear()

    try:
        trainer.run(steps, args.minutes * 60 if args.minutes else None, args.save_every, save, progress)
    except Diverged as exc:
        raise SiamMaskError(f"{exc}: training stopped; {_kept(outputs, saved['step'])}; try a lower --lr") from None
    seconds, cpu = time.monotonic() - start, time.process_time() - cpu_start
    pairs = (trainer.step - start_step) * settings.batch
    # CPU time too: on a shared machine the wall time says as much about the neighbours
    say(f"trained {trainer.step - start_step} steps ({pairs} pairs) in {seconds:.0f} s: "
        f"{seconds / max(pairs, 1):.3f} s a pair ({cpu / max(pairs, 1):.3f} CPU s)")
    summary = {"steps": trainer.step, "steps_this_run": trainer.step - start_step, "pairs": pairs,
               "seconds": seconds, "cpu_seconds": cpu, "seconds_per_pair": seconds / max(pairs, 1),
               "settings": settings.fingerprint(),
               "threads": torch.get_num_threads(), "loss_first": trainer.history[:10],
               "loss_last": trainer.history[-10:]}
    if held:
        summary.update(_judge(args, dataset, held, interval, outputs, initial, say))
    else:
        say(f"wrote {printable(output)} (the trained model; not scored: no held-out sequence, see --holdout)")
        summary["written"] = "trained"
    if outputs.json:
        save_text(outputs.json, json_text(summary), "--json")
    return summary


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


def _judge(args: TrainRequest, dataset: object, held: list[str], interval: object, outputs: object,
           initial: dict, say: Callable[[str], None]) -> dict:
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
        say(f"held-out sequences ({', '.join(held)}): before = the input model, after = the trained one")
        say(table.removesuffix("\n"))  # the table ends its last line itself
        worse = holdout.score(report, "after") < holdout.score(report, "before")
        figures = f"{holdout.describe(report, 'before')} before, {holdout.describe(report, 'after')} after"
        if worse and not args.keep_worse:
            save_torch({"state_dict": initial}, output, "checkpoint")
            say(f"the trained model scores worse on the held-out sequences ({figures}): wrote the INPUT model "
                  f"to {shown}; --keep-worse writes the trained one (try a lower --lr, fewer steps or more data)")
            written = "input"
        else:
            note = " (worse: kept by --keep-worse)" if worse else ""
            say(f"wrote the trained model to {shown}{note} ({figures})")
            written = "trained"
    return {"holdout": report, "written": written, "trained_worse": worse}


def _load(args: TrainRequest) -> tuple[object, list, list[str]]:
    """The dataset, the training tracks and the held-out sequence names."""
    from siammask.datasets.davis import load_davis
    from siammask.datasets.formats import DAVIS, detect_format
    from siammask.training.data import check_pairable, davis_tracks, vot_tracks
    from siammask.training.holdout import split_holdout

    if detect_format(args.dataset) is DAVIS:
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
