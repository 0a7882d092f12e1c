"""``harness mutate``: the suite tests itself (DESIGN.md section 7).

Every statement of ``infra/``'s key, bucket, trust and identity policies is mutated one edit at
a time (:mod:`~harness.mutate.mutants`), and the training stack's encryption setting removed
(:mod:`~harness.mutate.training`). Each mutant is first decided offline by the engine over the
requests the checks sample (:mod:`~harness.mutate.equivalence`); unless equivalent it is
applied to one live deployment through the APIs (:mod:`~harness.mutate.apply`), judged by the
checks that bear on it and restored (:mod:`~harness.mutate.examine`), after a baseline
(:mod:`~harness.mutate.baseline`) showed the suite passes unmutated. A survivor is a finding:
a weakness of ``infra/``, a gap in the checks, or a mutant the engine cannot show equivalent.
"""
