"""``harness prove``'s model: the policy engine's decision encoded in SMT (z3), and the
promises proven on it for every principal and request context.

Depends on ``harness.policy`` only: it reads the very structures the engine compiles, so the
two read policies alike, and the differential test holds them to the same decisions.
"""

from harness.proof.errors import ModelMismatch, Unencodable
from harness.proof.properties import Property, Variant
from harness.proof.prover import Decided, Example, Result, Verdict, prove
from harness.proof.system import ALLOW_ALL, Document, Role, System

__all__ = [
    "ALLOW_ALL",
    "Decided",
    "Document",
    "Example",
    "ModelMismatch",
    "Property",
    "Result",
    "Role",
    "System",
    "Unencodable",
    "Variant",
    "Verdict",
    "prove",
]
