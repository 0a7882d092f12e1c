"""The project's policy files, shipped inside the package as ``harness.policies``."""
