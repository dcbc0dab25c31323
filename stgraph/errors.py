"""The one exception type that stands for bad user input.

Library code raises :class:`InputError` whenever a file, a name or a value given by the user
cannot be used; the message is a single sentence naming the problem and, where there is one,
the fix. The command line turns it into one line on standard error and exit status 2.
"""


class InputError(ValueError):
    """Bad user input: a missing file, a malformed table, an unknown name, a bad value."""
