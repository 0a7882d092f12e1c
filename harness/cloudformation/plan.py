"""A template prepared for one stack: parameters bound, conditions decided, inactive
resources dropped, dependencies ordered. Deploys and static resolution share it, differing
only in the `ResourceLookup` that answers Ref/GetAtt."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.cloudformation import schemas
from harness.cloudformation.errors import ValidationError
from harness.cloudformation.graph import attribute_references, creation_order, dependencies
from harness.cloudformation.intrinsics import NO_VALUE, Evaluator, ResourceLookup
from harness.cloudformation.parameters import BoundParameter, bind_parameters
from harness.cloudformation.providers.base import Naming
from harness.cloudformation.pseudo import partition_of, pseudo_parameters
from harness.cloudformation.template import Template, load_template


def stack_arn(account_id: str, region: str, stack_name: str, unique: str | None = None) -> str:
    """A stack id as CloudFormation forms it; without `unique` a stable one (for analysis)."""
    suffix = unique or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{account_id}/{region}/{stack_name}"))
    partition = partition_of(region)["partition"]
    return f"arn:{partition}:cloudformation:{region}:{account_id}:stack/{stack_name}/{suffix}"


@dataclass(frozen=True)
class Output:
    """An evaluated output."""

    value: Any
    description: str | None
    export_name: str | None


class Plan:
    """Everything about a template that does not depend on created resources."""

    def __init__(
        self,
        template: str | Mapping[str, Any],
        parameters: Mapping[str, Any],
        account_id: str,
        region: str,
        stack_name: str,
        stack_id: str | None = None,
        exports: Mapping[str, str] | None = None,
    ) -> None:
        self.template: Template = load_template(template)
        self.account_id, self.region, self.stack_name = account_id, region, stack_name
        self.stack_id = stack_id or stack_arn(account_id, region, stack_name)
        self.url_suffix = partition_of(region)["dnsSuffix"]
        self.parameters: dict[str, BoundParameter] = bind_parameters(
            self.template.get("Parameters", {}), parameters
        )
        self.lookup: ResourceLookup | None = None
        declared = self.template["Resources"]
        self.evaluator = Evaluator(
            parameters=self.parameters,
            pseudo=pseudo_parameters(account_id, region, stack_name, self.stack_id),
            mappings=self.template.get("Mappings", {}),
            condition_definitions=self.template.get("Conditions", {}),
            resources={},
            lookup=self,
            exports=exports or {},
        )
        self.conditions = {
            n: self.evaluator.condition(n) for n in self.evaluator.condition_definitions
        }
        self.resources: dict[str, dict[str, Any]] = {
            name: resource
            for name, resource in declared.items()
            if "Condition" not in resource or self.evaluator.condition(resource["Condition"])
        }
        self.evaluator.resources = {n: r["Type"] for n, r in self.resources.items()}
        self.dependencies = dependencies(self.resources)
        self.order = creation_order(self.dependencies)
        self._check_attributes()

    def _check_attributes(self) -> None:
        """Every GetAtt must name an attribute the type has (CloudFormation checks up front)."""
        readers = [r.get("Properties", {}) for r in self.resources.values()]
        readers.append(self.template.get("Outputs", {}))
        for target, attribute in attribute_references(readers):
            if target in self.resources:
                self._check_attribute(target, attribute)

    def _check_attribute(self, logical_id: str, attribute: str) -> None:
        if attribute not in schemas.read_only_properties(self.resources[logical_id]["Type"]):
            raise ValidationError(
                f"Template error: resource {logical_id} does not support attribute type "
                f"{attribute} in Fn::GetAtt"
            )

    def ref(self, logical_id: str) -> Any:
        """Delegates to the lookup installed by the deploy or the resolver."""
        assert self.lookup is not None, "a ResourceLookup must be installed before evaluating"
        return self.lookup.ref(logical_id)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        """Checks the attribute against the type's schema, then delegates to the lookup."""
        self._check_attribute(logical_id, attribute)
        assert self.lookup is not None, "a ResourceLookup must be installed before evaluating"
        return self.lookup.get_att(logical_id, attribute)

    def naming(self, logical_id: str, salt: str = "") -> Naming:
        """Where resource `logical_id` lives, for names and ARNs."""
        return Naming(
            account_id=self.account_id,
            region=self.region,
            partition=partition_of(self.region)["partition"],
            stack_name=self.stack_name,
            stack_id=self.stack_id,
            logical_id=logical_id,
            url_suffix=self.url_suffix,
            salt=salt,
        )

    def properties(self, logical_id: str) -> dict[str, Any]:
        """Resource properties with every intrinsic resolved and scalars typed per schema."""
        resource = self.resources[logical_id]
        path = f"Resources/{logical_id}/Properties"
        value = self.evaluator.evaluate(resource.get("Properties", {}), path)
        return {} if value is NO_VALUE else schemas.coerce(resource["Type"], value)

    def deletion_policy(self, logical_id: str) -> str:
        """`Delete` unless the template says `Retain` (or `Snapshot`, treated as delete)."""
        return str(self.resources[logical_id].get("DeletionPolicy", "Delete"))

    def retains(
        self, logical_id: str, policy: str = "DeletionPolicy", create_rollback: bool = False
    ) -> bool:
        """Whether `policy` (DeletionPolicy or UpdateReplacePolicy) keeps the resource;
        RetainExceptOnCreate retains except when a failed create is rolled back."""
        value = str(self.resources.get(logical_id, {}).get(policy, "Delete"))
        return value == "Retain" or (value == "RetainExceptOnCreate" and not create_rollback)

    def outputs(self) -> dict[str, Output]:
        """Outputs whose condition holds, evaluated."""
        result = {}
        for name, output in self.template.get("Outputs", {}).items():
            if "Condition" in output and not self.evaluator.condition(output["Condition"]):
                continue
            path = f"Outputs/{name}"
            export = output.get("Export", {}).get("Name")
            result[name] = Output(
                value=self.evaluator.evaluate(output.get("Value"), f"{path}/Value"),
                description=output.get("Description"),
                export_name=self.evaluator.text(export, f"{path}/Export") if export else None,
            )
        return result

    def required_capability(self) -> str | None:
        """The capability the active resources need (see `required_capability`)."""
        return required_capability(self.resources.values())


def required_capability(resources: Iterable[Mapping[str, Any]]) -> str | None:
    """CAPABILITY_NAMED_IAM if an IAM resource is custom-named, CAPABILITY_IAM if there is any
    IAM resource, else None (names are the schemas' create-only `*Name` properties)."""
    needed = None
    for resource in resources:
        type_name = resource["Type"]
        if not type_name.startswith("AWS::IAM::"):
            continue
        named = {p for p in schemas.create_only_properties(type_name) if p.endswith("Name")}
        if named & set(resource.get("Properties", {})):
            return "CAPABILITY_NAMED_IAM"
        needed = "CAPABILITY_IAM"
    return needed
