"""What the proof raises when it must not claim anything."""


class Unencodable(ValueError):
    """A policy construct the SMT model cannot encode faithfully: the proof says so and
    refuses to claim, rather than approximate. The message names the construct."""


class ModelMismatch(AssertionError):
    """The SMT model and the engine decided one concrete request differently: a bug in one
    of them (the differential test keeps such requests as corpus cases)."""
