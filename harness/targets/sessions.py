"""Every boto3 session the harness makes shares one botocore data loader, starts from one set
of botocore's built-in event handlers, and makes the parts of a client that do not depend on
the client once.

A client of a fresh session loads its service model, endpoint rules and partitions from disk
again (about a quarter of a second a client; the suite acts as dozens of principals); the loader
caches what it loaded, so sharing it makes a client about ten times cheaper. A fresh session
also registers botocore's two hundred built-in handlers one by one, checking each one's
signature (some 8 ms a session, a hundred sessions a run); a copy of a set registered once
holds the same handlers, as every client's copy of its session's handlers does. Credentials,
profiles and their refresh stay each session's own.

botocore then builds a new client class for every client, making a method (and its docstring)
for each of the service's operations again: a third of a client's cost, the same methods each
time. Those methods depend only on the service model, so they are made once per service model
and every class gets its own copy of them; the class itself, and the ``creating-client-class``
event that lets boto3 add ``upload_file`` and the like to it, stay per client as in botocore.
Likewise every client's endpoint provider parsed the service's endpoint rules again, and every
client's copy of its session's handlers copied some 400 nodes to change a few: providers are
shared, the copies share the nodes they do not change, and the names they alias. A client
costs some 1.5 ms of CPU (6-7 ms before).
"""

from __future__ import annotations

import copy
import functools
import threading
import types
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import boto3
import botocore.client
import botocore.session
from botocore.args import ClientArgsCreator
from botocore.endpoint_provider import EndpointProvider
from botocore.hooks import EventAliaser, HierarchicalEmitter, NodeList, _PrefixTrie
from botocore.loaders import Loader
from botocore.model import ServiceModel
from botocore.regions import EndpointRulesetResolver
from botocore.utils import EVENT_ALIASES


class _CopyOnWriteTrie(_PrefixTrie):
    """botocore's trie of event handlers (``hooks._PrefixTrie``, written against botocore 1.44)
    whose copy shares the nodes it has and copies a node only before changing it.

    Every client copies its session's handlers (some 400 nodes, a fifth of a client's cost)
    and then changes a few paths of the copy. Here a copy is a new root over the same nodes;
    ``append_item`` and ``remove_item``, which change only the nodes on their key's path,
    first replace the path's shared nodes by copies of their own. Copying makes every node
    shared, the original's too: a node is a trie's own when it carries that trie's token.
    test_sessions.py fails if botocore changes the trie's nodes or its ways to change them.
    """

    def __init__(self) -> None:
        super().__init__()
        self._token = object()

    def _own_path(self, key: str) -> None:
        """Make each existing node on key's path this trie's own, copying the shared ones."""
        node = self._root = self._owned(self._root)
        for part in key.split("."):
            child = node["children"].get(part)
            if child is None:
                return
            node["children"][part] = node = self._owned(child)

    def _owned(self, node: dict[str, Any]) -> dict[str, Any]:
        if node.get("token") is self._token:
            return node
        values: NodeList | None = node["values"]
        return {
            **node,
            "children": dict(node["children"]),
            "values": None if values is None else copy.copy(values),
            "token": self._token,
        }

    def append_item(self, key: str, value: Any, section: int = 1) -> None:
        self._own_path(key)
        super().append_item(key, value, section)

    def remove_item(self, key: str, value: Any) -> None:
        self._own_path(key)
        super().remove_item(key, value)

    def __copy__(self) -> _CopyOnWriteTrie:
        self._token = object()
        shared = self.__class__()
        shared._root = self._root
        return shared


_takes_keywords: weakref.WeakSet[types.FunctionType] = weakref.WeakSet()


class _Handlers(HierarchicalEmitter):
    """An emitter whose copies share its handler trie until either changes it, and which checks
    a handler function's signature once.

    botocore checks that a handler takes ``**kwargs`` with ``inspect`` at every registration:
    a tenth of a client's cost, for the same few functions (a method's function is the same for
    every client's signer or retry handler). Whether a function takes ``**kwargs`` does not
    change, so a function that passed is remembered, weakly, as botocore's test passes it.
    """

    def __init__(self) -> None:
        super().__init__()
        self._handlers = _CopyOnWriteTrie()

    def _verify_accept_kwargs(self, func: Callable[..., Any]) -> bool | None:
        function = getattr(func, "__func__", func)
        if type(function) is not types.FunctionType:
            return super()._verify_accept_kwargs(func)
        if function in _takes_keywords:
            return None
        verdict = super()._verify_accept_kwargs(func)
        _takes_keywords.add(function)
        return verdict


WRITTEN_FOR = "1.44."
"""The botocore line the shared parts below are written against (and tested on)."""


@functools.cache
def _shared() -> tuple[HierarchicalEmitter, Loader, type[botocore.session.Session]]:
    """botocore's built-in handlers, registered once, the loader every session shares, and the
    session class. On another botocore line than ``WRITTEN_FOR`` the handlers and sessions are
    botocore's own: the parts made once per service reach into botocore's internals, which
    change between lines (1.40's EndpointProvider takes an argument fewer), and a slower client
    is better than a broken one."""
    fits = botocore.__version__.startswith(WRITTEN_FOR)
    handlers = _Handlers() if fits else HierarchicalEmitter()
    core = botocore.session.Session(event_hooks=handlers)
    session = _Session if fits else botocore.session.Session
    return handlers, core.get_component("data_loader"), session


class _Globals(dict[str, Any]):
    """A function's globals: the names given, then whatever its module holds at the time."""

    def __init__(self, module: dict[str, Any], names: dict[str, Any]) -> None:
        super().__init__(names)
        self._module = module

    def __missing__(self, name: str) -> Any:
        return self._module[name]


