"""The project's one error type: everything a user can get wrong ends here, as one line."""


class SiamMaskError(Exception):
    """Bad input or an unusable file. The CLI prints the message on one line and exits 1."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, so that it unwinds as Ctrl-C does: writers abort or
    commit, worker processes are stopped, and the CLI exits 143 with one line."""


def first_line(exc: BaseException, limit: int | None = None) -> str:
    """The first line of a library's (often many-line) exception message, at most `limit`
    characters, or the exception's type name when it says nothing: what a one-line error quotes."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__
