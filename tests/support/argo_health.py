"""Argo CD's Lua health checks, run the way Argo CD runs a custom check.

Argo CD (util/lua/lua.go) runs health.lua in gopher-lua, a Lua 5.1, with only the base, table,
package and a reduced os library opened, the object as the global `obj`, and reads the returned
table as {status, message}. Here the same script runs in real Lua 5.1 (lupa) with the base and
table libraries only and no string methods, so a script that leans on the string library fails
here as it would in Argo CD.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from lupa import lua51

ROOT = Path(__file__).resolve().parents[2]
CUSTOMIZATIONS = ROOT / "deploy" / "argocd"

# gitops-engine's health status codes.
HEALTH_STATUSES = frozenset({"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"})

# The base library functions gopher-lua opens that a health check may call.
_BASE = [
    *("assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget"),
    *("rawset", "select", "setmetatable", "tonumber", "tostring", "type", "unpack", "xpcall", "_VERSION"),
]

_SANDBOX = """
local names, source, chunkname, obj = ...
local env = { obj = obj, table = table }
for _, name in ipairs(names) do env[name] = _G[name] end
local chunk, err = loadstring(source, "=" .. chunkname)
if chunk == nil then error(err, 0) end
setfenv(chunk, env)
return chunk()
"""


class _JsonLikeLoader(yaml.SafeLoader):
    """YAML as the API server would hand it over in JSON: timestamps stay strings."""


_JsonLikeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=_JsonLikeLoader)


@dataclass(frozen=True)
class HealthCheck:
    group: str
    kind: str

    @property
    def directory(self) -> Path:
        return CUSTOMIZATIONS / self.group / self.kind

    @property
    def script(self) -> str:
        return (self.directory / "health.lua").read_text()

    @property
    def testdata(self) -> list[Path]:
        return sorted((self.directory / "testdata").glob("*.yaml"))

    def expected(self) -> dict[str, dict[str, str]]:
        """inputPath -> healthStatus, from health_test.yaml."""
        tests = load_yaml(self.directory / "health_test.yaml")["tests"]
        return {t["inputPath"]: t["healthStatus"] for t in tests}


def health_checks() -> list[HealthCheck]:
    return [
        HealthCheck(path.parent.parent.name, path.parent.name)
        for path in sorted(CUSTOMIZATIONS.glob("*/*/health.lua"))
    ]


@cache
def _runtime() -> Any:
    runtime = lua51.LuaRuntime(register_eval=False, register_builtins=False)
    # gopher-lua without the string library has no string methods either.
    runtime.execute('debug.setmetatable("", nil)')
    return runtime


def run_health(script: str, obj: dict[str, Any], chunkname: str = "health.lua") -> dict[str, str]:
    runtime = _runtime()
    sandboxed = runtime.execute(_SANDBOX, runtime.table_from(_BASE), script, chunkname, _to_lua(obj))
    if lua51.lua_type(sandboxed) != "table":
        raise AssertionError(f"{chunkname} returned {sandboxed!r}, not a table")
    result = dict(sandboxed.items())
    if not set(result) <= {"status", "message"} or result.get("status") not in HEALTH_STATUSES:
        raise AssertionError(f"{chunkname} returned {result!r}, not a health status")
    return {"status": result["status"], "message": result.get("message", "")}


def _to_lua(obj: dict[str, Any]) -> Any:
    return _runtime().table_from(obj, recursive=True)
