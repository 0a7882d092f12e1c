"""HARNESS_FAULT names where a drill's fault goes in; anything else is refused naming the kinds."""

from __future__ import annotations

import pytest

from harness.targets.local.faults import (
    STUCK_ALGORITHM,
    VARIABLE,
    Fault,
    UnknownFault,
    from_environment,
)


def test_no_fault_changes_nothing() -> None:
    assert from_environment({}) == Fault()
    assert Fault().endpoints_healthy and Fault().algorithm is None


def test_each_kind_puts_its_fault_where_it_belongs() -> None:
    raising = from_environment({VARIABLE: "provider-raises:3"}).before_provider
    hanging = from_environment({VARIABLE: "stack-hangs:AWS::S3::Bucket"}).before_provider
    assert raising is not None and raising.raise_at == 3
    assert hanging is not None and hanging.hang_on == "AWS::S3::Bucket"
    assert from_environment({VARIABLE: "training-hangs"}) == Fault(algorithm=STUCK_ALGORITHM)
    assert from_environment({VARIABLE: "endpoint-hangs"}) == Fault(endpoints_healthy=False)


@pytest.mark.parametrize("spec", ["training-hangs:x", "endpoint-hang", "stack-hangs:Bucket"])
def test_an_unknown_fault_is_refused_naming_the_known_ones(spec: str) -> None:
    with pytest.raises(UnknownFault, match=r"must be one of provider-raises:<n>, .*endpoint-hangs"):
        from_environment({VARIABLE: spec})
