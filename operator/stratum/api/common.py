"""Types shared by every kind: deletion policy, conditions, quantities, base models."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

DeletionPolicy = Literal["Delete", "Retain"]
ManagementPolicy = Literal["Full", "Observe"]

Quantity = Annotated[
    int | str,
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "x-kubernetes-int-or-string": True,
            "x-kubernetes-validations": [
                {
                    "rule": "type(self) == int ? self > 0 : "
                    "(isQuantity(self) && quantity(self).isGreaterThan(quantity('0')))",
                    "message": "must be a positive quantity such as 10Gi or 500M",
                }
            ],
        }
    ),
]

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_QUANTITY_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGTPE]i|[kMGTPE]?)\s*$")


def quantity_bytes(value: int | str) -> int:
    """A Kubernetes quantity as whole bytes (rounded up, as Kubernetes rounds capacities)."""
    if isinstance(value, int):
        return value
    match = _QUANTITY_RE.match(value)
    if not match:
        raise ValueError(f"not a byte quantity: {value!r}")
    number, suffix = match.groups()
    factor: int = _BINARY.get(suffix) or _DECIMAL[suffix]
    whole, _, frac = number.partition(".")
    numerator = int(whole + frac) * factor
    denominator = 10 ** len(frac)
    return int(-(-numerator // denominator))


class ApiModel(BaseModel):
    """camelCase on the wire, attribute docstrings become schema descriptions."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        use_attribute_docstrings=True,
        extra="ignore",
    )


ConditionStatus = Literal["True", "False", "Unknown"]


class Condition(ApiModel):
    """A metav1.Condition."""

    type: str = Field(
        pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
        r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
        max_length=316,
    )
    """Type of condition in CamelCase, e.g. Ready."""
    status: ConditionStatus
    """True, False or Unknown."""
    reason: str = Field(pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$", max_length=1024, min_length=1)
    """One CamelCase word saying why the condition has this status."""
    message: str = Field(default="", max_length=32768)
    """What happened and, when it failed, what to do about it."""
    last_transition_time: str = Field(json_schema_extra={"format": "date-time"})
    """When the status last changed."""
    observed_generation: int | None = Field(default=None, ge=0)
    """The metadata.generation this condition was computed from."""


CONDITIONS_FIELD: Any = Field(
    default_factory=list,
    json_schema_extra={
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
    },
)


class StatusModel(ApiModel):
    """A part of a status the operator writes: a misspelt field is an error, never dropped."""

    model_config = ConfigDict(extra="forbid")


class StatusBase(StatusModel):
    """Status fields every kind reports."""

    observed_generation: int | None = None
    """The metadata.generation of the last reconcile pass, successful or not."""
    conditions: list[Condition] = CONDITIONS_FIELD
    """Ready (usable), Synced (last pass reached the backend), Reconciling and Stalled (kstatus),
    and Degraded where the backend reports health."""
    differences: list[str] | None = None
    """With managementPolicy Observe: the backend changes this spec asks for, one per field
    (`METHOD path: field: old → new`); empty when the backend object matches the spec."""


class ManagedSpec(ApiModel):
    """Spec fields every kind has."""

    management_policy: ManagementPolicy = "Full"
    """Full: the operator creates, changes and deletes the backend object. Observe: it only reads
    the backend object of this name and reports its differences from this spec in
    status.differences; nothing is written to or deleted in the backend, and deleting this object
    releases nothing. Switching to Full (with adopt: true for an object Stratum did not create)
    takes ownership."""


Properties = dict[str, str]


def immutable(name: str) -> JsonDict:
    """A CEL transition rule refusing changes to a field, naming it in the message."""
    return {"rule": "self == oldSelf", "message": f"{name} is immutable"}


def adopt_field(backend: str) -> Any:
    """The explicit opt-in to take over an existing backend object of the same name."""
    return Field(
        default=False,
        description=f"Take over an existing {backend} object of the same name. Without it the "
        f"operator refuses (Ready=False, reason NameConflict) and changes nothing in {backend}.",
    )
