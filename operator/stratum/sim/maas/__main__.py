"""Command line: `maas-sim --host H --port P --seed FILE [--api-key ck:tk:ts] [--tls-cert C --tls-key K]`."""

from __future__ import annotations

import argparse
import logging
import sys

from ..common import serve, ssl_context
from .server import MaasSim


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="maas-sim", description="MAAS region API 2.0 simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5240)
    parser.add_argument("--seed", help="YAML seed file (apiKeys, machines)")
    parser.add_argument(
        "--api-key",
        help="an extra accepted API key consumer:token:secret (one is generated and printed when "
        "neither the seed nor this flag gives any)",
    )
    # Named as linstor-sim names them; --cert/--key stay as aliases.
    parser.add_argument(
        "--tls-cert", "--cert", dest="tls_cert", help="serve HTTPS with this certificate (PEM)"
    )
    parser.add_argument("--tls-key", "--key", dest="tls_key", help="private key of --tls-cert (PEM)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="maas-sim: %(message)s")
    try:
        sim = MaasSim(args.seed, api_key=args.api_key)
    except (OSError, ValueError) as exc:
        print(f"maas-sim: {exc}", file=sys.stderr)
        sys.exit(2)
    if bool(args.tls_cert) != bool(args.tls_key):
        print("maas-sim: --tls-cert and --tls-key go together", file=sys.stderr)
        sys.exit(2)
    scheme = "https" if args.tls_cert else "http"
    print(f"maas-sim: serving {scheme}://{args.host}:{args.port}/MAAS/", file=sys.stderr)
    if args.api_key is None and not sim._seed.get("apiKeys"):
        print(f"maas-sim: API key {sim.api_key}", file=sys.stderr)
    sys.stderr.flush()
    serve(sim.make_app(), args.host, args.port, ssl_context(args.tls_cert, args.tls_key))


if __name__ == "__main__":
    main()
