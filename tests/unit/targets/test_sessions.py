"""Clients of the harness's sessions behave as clients of a plain boto3.Session while sharing
what does not depend on the client: API methods, endpoint providers, unchanged handler nodes,
aliased event names (harness/targets/sessions.py)."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import botocore.client
import botocore.session
import pytest
from botocore.args import ClientArgsCreator
from botocore.hooks import EventAliaser, HierarchicalEmitter, _PrefixTrie
from botocore.regions import EndpointRulesetResolver

from harness.targets.sessions import (
    WRITTEN_FOR,
    _CopyOnWriteTrie,
    _EventAliaser,
    _Handlers,
    new_session,
)

pytestmark = pytest.mark.skipif(
    not botocore.__version__.startswith(WRITTEN_FOR),
    reason=f"botocore {botocore.__version__}: sessions are botocore's own off {WRITTEN_FOR}x "
    "(test_sessions_fallback.py)",
)
KEYS = {"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "secret"}
URL = "https://127.0.0.1:1"


def _client(session: boto3.Session, service: str, **kwargs: Any) -> Any:
    return session.client(service, region_name="eu-west-1", endpoint_url=URL, **kwargs)


@pytest.mark.parametrize("service", ["s3", "sts", "iam", "kms", "sagemaker"])
def test_a_client_has_the_methods_and_names_of_a_plain_sessions_client(service: str) -> None:
    ours = _client(new_session(**KEYS), service)
    plain = _client(boto3.Session(**KEYS), service)
    assert dir(ours) == dir(plain)
    assert type(ours).__name__ == type(plain).__name__
    assert type(ours).__mro__[1:] == type(plain).__mro__[1:]
    name = sorted(ours.meta.method_to_api_mapping)[0]
    assert str(getattr(ours, name).__doc__) == str(getattr(plain, name).__doc__)


def test_s3_clients_keep_the_methods_boto3_injects() -> None:
    client = _client(new_session(**KEYS), "s3")
    for name in ("upload_file", "download_file", "upload_fileobj", "generate_presigned_url"):
        assert callable(getattr(client, name))


def test_the_api_methods_are_made_once_and_the_class_for_each_client() -> None:
    """Guards the cache: without it each class holds methods of its own; with the class
    cached instead, a handler of one session would reach another's clients."""
    first, second = (_client(new_session(**KEYS), "kms") for _ in range(2))
    assert type(first) is not type(second)
    assert type(first).__dict__["encrypt"] is type(second).__dict__["encrypt"]


def test_a_sessions_creating_client_class_handler_reaches_only_its_clients() -> None:
    marked, other = new_session(**KEYS), new_session(**KEYS)

    def mark(class_attributes: dict[str, Any], **_: Any) -> None:
        class_attributes["marked"] = True

    marked._session.register("creating-client-class.sts", mark)
    assert _client(marked, "sts").marked is True
    assert not hasattr(_client(other, "sts"), "marked")
    assert "marked" not in type(_client(new_session(**KEYS), "sts")).__dict__


class Stop(Exception):
    """Raised by a test's handler to show it ran."""


def _stop(request: Any, **_: Any) -> None:
    raise Stop(request.url)


def _sent(client: Any) -> str:
    """The URL of the request a call without parameters sends, stopped before it is sent."""
    calls = {"s3": "list_buckets", "sts": "get_caller_identity", "kms": "list_keys"}
    with pytest.raises(Stop) as stopped:
        getattr(client, calls[client.meta.service_model.service_name])()
    return str(stopped.value)


def test_a_client_raises_what_its_sessions_handlers_raise() -> None:
    session = new_session(**KEYS)

    def stop(**_: Any) -> None:
        raise Stop

    session._session.register("before-send.sts.GetCallerIdentity", stop)
    with pytest.raises(Stop):
        _client(session, "sts").get_caller_identity()


def test_each_client_has_its_own_credentials_region_and_endpoint() -> None:
    session = new_session(**KEYS)
    one = session.client("sts", region_name="eu-west-1", endpoint_url="https://one.example")
    two = session.client(
        "sts",
        region_name="us-west-2",
        endpoint_url="https://two.example",
        aws_access_key_id="AKIAOTHER",
        aws_secret_access_key="other",
    )
    assert (one.meta.region_name, one.meta.endpoint_url) == ("eu-west-1", "https://one.example")
    assert (two.meta.region_name, two.meta.endpoint_url) == ("us-west-2", "https://two.example")
    assert one._request_signer._credentials.access_key == "AKIAEXAMPLE"
    assert two._request_signer._credentials.access_key == "AKIAOTHER"


def test_clients_made_on_many_threads_are_whole() -> None:
    def make(index: int) -> list[str]:
        session = new_session(**KEYS)
        return dir(_client(session, ("s3", "kms", "iam", "sts")[index % 4]))

    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(make, range(32)))
    for index, names in enumerate(made):
        assert names == made[index % 4]


