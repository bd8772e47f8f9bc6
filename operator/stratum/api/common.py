"""Types shared by every kind: deletion policy, conditions, quantities, base models."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

DeletionPolicy = Literal["Delete", "Retain"]
ManagementPolicy = Literal["Full", "Observe"]

# A byte quantity: the Kubernetes quantity grammar (apimachinery pkg/api/resource/quantity.go,
# parseQuantityString, and the suffixes of suffix.go) without the sub-unit suffixes m, u and n (a
# size in milli-bytes is a typo for Mi or M) and with at most three exponent digits (the API server
# parses the exponent as int64, then keeps its low 32 bits: 1e4294967305 would be 1e9 there).
# One definition for both sides: the CRD admits a string only when it matches this pattern (and
# isQuantity agrees), and quantity_bytes parses exactly this pattern. No backslashes, so it reads
# the same in a CEL string and in Python.
QUANTITY_PATTERN = "^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([KMGTPE]i|[kMGTPE]|[eE][+-]?[0-9]{1,3})?$"
# Sizes are whole bytes in a signed 64-bit integer, as Quantity.Value() gives them: at least one
# byte and less than 8Ei (2**63).
MIN_BYTES = 1
MAX_QUANTITY_LENGTH = 64
MAX_QUANTITY = "8Ei"
_LIMIT = 2**63

Quantity = Annotated[
    int | str,
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "x-kubernetes-int-or-string": True,
            # Bounds the CEL cost estimate of the pattern match (unbounded, it exceeds the budget).
            "maxLength": MAX_QUANTITY_LENGTH,
            "x-kubernetes-validations": [
                {
                    "rule": f"type(self) == int ? self >= {MIN_BYTES} : "
                    f"(self.matches('{QUANTITY_PATTERN}') && isQuantity(self) && "
                    f"quantity(self).compareTo(quantity('{MIN_BYTES}')) >= 0 && "
                    f"quantity(self).isLessThan(quantity('{MAX_QUANTITY}')))",
                    "message": "must be a positive quantity from 1 byte to below 8Ei, such as 10Gi, 500M, "
                    "1.5Ti or 1e9 (the suffixes m, u and n are not byte sizes)",
                }
            ],
        }
    ),
]

_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_QUANTITY_RE = re.compile(QUANTITY_PATTERN)


def quantity_bytes(value: int | str) -> int:
    """A byte quantity as whole bytes, rounded up (as Kubernetes rounds capacities). Raises
    ValueError for what the CRD refuses: another grammar, less than one byte, 8Ei or more."""
    if isinstance(value, int):
        exact = Fraction(value)
    else:
        match = _QUANTITY_RE.fullmatch(value)
        if not match or len(value) > MAX_QUANTITY_LENGTH:
            raise ValueError(f"not a byte quantity: {value!r}")
        exact = _exact(value, match.group(3) or "")
    if exact < MIN_BYTES or exact >= _LIMIT:
        raise ValueError(f"not a size from 1 byte to below {MAX_QUANTITY}: {value!r}")
    return math.ceil(exact)


def _exact(text: str, suffix: str) -> Fraction:
    number = text[: len(text) - len(suffix)]
    negative = number.startswith("-")
    whole, _, frac = number.lstrip("+-").partition(".")
    digits = int((whole or "0") + frac)
    if digits == 0:
        return Fraction(0)
    if suffix in _BINARY:
        exponent10, factor = -len(frac), 2 ** _BINARY[suffix]
    else:
        power = _DECIMAL[suffix] if suffix in _DECIMAL else int(suffix[1:])
        exponent10, factor = power - len(frac), 1
    # Out of range either way long before 10**exponent10 gets costly: skip computing it.
    magnitude = len(str(digits)) + exponent10
    if magnitude > 40:
        return Fraction(-_LIMIT if negative else _LIMIT)
    if magnitude < -40:
        return Fraction(0)
    exact = Fraction(digits * factor) * Fraction(10) ** exponent10
    return -exact if negative else exact


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


KOPF_STATUS = "kopf"
"""`status.kopf`: kopf's own state of the object (a handler's progress while it is retried, the
last handled spec that changes are diffed against). Written by kopf, never by a pass: it is in
every kind's CRD (crds.py), not in the status models."""


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
