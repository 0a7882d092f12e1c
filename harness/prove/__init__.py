"""``harness prove``: the proof of :mod:`harness.proof` run on templates or a deployment,
with its findings cited at the statements that make them and replayed as live checks."""

from harness.prove.cli import main

__all__ = ["main"]
