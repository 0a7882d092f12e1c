"""``#{Namespace.Variable}`` resolution in action configuration."""

from __future__ import annotations

import pytest

from harness.targets.local.codepipeline.variables import resolve
from harness.targets.local.codepipeline.waits import ActionFailed


def test_references_are_replaced_from_their_namespace() -> None:
    namespaces = {"TrainingStack": {"StateMachineArn": "arn:sm"}, "Source": {"CommitId": "c1"}}
    configuration = {
        "StateMachineArn": "#{TrainingStack.StateMachineArn}",
        "Note": "at #{Source.CommitId}!",
    }
    assert resolve(configuration, namespaces) == {"StateMachineArn": "arn:sm", "Note": "at c1!"}


def test_an_unknown_reference_fails_the_action_naming_it() -> None:
    with pytest.raises(ActionFailed, match=r"#\{Training.ExecutionArn\} cannot be resolved"):
        resolve({"CustomData": "model #{Training.ExecutionArn}"}, {"Training": {}})
