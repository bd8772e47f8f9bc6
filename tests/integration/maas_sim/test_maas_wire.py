"""Wire conventions: OAuth PLAINTEXT, anonymous version/describe, trailing slashes, `op`,
form and multipart bodies, status codes and headers, `/_sim/` endpoints."""

from __future__ import annotations

import time
from urllib.parse import quote

import aiohttp
from maas_helpers import API_KEY, MaasHttp, plaintext_header

from stratum.sim.maas import MaasSim


async def test_unsigned_request_gets_the_piston_challenge(api: MaasHttp) -> None:
    reply = await api.get("machines/", signed=False)
    assert reply.status == 401
    assert reply.text == "Forbidden"
    # Returned by the piston resource, so it carries the API hash.
    assert "X-MAAS-API-Hash" in reply.headers


async def test_wrong_secret_is_refused_with_an_oauth_challenge(api: MaasHttp) -> None:
    header = plaintext_header(API_KEY, secret="not-the-secret")
    reply = await api.get("machines/", headers={"Authorization": header})
    assert reply.status == 401
    assert reply.headers["WWW-Authenticate"] == 'OAuth realm="OAuth"'
    assert reply.text.startswith("Authorization Error:")
    assert "not-the-secret" not in reply.text and "ts1" not in reply.text
    assert "X-MAAS-API-Hash" not in reply.headers


async def test_unknown_consumer_and_unknown_token(api: MaasHttp) -> None:
    reply = await api.get("machines/", headers={"Authorization": plaintext_header("nope:tk1:ts1")})
    assert (reply.status, reply.text) == (401, "Authorization Error: Invalid API key.")
    reply = await api.get("machines/", headers={"Authorization": plaintext_header("ck1:nope:ts1")})
    assert (reply.status, reply.text) == (401, "Authorization Error: 'Invalid access token: nope'")


async def test_nonce_replay_and_stale_timestamp_are_refused(api: MaasHttp) -> None:
    header = plaintext_header(API_KEY)
    assert (await api.get("machines/", headers={"Authorization": header})).status == 200
    replay = await api.get("machines/", headers={"Authorization": header})
    assert replay.status == 401 and "Nonce already used" in replay.text
    stale = header.replace(f'oauth_timestamp="{int(time.time())}"', 'oauth_timestamp="1000"')
    stale = stale.replace("oauth_nonce=", "oauth_nonce=9")
    reply = await api.get("machines/", headers={"Authorization": stale})
    assert reply.status == 401 and "Expired timestamp" in reply.text


async def test_non_integer_timestamp_is_a_bad_request(api: MaasHttp) -> None:
    header = plaintext_header(API_KEY).replace("oauth_timestamp=", "oauth_timestamp=x")
    reply = await api.get("machines/", headers={"Authorization": header})
    assert reply.status == 400
    assert "oauth_timestamp has an unexpected type" in reply.text


async def test_oauth_parameters_in_the_query_string_work(api: MaasHttp) -> None:
    params = {
        "oauth_consumer_key": "ck1",
        "oauth_token": "tk1",
        "oauth_signature": "&ts1",
        "oauth_signature_method": "PLAINTEXT",
        "oauth_timestamp": str(int(time.time())),
        "oauth_nonce": "42",
    }
    reply = await api.get("machines/", params, signed=False)
    assert reply.status == 200


async def test_header_without_realm_as_the_maas_cli_sends_it(api: MaasHttp) -> None:
    reply = await api.get("machines/", headers={"Authorization": plaintext_header(API_KEY, realm=False)})
    assert reply.status == 200


