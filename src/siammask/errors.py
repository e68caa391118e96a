"""The project's one error type: everything a user can get wrong ends here, as one line."""

from __future__ import annotations


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


def printable(text: object) -> str:
    """`text` safe to show on a terminal: every character that is not printable (newlines, ESC and
    the other control codes that could break a line or drive the terminal, lone surrogates from
    names that are not UTF-8) is written as its escape (\\n, \\x1b, \\udcff). A user-controlled
    string (a path, a name read from a file) is shown through this, whatever prints it."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def plural(count: int, word: str) -> str:
    """'1 sequence', '2 sequences': a count in a message."""
    return f"{count} {word}" + ("" if count == 1 else "s")
