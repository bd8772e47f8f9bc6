"""kopf's login in the cluster: the service-account token is read from the file each time kopf
authenticates, with an expiration at which kopf authenticates again (once the kubelet has
written a newer token); with a kubeconfig, kopf's kubeconfig login is used; and our login
replaces kopf's fallback logins in the registry."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import aiohttp
import kopf
import pytest
from kopf._core.intents.causes import Activity  # kopf exports no name for it

from stratum.api.crds import KINDS
from stratum.handlers import login
from stratum.handlers.main import build_registry
from stratum.handlers.settings import OperatorSettings


def jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.signature"


@pytest.fixture
def account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    (tmp_path / "ca.crt").write_text("ca")
    (tmp_path / "namespace").write_text("stratum\n")
    return tmp_path


def test_the_token_file_is_read_on_every_login(account: Path) -> None:
    now = dt.datetime.now(dt.UTC).timestamp()
    (account / "token").write_text(jwt({"iat": int(now), "exp": int(now) + 3600}) + "\n")
    first = login.service_account_login(account)
    assert first is not None
    assert first.server == "https://10.96.0.1:443" and first.default_namespace == "stratum"
    assert first.ca_path == str(account / "ca.crt")
    assert first.expiration is not None
    # Read again at 90% of the lifetime: after the kubelet's rewrite at 80%.
    assert abs(first.expiration.timestamp() - (int(now) + 3240)) < 1

    rotated = jwt({"iat": int(now) + 2880, "exp": int(now) + 6480})
    (account / "token").write_text(rotated)
    second = login.service_account_login(account)
    assert second is not None and second.token == rotated != first.token


def test_an_extended_token_is_read_again_by_its_warnafter_time(account: Path) -> None:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    year = 365 * 24 * 3600
    (account / "token").write_text(
        jwt({"iat": now, "exp": now + year, "kubernetes.io": {"warnafter": now + 3607}})
    )
    info = login.service_account_login(account)
    assert info is not None and info.expiration is not None
    assert info.expiration.timestamp() < now + 3607


def test_a_stale_token_is_read_again_a_minute_later_not_in_a_loop(account: Path) -> None:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    (account / "token").write_text(jwt({"iat": now - 7200, "exp": now - 3600}))
    info = login.service_account_login(account)
    assert info is not None and info.expiration is not None
    assert info.expiration.timestamp() >= now + 59


def test_a_token_without_times_waits_for_a_401(account: Path) -> None:
    (account / "token").write_text("opaque-legacy-token")
    info = login.service_account_login(account)
    assert info is not None and info.token == "opaque-legacy-token" and info.expiration is None


def test_outside_a_cluster_there_is_no_service_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    (tmp_path / "token").write_text("t")
    assert login.service_account_login(tmp_path) is None


def test_our_login_replaces_kopfs_fallback_logins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", "/etc/kubeconfig")  # kopf adds its kubeconfig login then
    registry = type(kopf.get_default_registry())()  # a fresh one, with kopf's fallback logins
    fallbacks = list(registry._activities.get_handlers(activity=Activity.AUTHENTICATION))
    assert fallbacks and all(h._fallback for h in fallbacks)
    build_registry(OperatorSettings(), registry)
    handlers = list(registry._activities.get_handlers(activity=Activity.AUTHENTICATION))
    assert [h.id for h in handlers] == ["login"]


async def test_kopf_gets_a_session_with_bounded_connections(
    account: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kopf's own session opens a connection per concurrent request (no limit)."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    now = int(dt.datetime.now(dt.UTC).timestamp())
    token = jwt({"iat": now, "exp": now + 3600})
    (account / "token").write_text(token)
    (account / "ca.crt").unlink()  # not a certificate: the system's CAs then
    registry = kopf.OperatorRegistry()
    login.register_login(registry, account, connections=12)
    (handler,) = registry._activities.get_handlers(activity=Activity.AUTHENTICATION)
    context = await handler.fn(settings=kopf.OperatorSettings())
    assert isinstance(context, kopf.AiohttpSession)
    try:
        info = login.service_account_login(account)
        assert info is not None
        assert context.server == info.server and context.default_namespace == "stratum"
        assert context.expiration == info.expiration
        assert isinstance(context.aiohttp_session.connector, aiohttp.TCPConnector)
        assert context.aiohttp_session.connector.limit == 12
        assert context.aiohttp_session.headers["Authorization"] == f"Bearer {token}"
    finally:
        await context.aiohttp_session.close()


def test_the_watch_streams_leave_connections_for_the_patches() -> None:
    """Each watched kind holds one of kopf's connections for good."""
    assert len(KINDS) * 2 <= OperatorSettings().api_connections
