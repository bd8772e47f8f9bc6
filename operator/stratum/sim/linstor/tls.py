"""TLS for the REST API, with optional client-certificate verification (as LINSTOR supports)."""

from __future__ import annotations

import ssl


def server_ssl_context(
    cert: str | None, key: str | None, client_ca: str | None = None
) -> ssl.SSLContext | None:
    if not cert:
        if client_ca:
            raise ValueError("a client CA needs a server certificate (--tls-cert)")
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.load_verify_locations(client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx
