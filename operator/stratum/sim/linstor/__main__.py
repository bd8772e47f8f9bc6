"""Command line: linstor-sim --host H --port P --seed FILE [--tls-cert C --tls-key K [--tls-client-ca CA]]."""

from __future__ import annotations

import argparse
import sys

from ..common import Stats, serve
from .app import build_app
from .faults import LinstorFaults
from .seed import SeedError, load_seed
from .tls import server_ssl_context


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="linstor-sim", description="LINSTOR controller REST API v1 simulator"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=3370, help="port (default 3370)")
    parser.add_argument("--seed", help="YAML seed file (version, nodes, storage pools)")
    parser.add_argument(
        "--version", dest="ctrl_version", help="controller version to report (overrides the seed)"
    )
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", help="private key of --tls-cert (PEM)")
    parser.add_argument("--tls-client-ca", help="require client certificates signed by this CA (PEM)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        state = load_seed(args.seed, args.ctrl_version)
        ssl_ctx = server_ssl_context(args.tls_cert, args.tls_key, args.tls_client_ca)
    except (OSError, SeedError, ValueError) as exc:
        print(f"linstor-sim: {exc}", file=sys.stderr)
        sys.exit(2)
    scheme = "https" if ssl_ctx else "http"
    print(
        f"linstor-sim {state.version_text} (REST {state.rest_api_version}) on {scheme}://{args.host}:{args.port}",
        file=sys.stderr,
        flush=True,
    )
    serve(build_app(state, LinstorFaults(), Stats()), args.host, args.port, ssl_ctx)


if __name__ == "__main__":
    main()
