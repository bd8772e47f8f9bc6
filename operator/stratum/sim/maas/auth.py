"""OAuth 1.0a PLAINTEXT checking as MAAS (piston3's OAuth server) does it.

The API key is `consumer_key:token_key:token_secret`; the consumer secret is empty, so
the PLAINTEXT signature is `&<token_secret>` (percent-encoded once in the header).
Parameters may come from the Authorization header, the query string or the form body.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from urllib.parse import unquote

from .errors import BadRequest, Challenge, Unauthorized
from .model import ApiKey, MaasState

NECESSARY = (
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_nonce",
)
TIMESTAMP_THRESHOLD = 300


def parse_authorization(header: str) -> dict[str, str] | None:
    """`OAuth k="v", ...` -> {k: v} (values percent-decoded), or None without `OAuth`."""
    text = header.strip()
    if not text.startswith("OAuth"):
        return None
    params: dict[str, str] = {}
    for item in text[len("OAuth") :].split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        params[key.strip()] = unquote(value.strip().strip('"'))
    return params


def _problems(params: Mapping[str, str]) -> tuple[bool, bool]:
    """(complete, has_type_issue) for one source of OAuth parameters."""
    missing = [name for name in NECESSARY if name not in params]
    type_issue = False
    if "oauth_timestamp" in params:
        try:
            int(params["oauth_timestamp"])
        except ValueError:
            type_issue = True
    return (not missing and not type_issue), type_issue


def authenticate(
    state: MaasState,
    header: str,
    query: Mapping[str, str],
    form: Mapping[str, str],
    now: float | None = None,
) -> ApiKey:
    """The key that signed the request, or raise the error MAAS would answer."""
    header_params = parse_authorization(header) if header else None
    sources: list[Mapping[str, str]] = []
    if header_params is not None:
        sources.append(header_params)
    sources += [query, form]
    chosen: Mapping[str, str] | None = None
    type_issue = False
    for source in sources:
        complete, issue = _problems(source)
        type_issue = type_issue or issue
        if complete and chosen is None:
            chosen = source
    if chosen is None:
        if type_issue:
            raise BadRequest(
                "'Bad Request: the following problems were found among the auth params: "
                "oauth_timestamp has an unexpected type'"
            )
        raise Challenge()
    return _verify(state, chosen, now if now is not None else time.time())


def _verify(state: MaasState, params: Mapping[str, str], now: float) -> ApiKey:
    consumer_key = params["oauth_consumer_key"]
    token_key = params["oauth_token"]
    if not state.consumer_known(consumer_key):
        raise Unauthorized("Authorization Error: Invalid API key.")
    key = state.api_keys.get(token_key)
    if key is None or key.consumer_key != consumer_key:
        raise Unauthorized(f"Authorization Error: 'Invalid access token: {token_key}'")
    timestamp = int(params["oauth_timestamp"])
    if abs(now - timestamp) > TIMESTAMP_THRESHOLD:
        raise Unauthorized(
            f"Authorization Error: 'Expired timestamp: given {timestamp} and now {int(now)} has a "
            f"greater difference than threshold {TIMESTAMP_THRESHOLD}'"
        )
    method = params["oauth_signature_method"]
    if method != "PLAINTEXT":
        raise Unauthorized(
            f"Authorization Error: 'Signature method {method} not supported try one of the "
            "following: PLAINTEXT'"
        )
    if not state.remember_nonce(consumer_key, token_key, params["oauth_nonce"]):
        raise Unauthorized(f"Authorization Error: 'Nonce already used: {params['oauth_nonce']}'")
    signature = params["oauth_signature"]
    # Header values were decoded once already; query/form values arrive decoded too.
    if signature != "&" + key.token_secret:
        # Upstream echoes the expected base string, i.e. the secret; the simulator does not.
        raise Unauthorized("Authorization Error: 'Invalid signature.'")
    return key