class _Module:
    """A module's stand-in: the names given, then whatever the module holds at the time."""

    def __init__(self, module: types.ModuleType, **names: Any) -> None:
        self.__dict__.update(names)
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def _with_globals(function: Callable[..., Any], **names: Any) -> Callable[..., Any]:
    """``function`` (a botocore method) running with the global names given resolved to the
    values given, and every other name to its module's as botocore's own function would.

    botocore (written against 1.44) builds a session and a client from classes it names, with
    no way to pass others: a session names ``EventAliaser`` and ``botocore.client.ClientCreator``,
    the creator ``ClientArgsCreator``, that one ``EndpointRulesetResolver``, that one
    ``EndpointProvider``. Running botocore's own code for the method over these globals swaps
    one class and copies none of botocore's code. A function wrapped by ``functools.wraps``
    (``__wrapped__`` in one of the wrapper's closure cells) is rebound inside its wrapper.
    test_sessions.py fails if botocore stops naming these classes where these methods do.
    """
    inner = getattr(function, "__wrapped__", None)
    if inner is not None:
        rebound = _with_globals(inner, **names)
        cells = tuple(
            types.CellType(rebound if cell.cell_contents is inner else cell.cell_contents)
            for cell in function.__closure__ or ()
        )
        return types.FunctionType(
            function.__code__, function.__globals__, function.__name__, function.__defaults__, cells
        )
    rebound = types.FunctionType(
        function.__code__,
        _Globals(function.__globals__, names),
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )
    rebound.__kwdefaults__ = function.__kwdefaults__
    return rebound


_providers: dict[tuple[int, int, frozenset[str]], tuple[Any, Any, EndpointProvider]] = {}
_methods: dict[tuple[Loader, str, str], Mapping[str, Callable[..., Any]]] = {}
_made_once = threading.Lock()


def _endpoint_provider(
    ruleset_data: Mapping[str, Any],
    partition_data: Mapping[str, Any],
    excluded_params: Iterable[str] | None = None,
) -> EndpointProvider:
    """One ``EndpointProvider`` per service's endpoint rules (and the partitions, which the
    shared loader loads once): building one parses the rules, a tenth of a client's cost.

    A provider holds the parsed rules and a cache of endpoints it resolved, each a function of
    the parameters asked about, whichever client asks. The key is the data's identity; the
    entry holds the data so that no other data can take its identity.
    """
    excluded = frozenset(excluded_params or ())
    key = (id(ruleset_data), id(partition_data), excluded)
    with _made_once:
        held = _providers.get(key)
        if held is None:
            provider = EndpointProvider(ruleset_data, partition_data, excluded)
            held = _providers[key] = (ruleset_data, partition_data, provider)
    return held[2]


class _EndpointRulesetResolver(EndpointRulesetResolver):
    __init__ = _with_globals(EndpointRulesetResolver.__init__, EndpointProvider=_endpoint_provider)


class _ClientArgsCreator(ClientArgsCreator):
    _build_endpoint_resolver = _with_globals(
        ClientArgsCreator._build_endpoint_resolver,
        EndpointRulesetResolver=_EndpointRulesetResolver,
    )


class _ClientCreator(botocore.client.ClientCreator):
    """A ``ClientCreator`` that makes a service model's API methods once per process and
    shares endpoint providers.

    The methods botocore makes are closures over the operation's names and a lazy docstring;
    nothing in them belongs to a client or session. Their docstrings are rendered with the
    built-in handlers every session starts from (botocore renders them with the creating
    session's, which hold the same ``docs`` handlers).
    """

    _get_client_args = _with_globals(
        botocore.client.ClientCreator._get_client_args, ClientArgsCreator=_ClientArgsCreator
    )

    def _create_methods(self, service_model: ServiceModel) -> dict[str, Callable[..., Any]]:
        key = (self._loader, service_model.service_name, service_model.api_version)
        with _made_once:
            methods = _methods.get(key)
            if methods is None:
                builtin = EventAliaser(_shared()[0])
                maker = botocore.client.ClientCreator(self._loader, None, None, builtin, None, None)
                methods = _methods[key] = maker._create_methods(service_model)
        return dict(methods)


_aliased: dict[str, str] = {}


class _EventAliaser(EventAliaser):
    """An ``EventAliaser`` whose copies share one cache of event names aliased by botocore's
    aliases.

    Every client's copy of its session's aliaser started with an empty cache and worked out
    the names it registers on again (a tenth of a client's cost); an aliased name depends only
    on the name and the aliases.
    """

    def __init__(self, event_emitter: Any, event_aliases: Mapping[str, str] | None = None) -> None:
        super().__init__(event_emitter, event_aliases)
        if self._event_aliases == EVENT_ALIASES:
            self._alias_name_cache = _aliased


class _Session(botocore.session.Session):
    """A botocore session whose handlers share aliased names and whose clients are built by
    ``_ClientCreator``."""

    __init__ = _with_globals(botocore.session.Session.__init__, EventAliaser=_EventAliaser)

    create_client = _with_globals(
        botocore.session.Session.create_client,
        botocore=_Module(botocore, client=_Module(botocore.client, ClientCreator=_ClientCreator)),
    )


def new_session(**kwargs: Any) -> boto3.Session:
    """``boto3.Session(**kwargs)`` on a botocore session with the shared loader, its own copy
    of the built-in handlers and the shared API methods."""
    handlers, loader, session = _shared()
    core = session(event_hooks=copy.copy(handlers), include_builtin_handlers=False)
    core.register_component("data_loader", loader)
    return boto3.Session(botocore_session=core, **kwargs)


def session_from(credentials: Mapping[str, Any], region: str | None) -> boto3.Session:
    """A session for temporary credentials as STS returns them."""
    return new_session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials.get("SessionToken"),
        region_name=region,
    )
