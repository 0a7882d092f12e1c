"""CodePipeline's ``#{Namespace.Variable}`` references in action configuration."""

from __future__ import annotations

import re

from harness.targets.local.codepipeline.waits import ActionFailed

REFERENCE = re.compile(r"#\{([A-Za-z0-9@_-]+)\.([A-Za-z0-9@_.-]+)\}")


def resolve(configuration: dict[str, str], namespaces: dict[str, dict[str, str]]) -> dict[str, str]:
    """``configuration`` with every reference replaced; an unknown one fails the action, as
    CodePipeline fails an action whose variables cannot be resolved."""

    def substitute(match: re.Match[str]) -> str:
        namespace, name = match.groups()
        value = namespaces.get(namespace, {}).get(name)
        if value is None:
            raise ActionFailed("JobFailed", f"The variable {match.group(0)} cannot be resolved")
        return value

    return {key: REFERENCE.sub(substitute, str(value)) for key, value in configuration.items()}
