"""The `stratum` command: `stratum run` (the operator), `stratum plan` and `stratum crds`. Also
installed as `kubectl-stratum`, so `kubectl stratum plan -f FILE` works."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _crds(args: argparse.Namespace) -> int:
    from stratum.api import crds

    if args.out is None:
        sys.stdout.write(crds.render_all())
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for kind in crds.KINDS:
        (out / crds.file_name(kind)).write_text(crds.render(kind))
    return 0


def _run(args: argparse.Namespace) -> int:
    # The one place where flags and environment become settings; nothing reads them later.
    from stratum.handlers.main import run_operator
    from stratum.handlers.settings import OperatorSettings

    return run_operator(OperatorSettings.from_args(args, os.environ))


def _plan(args: argparse.Namespace) -> int:
    from stratum.handlers.planner import run_plan

    return run_plan(args.filename, os.environ, sys.stdout, sys.stderr, sys.stdin)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stratum", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    crds = sub.add_parser("crds", help="print the CRDs generated from the API models")
    crds.add_argument("--out", metavar="DIR", help="write one file per CRD into DIR instead")
    crds.set_defaults(func=_crds)

    plan = sub.add_parser(
        "plan",
        help="print the backend changes the operator would make for these manifests; writes nothing",
        description="Reads the manifests and the live backends (LS_CONTROLLERS, MAAS_API_URL, "
        "MAAS_API_KEY as the operator) and, with KUBECONFIG set, the live Stratum objects. "
        "Exit 0: nothing to change; 2: changes planned; 1: error.",
    )
    plan.add_argument(
        "-f",
        "--filename",
        action="append",
        required=True,
        metavar="FILE",
        help="a manifest file, or - for stdin",
    )
    plan.set_defaults(func=_plan)

    run = sub.add_parser("run", help="run the operator")
    run.add_argument(
        "--liveness", metavar="URL", help="serve a liveness probe, e.g. http://0.0.0.0:8080/healthz"
    )
    run.add_argument("--metrics-port", type=int, metavar="PORT", help="serve Prometheus metrics on this port")
    run.add_argument("--metrics-host", default="0.0.0.0", metavar="HOST")
    run.add_argument("--verbose", action="store_true", help="debug logging")
    run.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="text lines, or JSON lines carrying the kind, name and uid of the object of each pass",
    )
    run.add_argument(
        "--drift-interval",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how often every object is re-checked against its backend",
    )
    run.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="objects reconciled concurrently, each with a LINSTOR connection of its own (default 50)",
    )
    run.add_argument(
        "--lease-namespace",
        metavar="NS",
        help="run only while holding a coordination.k8s.io Lease in NS (HA)",
    )
    run.add_argument("--lease-name", default="stratum-operator", metavar="NAME")
    run.add_argument("--identity", metavar="ID", help="holder identity for the Lease (default hostname)")
    run.add_argument(
        "--service-account-dir",
        metavar="DIR",
        help="where the service-account token is mounted (default: Kubernetes' own path); "
        "the token is read again as the kubelet rotates it",
    )
    run.set_defaults(func=_run)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    sys.exit(args.func(args))


if __name__ == "__main__":
    main()