def test_botocore_still_names_the_classes_where_the_sessions_swap_them() -> None:
    """sessions._with_globals is written against botocore 1.44: each method it rebinds names
    the class it swaps, and create_client is wrapped by functools.wraps."""
    wrapper = botocore.session.Session.create_client
    inner = wrapper.__wrapped__
    assert inner in (cell.cell_contents for cell in wrapper.__closure__)
    assert {"botocore", "client", "ClientCreator"} <= set(inner.__code__.co_names)
    assert "EventAliaser" in botocore.session.Session.__init__.__code__.co_names
    for method, name in (
        (botocore.client.ClientCreator._get_client_args, "ClientArgsCreator"),
        (ClientArgsCreator._build_endpoint_resolver, "EndpointRulesetResolver"),
        (EndpointRulesetResolver.__init__, "EndpointProvider"),
    ):
        assert name in method.__code__.co_names
        assert name in method.__globals__


@pytest.mark.parametrize("service", ["s3", "sts", "kms"])
def test_clients_share_the_endpoint_provider_and_resolve_as_botocores(service: str) -> None:
    """Guards the shared provider (a provider a client would parse the rules again) and what
    it resolves."""
    first, second = (new_session(**KEYS).client(service, region_name="eu-west-1") for _ in "ab")
    plain = boto3.Session(**KEYS).client(service, region_name="eu-west-1")
    assert first._ruleset_resolver._provider is second._ruleset_resolver._provider
    assert first.meta.endpoint_url == second.meta.endpoint_url == plain.meta.endpoint_url
    for client in (first, plain):
        client.meta.events.register("before-send", _stop)
    assert _sent(first) == _sent(plain)


def _handler(number: int) -> Callable[..., int]:
    def handler(**_: Any) -> int:
        return number

    return handler


def _outcome(act: Callable[..., Any], *args: Any) -> Any:
    """What act(*args) returns, or the type of what it raises."""
    try:
        return act(*args)
    except Exception as error:
        return type(error)


def _emitted(emitter: HierarchicalEmitter, events: list[str]) -> list[list[tuple[Any, Any]]]:
    return [emitter.emit(event) for event in events]


def test_copied_handlers_change_apart_as_botocores_do() -> None:
    """Random registrations, removals and copies on a family of emitters give the same handlers
    as on botocore's; guards against a copy that shares a node the other one then changes.
    Every one of ours is checked after every step; botocore's copies share nothing, so what
    one of them emits is asked again only when it is changed (half the test's CPU)."""
    rng = random.Random(14)
    keys = ["a", "a.b", "a.b.c", "a.*.c", "a.x", "d.e"]
    asked = ["a.b.c", "a.q.c", "a.b", "a.x", "d.e", "d", "z"]
    handlers = [_handler(number) for number in range(6)]
    ours: list[HierarchicalEmitter] = [_Handlers()]
    stock = [HierarchicalEmitter()]
    expected = [_emitted(stock[0], asked)]
    for _ in range(1500):
        pick = rng.randrange(len(ours))
        action = rng.choice(["register", "register_first", "register_last", "unregister", "copy"])
        if action == "copy" and len(ours) < 6:
            ours.append(copy.copy(ours[pick]))
            stock.append(copy.copy(stock[pick]))
            expected.append(_emitted(stock[-1], asked))
        elif action != "copy":
            key, handler = rng.choice(keys), rng.choice(handlers)
            mine = _outcome(getattr(ours[pick], action), key, handler)
            assert mine == _outcome(getattr(stock[pick], action), key, handler)
            expected[pick] = _emitted(stock[pick], asked)
        for mine, theirs in zip(ours, expected, strict=True):
            assert _emitted(mine, asked) == theirs


def test_a_copy_of_the_handlers_shares_the_nodes() -> None:
    trie = _CopyOnWriteTrie()
    trie.append_item("a.b", _handler(0))
    assert copy.copy(trie)._root is trie._root


def test_botocores_trie_is_still_the_one_the_copy_on_write_trie_is_written_against() -> None:
    """sessions._CopyOnWriteTrie is written against botocore 1.44: nodes of three keys, changed
    only by append_item and remove_item."""
    assert type(HierarchicalEmitter()._handlers) is _PrefixTrie
    assert set(_PrefixTrie()._root) == {"chunk", "children", "values"}
    assert {name for name in vars(_PrefixTrie) if not name.startswith("_")} == {
        "append_item",
        "prefix_search",
        "remove_item",
    }


def test_a_handler_without_keywords_is_refused_every_time() -> None:
    """Guards the remembered signature check: only a function that passed is remembered."""
    handlers = _Handlers()

    def positional(event_name: str) -> None:
        """Takes no **kwargs."""

    for emitter in (handlers, handlers, copy.copy(handlers)):
        with pytest.raises(ValueError, match="must accept keyword arguments"):
            emitter.register("a.b", positional)
    assert handlers.emit("a.b") == []


def test_aliased_event_names_are_shared_only_among_aliasers_of_botocores_aliases() -> None:
    """Guards the shared cache of aliased names: an aliaser of other aliases keeps its own."""
    events = new_session(**KEYS)._session.get_component("event_emitter")
    stock = EventAliaser(HierarchicalEmitter())
    names = ["before-call.autoscaling.X", "before-call.api.sagemaker", "after-call.s3", "x.a"]
    for name in names * 2:
        assert events._alias_event_name(name) == stock._alias_event_name(name)
    assert copy.copy(events)._alias_name_cache is events._alias_name_cache
    assert _EventAliaser(HierarchicalEmitter(), {"a": "b"})._alias_event_name("x.a") == "x.b"
