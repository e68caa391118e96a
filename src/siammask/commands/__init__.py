"""CLI subcommands: each module has `register(subparsers)` adding its parser with `func` set.

Kept apart from the library so that `import siammask` stays light; the CLI imports a command's
heavy dependencies only inside its `func`.
"""

# Order is the order shown in `siammask --help`.
COMMAND_MODULES = [
    "demo",
    "track",
    "eval",
    "report",
    "merge",
    "synth",
    "export",
    "quantize",
    "compare",
    "bench",
    "trax",
    "serve",
    "inspect",
    "train",
]