async def test_version_and_describe_are_anonymous(api: MaasHttp) -> None:
    version = await api.get("version/", signed=False)
    assert version.status == 200
    assert version.content_type == "application/json; charset=utf-8"
    body = version.json()
    assert "authenticate-api" in body["capabilities"] and body["subversion"] == ""
    describe = await api.get("describe/", signed=False)
    assert describe.status == 200
    assert describe.content_type == "application/json"
    doc = describe.json()
    assert set(doc) == {"doc", "hash", "resources", "handlers"}
    assert doc["doc"] == "MAAS API"
    assert doc["hash"] == version.headers["X-MAAS-API-Hash"]
    names = [r["name"] for r in doc["resources"]]
    assert names == sorted(names)
    by_name = {r["name"]: r for r in doc["resources"]}
    raids = by_name["RaidsHandler"]["auth"]
    assert raids["params"] == ["system_id"]
    assert raids["path"] == "/MAAS/api/2.0/nodes/{system_id}/raids/"
    assert raids["uri"] == api.sim.url + "/MAAS/api/2.0/nodes/{system_id}/raids/"
    assert {(a["name"], a["method"], a["op"], a["restful"]) for a in raids["actions"]} == {
        ("create", "POST", None, True),
        ("read", "GET", None, True),
    }
    partition = by_name["PartitionHandler"]["auth"]
    assert partition["path"].endswith("/partition/{id}")
    assert by_name["VersionHandler"]["anon"] is not None and by_name["VersionHandler"]["auth"] is None
    block = {a["name"]: a for a in by_name["BlockDeviceHandler"]["auth"]["actions"]}
    assert block["set_boot_disk"]["op"] == "set_boot_disk" and block["set_boot_disk"]["restful"] is False


async def test_other_api_entry_points(api: MaasHttp) -> None:
    old = await api.get("/MAAS/api/1.0/machines/", signed=False)
    assert (old.status, old.text) == (410, "The 1.0 API is no longer available. Please use API version 2.0.")
    version = await api.get("/MAAS/api/version/", signed=False)
    assert (version.status, version.text) == (200, "2.0")


async def test_missing_trailing_slash_redirects_permanently(api: MaasHttp) -> None:
    reply = await api.get("machines/abc123", {"x": "1"})
    assert reply.status == 301
    assert reply.headers["Location"] == "/MAAS/api/2.0/machines/abc123/?x=1"
    reply = await api.post("nodes/abc123/raids", {"level": "raid-1"})
    assert reply.status == 301


async def test_partition_detail_has_no_trailing_slash(api: MaasHttp) -> None:
    created = await api.ok("POST", "nodes/abc123/blockdevices/sdb/partitions/", body={"size": "10G"})
    pid = created["id"]
    assert created["resource_uri"] == f"/MAAS/api/2.0/nodes/abc123/blockdevices/2/partition/{pid}"
    assert (await api.get(f"nodes/abc123/blockdevices/2/partition/{pid}")).status == 200
    # Both spellings (LP:1715230).
    assert (await api.get(f"nodes/abc123/blockdevices/2/partitions/{pid}")).status == 200
    slashed = await api.get(f"nodes/abc123/blockdevices/2/partition/{pid}/")
    assert slashed.status == 404
    assert "text/html" in slashed.content_type and "Not Found" in slashed.text


async def test_unknown_path_is_djangos_404(api: MaasHttp) -> None:
    reply = await api.get("frobnicators/")
    assert reply.status == 404
    assert "<h1>Not Found</h1>" in reply.text


async def test_unrecognised_signature_and_method_not_allowed(api: MaasHttp) -> None:
    reply = await api.post("nodes/abc123/blockdevices/2/", op="frobnicate")
    assert reply.status == 400
    assert reply.text == "Unrecognised signature: method=POST op=frobnicate"
    assert reply.content_type == "text/plain; charset=utf-8"
    reply = await api.post("nodes/abc123/blockdevices/2/")
    assert reply.text == "Unrecognised signature: method=POST op=None"
    reply = await api.post("nodes/abc123/raid/1/")
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, PUT, DELETE"


async def test_op_in_the_body_and_op_path_suffix(api: MaasHttp) -> None:
    reply = await api.post("nodes/abc123/blockdevices/sdb/", {"op": "format", "fstype": "ext4"})
    assert reply.status == 200 and reply.json()["filesystem"]["fstype"] == "ext4"
    reply = await api.post("nodes/abc123/blockdevices/sdc/op-format", {"fstype": "xfs"})
    assert reply.status == 200 and reply.json()["filesystem"]["fstype"] == "xfs"
    assert (await api.post("nodes/abc123/blockdevices/sdc/op-frobnicate")).status == 404


async def test_multipart_base64_bodies_with_repeated_keys(api: MaasHttp) -> None:
    reply = await api.post(
        "nodes/abc123/raids/",
        [
            ("name", "md0"),
            ("level", "raid-5"),
            ("block_devices", 2),
            ("block_devices", 3),
            ("block_devices", "sdd"),
        ],
        form="multipart",
    )
    assert reply.status == 200, reply.text
    raid = reply.json()
    assert sorted(d["name"] for d in raid["devices"]) == ["sdb", "sdc", "sdd"]


