"""Stratum scale and fault benchmark: `make bench ARGS="--size full"`.

Scenarios (see bench/README.md): scale, idle, faults, baseline, latency. Prints a table with
issue 16's goals, writes JSON (default bench/results/latest.json) and exits non-zero if any
scenario ends with an object not Ready, a duplicate, an orphan or a lost object in a backend (a
missed goal is reported, not a failure).
"""

from __future__ import annotations

import argparse
import platform
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import baseline, faults, goals, latency, report, scale  # noqa: E402
from bench.console import console  # noqa: E402
from bench.sizes import SIZES, LatencySetup  # noqa: E402
from bench.stack import Tuning  # noqa: E402

SCENARIOS = ("scale", "idle", "faults", "baseline", "latency")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help="comma list of " + ", ".join(SCENARIOS)
    )
    parser.add_argument(
        "--json", type=Path, default=ROOT / "bench" / "results" / "latest.json", metavar="PATH"
    )
    parser.add_argument("--workers", type=int, help="experiment: pass --workers N to the operator")
    default = LatencySetup()
    parser.add_argument(
        "--latency-resources",
        type=int,
        default=default.resources,
        metavar="N",
        help=f"latency scenario: Resources (default {default.resources})",
    )
    parser.add_argument(
        "--latency-groups",
        type=int,
        default=default.groups,
        metavar="N",
        help=f"latency scenario: ResourceGroups (default {default.groups})",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=default.latency_ms,
        metavar="MS",
        help=f"latency scenario: injected LINSTOR latency (default {default.latency_ms:g})",
    )
    parser.add_argument("--workdir", type=Path, help="keep logs here (default: a temporary directory)")
    args = parser.parse_args(argv)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    if args.latency_resources < 1 or args.latency_groups < 1 or args.latency_ms < 0:
        parser.error("the latency scenario needs at least one resource and group, and latency >= 0")
    return args


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Every wanted scenario; the JSON is rewritten after each, so a long run leaves its numbers."""
    size = SIZES[args.size]
    results: dict[str, Any] = {
        "size": args.size,
        "scenarios": args.scenarios,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {"cpus": _cpus(), "python": platform.python_version()},
    }
    tuning = Tuning(args.workers)
    if tuning != Tuning():
        results["tuning"] = tuning.as_json()
    wanted = set(args.scenarios)
    if wanted & {"scale", "idle"}:
        console.log("scale" + (" + idle" if "idle" in wanted else ""))
        got = _guard(
            "scale",
            lambda: scale.run(
                size, workdir / "scale", scale="scale" in wanted, idle="idle" in wanted, tuning=tuning
            ),
        )
        results.update(got)
        report.write(results, args.json)
        if "idle" in wanted and "idle" not in results:
            results["idle"] = {"ok": False, "error": "the objects never converged, so idle did not run"}
    if "faults" in wanted:
        console.log("faults")
        results.update(_guard("faults", lambda: {"faults": faults.run(size, workdir / "faults", tuning)}))
        report.write(results, args.json)
    if "baseline" in wanted:
        console.log("baseline")
        results.update(_guard("baseline", lambda: {"baseline": baseline.run(size, workdir / "baseline")}))
        if results["baseline"].get("ok") is not None and "seconds" in results["baseline"]:
            results["ratio"] = _ratio(results)
        report.write(results, args.json)
    if "latency" in wanted:
        setup = LatencySetup(args.latency_resources, args.latency_groups, args.latency_ms)
        console.log("latency")
        results.update(
            _guard("latency", lambda: {"latency": latency.run(setup, workdir / "latency", tuning)})
        )
    console.log("done")
    results["ok"] = all(results[s].get("ok") for s in SCENARIOS if s in results)
    results["goals"] = goals.check(results)
    return results


def _guard(name: str, scenario: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A scenario that crashes is a failed scenario with its traceback, not a lost run."""
    try:
        return scenario()
    except Exception:
        console.log(f"{name} crashed:\n{traceback.format_exc()}")
        return {name: {"ok": False, "error": traceback.format_exc()}}


def _ratio(results: dict[str, Any]) -> dict[str, Any] | None:
    scale_run, base = results.get("scale"), results["baseline"]
    if not scale_run or "error" in scale_run or not base["seconds"]:
        return None
    operator_seconds = (scale_run["readySeconds"].get("Resource") or {}).get("batchSeconds")
    linstor = scale_run["requests"]["backends"]["linstor"]["total"]
    return {
        "time": round(operator_seconds / base["seconds"], 2) if operator_seconds else None,
        "requests": round(linstor / max(base["requests"]["total"], 1), 2),
        "note": "operator time = apply until the last Resource is Ready (its groups and the "
        "MachineRaids converge in the same run); script time = creating groups and resources",
    }


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM (and SIGINT, which background jobs ignore) must still stop what was started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        results = run(args, args.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="stratum-bench-") as tmp:
            results = run(args, Path(tmp))
    report.write(results, args.json)
    print(report.table(results))
    print(f"\nJSON: {args.json}")
    if not results["ok"]:
        print("bench: FAILED (an object not Ready, a duplicate, an orphan or a lost object)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
