"""IpAddress reads a source address as ``ipaddress`` does, by its fast path or its own."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.policy.conditions import _address

QUADS = st.lists(st.integers(0, 300).map(str), min_size=4, max_size=4).map(".".join)
NEAR_QUADS = st.text(alphabet="0123456789.\u0663 x:", max_size=18)


def reference(text: str) -> tuple[int, int] | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.version, int(address)


@settings(deadline=None)  # it checks the answers, not their time: a loaded host must not fail it
@given(st.one_of(QUADS, NEAR_QUADS, st.ip_addresses().map(str)))
def test_an_address_reads_as_ipaddress_reads_it(text: str) -> None:
    assert _address.__wrapped__(text) == reference(text)


@pytest.mark.parametrize(
    "text",
    [
        "010.0.0.1",  # leading zeros: refused by both
        "1.2.3.256",
        "1.2.3",
        "1.2.3.4.5",
        "\u0661.2.3.4",  # an Arabic-Indic digit: not ASCII
        " 1.2.3.4",
        "1.2.3.4\n",
        "::1",
    ],
)
def test_what_the_fast_path_refuses_is_left_to_ipaddress(text: str) -> None:
    assert _address.__wrapped__(text) == reference(text)
