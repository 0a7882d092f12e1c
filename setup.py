"""Packages: ``harness`` and, mapped onto the checkout's ``policies/``, ``harness.policies``.

pyproject.toml cannot both discover ``harness*`` and add a package whose folder lies outside
``harness/``; this adds it, so the custom checks, skip list and allow-list ship inside the
package while ``policies/`` stays the one place to edit them (see harness/project_policies.py).
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["harness*"]), "harness.policies", "harness.policies.checks"],
    package_dir={"harness.policies": "policies"},
)
