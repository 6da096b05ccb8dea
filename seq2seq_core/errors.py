"""The error types that carry a message meant for the person using the app."""


class InvalidInput(ValueError):
    """Bad user input: unknown characters, wrong length, absurd sizes, malformed files.

    The message says what is wrong and what is allowed; pages show it as it is.
    """


class ModelFileError(InvalidInput):
    """A saved model file that cannot be used: corrupt, too large, or of another kind."""
