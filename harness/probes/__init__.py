"""The live probes of the compliance suite and the rules that make their outcomes evidence.

A :class:`~harness.probes.cells.Cell` is one expectation of the allow-list (or of a promise):
the request to make, what the allow-list expects of it and, for a refusal, the control that must
be allowed and the kind of policy that must be what refuses. The
:class:`~harness.probes.prober.Prober` makes the requests (batched, resource-side probes grouped
per role) and
:func:`~harness.probes.judge.judge` applies DESIGN.md section 7's rules of evidence. The pytest
suite (``tests/integration``) and ``harness mutate`` both judge cells through here: one
implementation of every check.
"""
