"""Registry of resource providers by CloudFormation type name (one module per type).

Every module of this package except ``base`` defines ``PROVIDER``; adding a type is adding a
module, as in moto's one folder per service.
"""

from __future__ import annotations

import importlib
import pkgutil

from harness.cloudformation.providers.base import Provider


def _discover() -> dict[str, Provider]:
    providers = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name == "base":
            continue
        provider = importlib.import_module(f"{__name__}.{info.name}").PROVIDER
        providers[provider.type_name] = provider
    return providers


PROVIDERS: dict[str, Provider] = _discover()


def provider_for(type_name: str) -> Provider | None:
    """The provider of `type_name`, or None if the local engine cannot create that type."""
    return PROVIDERS.get(type_name)
