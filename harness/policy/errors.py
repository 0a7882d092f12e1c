"""The one error the policy engine raises."""


class PolicyError(ValueError):
    """A policy document or principal that AWS would reject; the message names the policy."""
