"""Request parameters and Django-form-like field cleaning.

MAAS reads POST/PUT parameters from `application/x-www-form-urlencoded` or
`multipart/form-data` bodies (parts may be base64 transfer-encoded, as python-libmaas
sends them); lists are repeated keys. GET/DELETE parameters come from the query string.
Error texts are Django's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from aiohttp import BodyPartReader, web
from multidict import MultiDict, MultiDictProxy

from .sizes import BYTES_RE, machine_readable_bytes

REQUIRED = "This field is required."
INVALID = "Enter a valid value."
UUID4_RE = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?4[0-9a-fA-F]{3}-?[89abAB][0-9a-fA-F]{3}-?[0-9a-fA-F]{12}"
)
ABSOLUTE_PATH_RE = re.compile(r"^(?:/[^/]*)*$")


async def read_params(request: web.Request) -> MultiDict[str]:
    """The body parameters of a POST/PUT (Django's request.POST / piston's request.data)."""
    params: MultiDict[str] = MultiDict()
    if request.method not in ("POST", "PUT"):
        return params
    ctype = request.content_type
    if ctype == "multipart/form-data":
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader) or part.name is None:  # nested multipart
                continue
            raw = await part.read(decode=True)
            charset = part.get_charset(default="utf-8")
            params.add(part.name, raw.decode(charset, errors="replace"))
    elif ctype == "application/x-www-form-urlencoded":
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                params.add(key, value)
    else:
        await request.read()
    return params


Params = MultiDict[str] | MultiDictProxy[str]


class Form:
    """Collects errors per field in the order fields are cleaned, then `__all__`."""

    def __init__(self, params: Params) -> None:
        self.params = params
        self.errors: dict[str, list[str]] = {}

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    @property
    def valid(self) -> bool:
        return not self.errors

    def raw(self, name: str) -> str | None:
        values = self.params.getall(name, [])
        return values[-1] if values else None

    # -- fields ----------------------------------------------------------------------------
    def char(self, name: str, *, required: bool = False) -> str:
        value = (self.raw(name) or "").strip()
        if required and not value:
            self.add_error(name, REQUIRED)
        return value

    def choice(self, name: str, choices: Iterable[str], *, required: bool = False) -> str | None:
        value = (self.raw(name) or "").strip()
        if not value:
            if required:
                self.add_error(name, REQUIRED)
            return None
        if value not in set(choices):
            self.add_error(name, f"Select a valid choice. {value} is not one of the available choices.")
            return None
        return value

    def multiple_choice(self, name: str, choices: Iterable[str]) -> list[str] | None:
        values = [str(v) for v in self.params.getall(name, [])]
        if not values:
            return []
        allowed = set(choices)
        for value in values:
            if value not in allowed:
                self.add_error(name, f"Select a valid choice. {value} is not one of the available choices.")
                return None
        return values

    def _regex(self, name: str, value: str, pattern: re.Pattern[str], lo: int, hi: int) -> bool:
        messages = []
        if len(value) < lo:
            messages.append(f"Ensure this value has at least {lo} characters (it has {len(value)}).")
        if len(value) > hi:
            messages.append(f"Ensure this value has at most {hi} characters (it has {len(value)}).")
        if not pattern.search(value):
            messages.append(INVALID)
        for message in messages:
            self.add_error(name, message)
        return not messages

    def uuid4(self, name: str) -> str | None:
        value = (self.raw(name) or "").strip()
        if not value:
            return None
        return value if self._regex(name, value, UUID4_RE, 32, 36) else None

    def absolute_path(self, name: str, *, required: bool) -> str | None:
        value = (self.raw(name) or "").strip()
        if not value:
            if required:
                self.add_error(name, REQUIRED)
            return None
        return value if self._regex(name, value, ABSOLUTE_PATH_RE, 1, 4095) else None

    def boolean(self, name: str) -> bool:
        value = self.raw(name)
        if value is None:
            return False
        return value.strip().lower() not in ("", "false", "0")

    def size(self, name: str, *, min_value: int | None = None, max_value: int | None = None) -> int | None:
        value = (self.raw(name) or "").strip()
        if not value:
            return None
        if not BYTES_RE.match(value):
            self.add_error(name, INVALID)
            return None
        number = machine_readable_bytes(value)
        ok = True
        if min_value is not None and number < min_value:
            self.add_error(name, f"Ensure this value is greater than or equal to {min_value}.")
            ok = False
        if max_value is not None and number > max_value:
            self.add_error(name, f"Ensure this value is less than or equal to {max_value}.")
            ok = False
        return number if ok else None
