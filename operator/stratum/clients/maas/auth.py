"""OAuth 1.0 PLAINTEXT request signing as MAAS expects it (oauthlib does the signing)."""

from __future__ import annotations

from oauthlib import oauth1

from stratum.clients.maas.config import ApiKey


class Signer:
    """Signs every request as python-libmaas does: the PLAINTEXT signature does not depend on
    method, URL or body, and every header gets a fresh nonce and timestamp."""

    def __init__(self, key: ApiKey) -> None:
        self._client = oauth1.Client(
            key.consumer_key,
            client_secret="",
            resource_owner_key=key.token_key,
            resource_owner_secret=key.token_secret,
            signature_method=oauth1.SIGNATURE_PLAINTEXT,
            realm="OAuth",
        )

    def header(self, url: str) -> str:
        _, headers, _ = self._client.sign(url, http_method="GET")
        value: str = headers["Authorization"]
        return value
