"""MAAS client pieces without a server: configuration, signing, error parsing, retries."""

from __future__ import annotations

import httpx
import pytest

from stratum.clients.errors import BackendUnavailable
from stratum.clients.maas import (
    NOT_CONFIGURED,
    ApiKey,
    MaasClient,
    MaasConfig,
    MaasConfigError,
    MaasError,
    MaasValidationError,
    api_root,
    encode_form,
    encode_multipart,
)
from stratum.clients.maas.auth import Signer
from stratum.clients.maas.errors import parse_errors
from stratum.clients.retry import RetryPolicy


@pytest.mark.parametrize(
    "url",
    [
        "http://maas:5240/MAAS/",
        "http://maas:5240/MAAS",
        "http://maas:5240/MAAS/api/2.0/",
        " http://maas:5240/MAAS",
    ],
)
def test_api_root_with_or_without_trailing_slash(url: str) -> None:
    assert api_root(url) == "http://maas:5240/MAAS/api/2.0/"


def test_config_from_env() -> None:
    config = MaasConfig.from_env({"MAAS_API_URL": "https://maas.example/MAAS", "MAAS_API_KEY": "a:b:s3cr3t"})
    assert config.api_root == "https://maas.example/MAAS/api/2.0/"
    assert config.api_key == ApiKey("a", "b", "s3cr3t")
    assert "s3cr3t" not in repr(config)  # the secret stays out of logs


def test_missing_or_bad_configuration_says_what_to_set() -> None:
    with pytest.raises(MaasConfigError, match=NOT_CONFIGURED):
        MaasConfig.from_env({})
    with pytest.raises(MaasConfigError, match=NOT_CONFIGURED):
        MaasConfig.from_env({"MAAS_API_URL": "http://maas/MAAS/"})
    with pytest.raises(MaasConfigError, match="consumer_key:token_key:token_secret") as caught:
        MaasConfig.from_env({"MAAS_API_URL": "http://maas/MAAS/", "MAAS_API_KEY": "only:twosecret"})
    assert "twosecret" not in str(caught.value)
    with pytest.raises(MaasConfigError, match="http"):
        MaasConfig.from_env({"MAAS_API_URL": "maas:5240", "MAAS_API_KEY": "a:b:c"})


def test_plaintext_signature_with_fresh_nonces() -> None:
    signer = Signer(ApiKey("ck", "tk", "ts"))
    first, second = signer.header("http://m/MAAS/api/2.0/"), signer.header("http://m/MAAS/api/2.0/")
    assert first.startswith('OAuth realm="OAuth"')
    for part in (
        'oauth_signature_method="PLAINTEXT"',
        'oauth_consumer_key="ck"',
        'oauth_token="tk"',
        'oauth_signature="%26ts"',
    ):
        assert part in first
    nonce = [p for p in first.split(", ") if p.startswith("oauth_nonce=")]
    assert nonce and nonce[0] not in second


def test_forms_repeat_keys_for_lists() -> None:
    ctype, body = encode_form([("level", "raid-1"), ("block_devices", 3), ("block_devices", 4)])
    assert ctype == "application/x-www-form-urlencoded"
    assert body == b"level=raid-1&block_devices=3&block_devices=4"
    ctype, body = encode_multipart([("block_devices", 3), ("block_devices", 4)], boundary="XX")
    assert ctype == "multipart/form-data; boundary=XX"
    assert body == (
        b'--XX\r\nContent-Disposition: form-data; name="block_devices"\r\n\r\n3\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="block_devices"\r\n\r\n4\r\n--XX--\r\n'
    )


def test_both_error_body_shapes() -> None:
    assert parse_errors("application/json; charset=utf-8", '{"name": ["bad"], "__all__": ["x", "y"]}') == {
        "name": ["bad"],
        "__all__": ["x", "y"],
    }
    assert parse_errors("application/json", '{"__all__": "one"}') == {"__all__": ["one"]}
    assert parse_errors(
        "text/plain; charset=utf-8", "Cannot create RAID because the machine is not Ready."
    ) == {"__all__": ["Cannot create RAID because the machine is not Ready."]}
    assert parse_errors("text/plain", "") == {}


def _client(handler: httpx.MockTransport) -> MaasClient:
    config = MaasConfig(url="http://maas:5240/MAAS/", api_key=ApiKey("a", "b", "c"))
    return MaasClient(config, retry=RetryPolicy(attempts=3, base_delay=0, max_delay=0), transport=handler)


async def test_5xx_is_retried_then_succeeds() -> None:
    calls: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        if len(calls) < 3:
            return httpx.Response(503, text="busy")
        return httpx.Response(200, json=[])

    async with _client(httpx.MockTransport(handle)) as client:
        assert await client.list_raids("abc") == []
    assert calls == ["http://maas:5240/MAAS/api/2.0/nodes/abc/raids/"] * 3


async def test_4xx_is_not_retried() -> None:
    calls = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(400, json={"level": ["Select a valid choice."]})

    async with _client(httpx.MockTransport(handle)) as client:
        with pytest.raises(MaasValidationError) as caught:
            await client.create_raid("abc", name="md0", level="raid1")
    assert calls == 1 and caught.value.errors == {"level": ["Select a valid choice."]}


async def test_connection_refused_is_retried_even_for_posts() -> None:
    calls = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ConnectError("refused", request=request)
        assert request.url.params.get("op") == "format"
        assert request.content == b"fstype=ext4"
        return httpx.Response(200, json={"id": 9, "name": "md0", "size": 10, "type": "virtual"})

    async with _client(httpx.MockTransport(handle)) as client:
        device = await client.format_block_device("abc", 9, "ext4")
    assert calls == 2 and device.name == "md0"


async def test_a_lost_answer_to_a_post_is_not_resent() -> None:
    calls = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ReadError("connection reset", request=request)

    async with _client(httpx.MockTransport(handle)) as client:
        with pytest.raises(BackendUnavailable, match="may or may not"):
            await client.create_raid("abc", name="md0", level="raid-1", block_devices=[1, 2])
        assert calls == 1
        with pytest.raises(BackendUnavailable):
            await client.list_raids("abc")
    assert calls == 1 + 3


async def test_unexpected_status_is_a_maas_error() -> None:
    async with _client(httpx.MockTransport(lambda r: httpx.Response(418, text="teapot"))) as client:
        with pytest.raises(MaasError) as caught:
            await client.list_raids("abc")
    assert caught.value.status == 418 and caught.value.message == "teapot"