async def test_success_shapes_and_hash_header(api: MaasHttp) -> None:
    reply = await api.get("machines/")
    assert reply.status == 200
    assert reply.content_type == "application/json; charset=utf-8"
    assert len(reply.headers["X-MAAS-API-Hash"]) == 40
    created = await api.create_raid("abc123", name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    assert created.status == 200  # create is 200, not 201
    deleted = await api.delete(f"nodes/abc123/raid/{created.json()['id']}/")
    assert (deleted.status, deleted.body) == (204, b"")
    boot = await api.post("nodes/abc123/blockdevices/sdb/", op="set_boot_disk")
    assert (boot.status, boot.text) == (200, "OK")


async def test_error_shapes_and_hash_header(api: MaasHttp) -> None:
    missing = await api.get("machines/nope/")
    assert (missing.status, missing.text) == (404, "No Machine matches the given query.")
    assert "X-MAAS-API-Hash" in missing.headers
    conflict = await api.create_raid("def456", name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    assert conflict.status == 409
    assert "X-MAAS-API-Hash" not in conflict.headers
    invalid = await api.create_raid("abc123", name="md0", level="raid5", block_devices=["sdb", "sdc"])
    assert invalid.status == 400 and "X-MAAS-API-Hash" not in invalid.headers


async def test_sim_faults_stats_and_outage(api: MaasHttp, sim: MaasSim) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(sim.url + "/_sim/faults", json={"errorRate": 1.0}) as resp:
            assert resp.status == 200
        reply = await api.get("machines/")
        assert reply.status == 500 and reply.content_type == "text/plain; charset=utf-8"
        async with session.post(sim.url + "/_sim/faults", json={"errorRate": 0, "down": True}) as resp:
            assert (await resp.json())["down"] is True
        try:
            await api.get("machines/")
            raise AssertionError("the simulator answered while down")
        except aiohttp.ClientError:
            pass
        async with session.post(sim.url + "/_sim/faults", json={"down": False}) as resp:
            assert resp.status == 200
        assert (await api.get("machines/")).status == 200
        async with session.get(sim.url + "/_sim/stats") as resp:
            stats = await resp.json()
        # The outage may be retried by the client; everything outside /_sim/ is counted.
        assert stats["byPath"]["GET /MAAS/api/2.0/machines/"] >= 3
        assert stats["byMethod"]["GET"] >= 3


async def test_sim_machine_endpoints(api: MaasHttp, sim: MaasSim) -> None:
    async with aiohttp.ClientSession() as session:
        spec = {
            "systemId": "new001",
            "hostname": "node-new",
            "status": "Deployed",
            "blockDevices": [{"name": "sda", "size": 10**12}, {"name": "sdb", "size": 10**12}],
        }
        async with session.post(sim.url + "/_sim/machines", json=spec) as resp:
            assert resp.status == 201
            body = await resp.json()
        # Ids continue the global sequence after the seed's 12 devices.
        assert [d["id"] for d in body["blockdevice_set"]] == [13, 14]
        assert body["status_name"] == "Deployed"
        async with session.patch(sim.url + "/_sim/machines/new001", json={"status": "Ready"}) as resp:
            assert (await resp.json())["status"] == 4
        machine = await api.ok("GET", "machines/new001/")
        assert (machine["status"], machine["status_name"]) == (4, "Ready")
        async with session.post(sim.url + "/_sim/machines", json=spec) as resp:
            assert resp.status == 400
        async with session.get(sim.url + "/_sim/apikeys") as resp:
            assert (await resp.json())["keys"] == [API_KEY]
        async with session.post(sim.url + "/_sim/apikeys", json={"key": "a:b:c"}) as resp:
            assert resp.status == 201
        other = MaasHttp(api.session, sim, key="a:b:c")
        assert (await other.get("machines/")).status == 200
        async with session.post(sim.url + "/_sim/reset") as resp:
            assert (await resp.json())["machines"] == 3
        assert (await api.get("machines/new001/")).status == 404


async def test_signature_is_percent_decoded_once(api: MaasHttp) -> None:
    header = plaintext_header(API_KEY).replace(quote("&ts1", safe=""), "&ts1")
    # An unencoded '&' still decodes to the same signature.
    assert (await api.get("machines/", headers={"Authorization": header})).status == 200
