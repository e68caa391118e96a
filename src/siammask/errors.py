"""The project's one error type: everything a user can get wrong ends here, as one line."""


class SiamMaskError(Exception):
    """Bad input or an unusable file. The CLI prints the message on one line and exits 1."""
