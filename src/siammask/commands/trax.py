"""`siammask trax`: serve the tracker over the TraX protocol, for vot-toolkit and other TraX clients."""

from __future__ import annotations

import argparse
import sys

from siammask.commands.options import add_command, add_engine_arguments, engine_spec
from siammask.errors import SiamMaskError

EPILOG = """\
A TraX client starts this command and talks to it over stdin/stdout (or the socket named by
TRAX_SOCKET); it is not run by hand. vot-toolkit's trackers.ini entry (see docs/vot-toolkit.md):

  [SiamMask]
  label = SiamMask
  protocol = trax
  command = /path/to/python -m siammask.cli trax --model /abs/path/models/siammask_vot --threads 2

Regions in: rectangle, polygon or mask (the tracker starts from a 4-point polygon as the
reference does, from the bounding box otherwise). Regions out: the rotated box as a polygon, or
the mask where the client initialises with masks (--output auto, the default); the score goes
out as the `confidence` property. A frame where the target is judged absent is answered the
VOT-LT way: an empty region (a 0x0 rectangle, or an empty mask) with the confidence. --long-term
keeps an absent target's state and searches wider until it is found. With neither --checkpoint
nor --model: the embedded default, said on stderr (its export is written into the cache on its
first use, which takes a while: a client with a start-up timeout may need a second start).
Needs the vot-trax package: pip install 'siammask[vot]'.
"""


HELP = "serve the tracker over the TraX protocol (vot-toolkit's external tracker)"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `trax` subcommand to the CLI's subparsers."""
    parser = add_command(subparsers, "trax", HELP, __doc__, EPILOG)
    add_engine_arguments(parser)  # neither --checkpoint nor --model: the embedded default
    parser.add_argument(
        "--output", choices=("auto", "polygon", "mask"), default="auto",
        help="region type sent back: auto (mask when the client initialises with a mask, else polygon)",
    )
    parser.add_argument("--name", default="SiamMask", help="tracker name announced to the client")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from siammask.serve.trax import import_trax, in_trax_session, serve, stderr_log

    import_trax()  # a missing vot-trax is reported before the model is loaded
    if sys.stdin.isatty() and not in_trax_session():
        raise SiamMaskError("`siammask trax` is started by a TraX client such as vot-toolkit, not from a "
                            "terminal: see docs/vot-toolkit.md")
    # the model loads before the handshake, so a bad model ends the process with a one-line error
    engine, config = engine_spec(args).build()
    serve(engine, config, output=args.output, name=args.name, log=stderr_log)
    return 0
