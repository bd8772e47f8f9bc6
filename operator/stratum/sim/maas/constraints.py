"""Machine constraints as maasserver/node_constraint_filter_forms.py reads them.

FilterNodeForm: `tags` must all be on the machine (`_match_all`; comma- or space-separated values
are split, parse_legacy_tags) and must exist, else 400 `{"tags": ["No such tag(s): 'x'."]}`;
`zone` / `pool` match any of the given names and must exist (`No such zone(s): x.`);
`not_tags`, `not_in_zone`, `not_in_pool` exclude. AcquireNodeForm adds `system_id` and `name`
(hostname or FQDN). ReadNodesForm (the machine list) takes the same tag/zone/pool fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import FormErrors
from .forms import Params
from .model import MaasState, Machine

# AcquireNodeForm's fields that the simulator knows, in describe_constraints' (sorted) order.
ACQUIRE_FIELDS = ("name", "not_in_pool", "not_in_zone", "not_tags", "pool", "system_id", "tags", "zone")


def _split(values: list[str]) -> list[str]:
    """parse_legacy_tags."""
    return [item for value in values for item in re.findall(r"[^\s,]+", value)]


@dataclass
class Constraints:
    values: dict[str, list[str]] = field(default_factory=dict)
    given: list[tuple[str, list[str]]] = field(default_factory=list)  # the request, for messages

    @classmethod
    def read(cls, state: MaasState, params: Params) -> Constraints:
        return cls._clean(state, params, ("tags", "not_tags", "zone", "not_in_zone", "pool", "not_in_pool"))

    @classmethod
    def acquire(cls, state: MaasState, params: Params) -> Constraints:
        return cls._clean(state, params, ACQUIRE_FIELDS)

    @classmethod
    def _clean(cls, state: MaasState, params: Params, names: tuple[str, ...]) -> Constraints:
        given: list[tuple[str, list[str]]] = []
        for key in dict.fromkeys(params.keys()):
            if key != "op":
                given.append((key, [str(v) for v in params.getall(key)]))
        values = {name: [str(v) for v in params.getall(name, []) if str(v)] for name in names}
        values = {name: found for name, found in values.items() if found}
        errors: dict[str, list[str]] = {}
        if "tags" in values:
            values["tags"] = sorted(set(_split(values["tags"])))
            unknown = [t for t in values["tags"] if t not in state.tags]
            if unknown:
                quoted = ", ".join(f"'{t}'" for t in unknown)
                errors["tags"] = [f"No such tag(s): {quoted}."]
        if "not_tags" in values:
            values["not_tags"] = _split(values["not_tags"])
        for name, known, noun in (
            ("zone", state.zones, "zone"),
            ("not_in_zone", state.zones, "zone"),
            ("pool", state.pools, "pool"),
            ("not_in_pool", state.pools, "pool"),
        ):
            unknown = [v for v in values.get(name, []) if v not in known]
            if unknown:
                errors[name] = [f"No such {noun}(s): {', '.join(unknown)}."]
        if errors:
            raise FormErrors(errors)
        return cls(values, given)

    def match(self, machine: Machine) -> bool:
        v = self.values
        fqdn = f"{machine.hostname}.{machine.domain}"
        return (
            all(tag in machine.tags for tag in v.get("tags", []))
            and not any(tag in machine.tags for tag in v.get("not_tags", []))
            and ("zone" not in v or machine.zone in v["zone"])
            and machine.zone not in v.get("not_in_zone", [])
            and ("pool" not in v or machine.pool in v["pool"])
            and machine.pool not in v.get("not_in_pool", [])
            and ("system_id" not in v or machine.system_id in v["system_id"])
            and ("name" not in v or machine.hostname in v["name"] or fqdn in v["name"])
        )

    def describe(self) -> str:
        """describe_constraints: Juju-like `name=value`, multiple values comma-separated."""
        parts = [f"{name}={','.join(self.values[name])}" for name in ACQUIRE_FIELDS if name in self.values]
        return " ".join(parts)

    def unavailable_message(self) -> str:
        """MachinesHandler.allocate's NodesNotAvailable (409) text."""
        described = self.describe()
        if not described:
            return "No machine available."
        if "system_id" in self.values:
            return f"No machine with system ID {self.values['system_id'][-1]} available."
        return f'No available machine matches constraints: {self.given} (resolved to "{described}")'
