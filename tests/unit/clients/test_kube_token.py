"""The Lease client's bearer token follows the projected token file: a rewritten file is read
again (no more often than the check interval), and a 401 makes it read the file at once and
send the request again."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from stratum.clients.kube import EventClient, KubeConnection, LeaseClient, TokenFileAuth
from stratum.clients.kubeobjects import KubeObjects
from stratum.handlers.planner import Cluster


def serve(valid: set[str], seen: list[str]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        token = request.headers["Authorization"].removeprefix("Bearer ")
        seen.append(token)
        return httpx.Response(200 if token in valid else 401, json={})

    return httpx.MockTransport(answer)


async def test_a_rotated_token_file_is_used_after_the_check_interval(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("one\n")
    seen: list[str] = []
    auth = TokenFileAuth(path, check_every=0)
    async with httpx.AsyncClient(auth=auth, transport=serve({"one", "two"}, seen)) as http:
        await http.get("https://api/")
        staged = tmp_path / "token.new"
        staged.write_text("two\n")
        os.replace(staged, path)
        await http.get("https://api/")
    assert seen == ["one", "two"]


async def test_a_401_reads_the_file_again_and_retries_once(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("old")
    seen: list[str] = []
    valid = {"old"}
    auth = TokenFileAuth(path, check_every=3600)  # the periodic check will not see the rewrite
    async with httpx.AsyncClient(auth=auth, transport=serve(valid, seen)) as http:
        assert (await http.get("https://api/")).status_code == 200
        path.write_text("new")
        valid.clear()
        valid.add("new")  # the old token was revoked meanwhile
        assert (await http.get("https://api/")).status_code == 200
        valid.clear()
        assert (await http.get("https://api/")).status_code == 401  # retried once, not forever
    assert seen == ["old", "old", "new", "new", "new"]


def test_in_cluster_connections_read_the_token_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("t")
    connection = KubeConnection(server="https://10.96.0.1:443", token_file=str(tmp_path / "token"))
    assert isinstance(connection.auth(), TokenFileAuth)
    for client in (LeaseClient(connection, "ns"), EventClient(connection)):
        assert isinstance(client._http.auth, TokenFileAuth)
    assert KubeConnection(server="https://x").auth() is None


async def test_every_api_server_client_sends_the_pods_token_file(tmp_path: Path) -> None:
    """In a pod there is no static token, only the projected file: the object client (drift
    listings, status writes, a rollback's intent) and the plan's reader must send it, as the Lease
    and Event clients do."""
    token = tmp_path / "token"
    token.write_text("pod-token\n")
    connection = KubeConnection(server="https://kube.invalid", token_file=str(token))
    for client in (KubeObjects(connection), Cluster(connection)):
        request = client._http.build_request("GET", "/api")
        flow = client._http.auth.sync_auth_flow(request)
        assert next(flow).headers["Authorization"] == "Bearer pod-token"
        await client.close()
