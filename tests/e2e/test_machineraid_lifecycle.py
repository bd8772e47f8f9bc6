"""MachineRaid against MAAS as it really behaves, end to end: the operator (a real `stratum run`)
on a control plane of its own, talking to an https maas-sim with a private CA (MAAS_CA_CERT).
Disks by serial, kernel renames, commissioning wipes through the real API, replaced disks,
Stratum's own partitions across a SIGKILL, readyTag with allocation, a non-administrator's key,
and how soon a released machine is acted on."""

from __future__ import annotations

import asyncio
import itertools
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratum.clients.maas import MaasClient, MaasConfig, MaasError
from stratum.reconcile.maas.identity import partition_uuid
from stratum.sim.maas import MaasSim
from stratum.sim.maas.render import raid_json
from stratum.sim.maas.simroutes import rename_disks
from support.kube import ControlPlane, Kube
from support.operator import OperatorProcess
from support.pki import Authority

MAAS = "maas.stratum.dev/v1alpha1"
TB = 10**12
ADMIN_KEY = "e2eadmin000000000:e2eadmin000000001:e2eadmin0000000000000000002"
USER_KEY = "e2euser0000000000:e2euser0000000001:e2euser00000000000000000002"
_ids = itertools.count(1)


def server_context(ca: Authority) -> ssl.SSLContext:
    """The region's side of https: a certificate for 127.0.0.1 issued by the private CA."""
    issued = ca.issue("maas", server=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(issued.cert), str(issued.key))
    return context


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A control plane of its own, so the session's operator (another MAAS) never sees these objects."""
    control = ControlPlane.start(Path(tmp_path_factory.mktemp("mraid-plane")))
    try:
        control.install_crds()
        yield control
    finally:
        control.stop()


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MaasSim, dict[str, str]]]:
    """An https region with a private CA; the env an operator needs to reach it."""
    ca = Authority(Path(tmp_path_factory.mktemp("mraid-ca")))
    seed = {
        "apiKeys": [ADMIN_KEY, {"key": USER_KEY, "admin": False, "username": "alice"}],
        "lifecycle": {"commissionSeconds": 0.5, "deploySeconds": 0, "releaseSeconds": 1},
    }
    with MaasSim(seed, ssl_ctx=server_context(ca)) as server:
        assert server.maas_url.startswith("https://")
        yield (
            server,
            {"MAAS_API_URL": server.maas_url, "MAAS_API_KEY": ADMIN_KEY, "MAAS_CA_CERT": str(ca.cert)},
        )


@pytest.fixture(scope="module")
def operator(
    plane: ControlPlane, sim: tuple[MaasSim, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    proc = OperatorProcess(plane.kube.kubeconfig, Path(tmp_path_factory.mktemp("mraid-op")), sim[1])
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def kube(plane: ControlPlane, operator: OperatorProcess) -> Kube:
    return plane.kube


@pytest.fixture
def maas(sim: tuple[MaasSim, dict[str, str]]) -> MaasSim:
    return sim[0]


def api(
    sim: tuple[MaasSim, dict[str, str]], method: str, path: str, *, op: str | None = None, **form: str
) -> Any:
    """A call to the region's real API (over https, trusting the private CA)."""

    async def call() -> Any:
        async with MaasClient(MaasConfig.from_env(sim[1])) as client:
            return await client.request(method, path, op=op, form=list(form.items()))

    return asyncio.run(call())


def new_machine(maas: MaasSim, disks: int = 4, status: str = "Ready") -> str:
    n = next(_ids)
    sid = f"lc{n:04d}"
    devices: list[dict[str, Any]] = [{"name": "sda", "size": 500 * 10**9, "bootDisk": True}]
    devices += [
        {"name": f"sd{chr(ord('b') + i)}", "size": TB, "serial": f"{sid.upper()}-{chr(ord('B') + i)}"}
        for i in range(disks)
    ]
    maas.add_machine({"systemId": sid, "hostname": f"lc-{n}", "status": status, "blockDevices": devices})
    return sid


def raid(name: str, sid: str, **spec: Any) -> dict[str, Any]:
    base = {"machine": {"systemId": sid}, "level": "raid-1", "devices": ["sdb", "sdc"]}
    return {"apiVersion": MAAS, "kind": "MachineRaid", "metadata": {"name": name}, "spec": {**base, **spec}}


def raids(maas: MaasSim, sid: str) -> list[dict[str, Any]]:
    machine = maas.machine(sid)
    with maas.state.lock:
        return [raid_json(machine, r) for r in machine.storage.raids.values()]


def serials(members: list[dict[str, Any]]) -> list[str]:
    return sorted(m["serial"] for m in members)


def converged(kube: Kube, name: str) -> dict[str, Any]:
    generation = kube.get("mraid", name)["metadata"]["generation"]
    kube.wait("mraid", name, f"jsonpath={{.status.observedGeneration}}={generation}")
    kube.wait("mraid", name)
    return kube.get("mraid", name)


def writes_to(maas: MaasSim, sid: str, before: dict[str, int]) -> list[str]:
    return [
        k
        for k, n in maas.stats.requests.items()
        if n != before.get(k, 0) and k.split(" ", 1)[0] in ("POST", "PUT", "DELETE") and f"/{sid}/" in k
    ]


def two_passes(maas: MaasSim, sid: str) -> dict[str, int]:
    """Wait for two more passes over the machine (each reads its RAIDs); the requests they made."""
    before = dict(maas.stats.requests)
    reads = f"GET /MAAS/api/2.0/nodes/{sid}/raids/"
    deadline = time.monotonic() + 30
    while maas.stats.requests[reads] - before.get(reads, 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert maas.stats.requests[reads] - before.get(reads, 0) >= 2, "no pass ran"
    return before


def test_by_serial_and_a_rename_leaves_maas_untouched(kube: Kube, maas: MaasSim) -> None:
    sid = new_machine(maas)
    kube.apply(raid("lc-serial", sid, devices=[f"serial:{sid.upper()}-B", "sdc"]))
    status = converged(kube, "lc-serial")["status"]
    assert [(d["ref"], d["serial"]) for d in status["devices"]] == [
        (f"serial:{sid.upper()}-B", f"{sid.upper()}-B"),
        ("sdc", f"{sid.upper()}-C"),
    ]
    # The kernel swaps a member (sdc) and a free disk (sdd), as after a reboot.
    with maas.state.lock:
        rename_disks(maas.state.machines[sid], {"sdc": "sdd", "sdd": "sdc"})
    before = two_passes(maas, sid)
    assert writes_to(maas, sid, before) == []
    [array] = raids(maas, sid)
    assert serials(array["devices"]) == [f"{sid.upper()}-B", f"{sid.upper()}-C"]
    status = kube.get("mraid", "lc-serial")["status"]
    assert [(d["ref"], d["name"]) for d in status["devices"]] == [
        (f"serial:{sid.upper()}-B", "sdb"),
        ("sdc", "sdd"),
    ]
    kube.delete("mraid", "lc-serial")


def test_commissioning_wipes_and_the_array_comes_back_on_the_same_disks(
    kube: Kube, maas: MaasSim, sim: tuple[MaasSim, dict[str, str]]
) -> None:
    sid = new_machine(maas)
    kube.apply(raid("lc-wipe", sid, filesystem={"fstype": "ext4", "mountPoint": "/data"}))
    first = converged(kube, "lc-wipe")["status"]["raidId"]
    with maas.state.lock:
        rename_disks(maas.state.machines[sid], {"sdb": "sde", "sde": "sdb"})
    api(sim, "POST", f"machines/{sid}/", op="commission")
    assert raids(maas, sid) == []  # commissioning cleared the storage layout
    deadline = time.monotonic() + 60
    while not raids(maas, sid) and time.monotonic() < deadline:
        time.sleep(0.2)
    kube.wait("mraid", "lc-wipe")
    [array] = raids(maas, sid)
    assert array["id"] != first and serials(array["devices"]) == [f"{sid.upper()}-B", f"{sid.upper()}-C"]
    assert array["virtual_device"]["filesystem"]["mount_point"] == "/data"
    kube.delete("mraid", "lc-wipe")


def test_a_wipe_with_a_replaced_disk_stalls_and_creates_nothing_elsewhere(
    kube: Kube, maas: MaasSim, sim: tuple[MaasSim, dict[str, str]], operator: OperatorProcess
) -> None:
    sid = new_machine(maas)
    kube.apply(raid("lc-changed", sid))
    converged(kube, "lc-changed")
    operator.stop()  # maintenance while the operator is away: nothing races the changes below
    try:
        api(sim, "POST", f"machines/{sid}/", op="commission")
        time.sleep(1)
        # sdb was replaced and the kernel names moved: a disk with a new serial is now "sdb".
        with maas.state.lock:
            rename_disks(maas.state.machines[sid], {"sdb": "sdd", "sdd": "sdb"})
        api(sim, "PUT", f"nodes/{sid}/blockdevices/sdd/", serial="REPLACED-1")
    finally:
        operator.start()
    cond = kube.wait_for_reason("mraid", "lc-changed", "DevicesChanged")
    assert f"the disk with serial {sid.upper()}-B" in cond["message"] and "REPLACED-1" in cond["message"]
    stalled = kube.condition("mraid", "lc-changed", "Stalled")
    assert stalled is None or stalled["status"] == "True"  # Stalled arrives with the kstatus conditions
    before = two_passes(maas, sid)
    assert writes_to(maas, sid, before) == [] and raids(maas, sid) == []
    kube.delete("mraid", "lc-changed")


def test_partitions_are_created_once_across_a_sigkill(
    kube: Kube, maas: MaasSim, operator: OperatorProcess
) -> None:
    sid = new_machine(maas)

    def marked(uid: str) -> dict[str, int]:
        """Partition uuid -> id, for the partitions carrying this object's markers."""
        markers = {partition_uuid(uid, i) for i in range(2)}
        with maas.state.lock:
            machine = maas.state.machines[sid]
            tables = [d.partition_table for d in machine.block_devices if d.partition_table]
            found = [(p.uuid, p.id) for t in tables for p in t.partitions if p.uuid in markers]
        assert len(found) == len(dict(found)), f"a partition was created twice: {found}"
        return dict(found)

    spec = {"devices": [], "partitions": [{"disk": "sdb", "size": "200G"}, {"disk": "sdc", "size": "200G"}]}
    maas.faults.latency_ms = 1500  # every request takes 1.5 s: time to kill between two of them
    try:
        kube.apply(raid("lc-parts", sid, **spec))
        uid = kube.get("mraid", "lc-parts")["metadata"]["uid"]
        deadline = time.monotonic() + 60
        while not marked(uid) and time.monotonic() < deadline:
            time.sleep(0.05)
        operator.kill()  # the first partition exists in MAAS, its status was never written
    finally:
        maas.faults.latency_ms = 0
    first = marked(uid)
    assert len(first) == 1 and raids(maas, sid) == []
    assert "partitions" not in kube.get("mraid", "lc-parts").get("status", {}).get("devices", [])
    operator.start()
    converged(kube, "lc-parts")
    after = marked(uid)
    assert len(after) == 2 and all(after[u] == i for u, i in first.items())  # found again, not re-made
    [array] = raids(maas, sid)
    assert sorted(m["uuid"] for m in array["devices"]) == sorted(after)
    kube.delete("mraid", "lc-parts")
    kube.wait_gone("mraid", "lc-parts")
    assert marked(uid) == {}  # deletionPolicy Delete takes Stratum's partitions with the array


def test_ready_tag_gates_allocation(kube: Kube, maas: MaasSim, sim: tuple[MaasSim, dict[str, str]]) -> None:
    sid = new_machine(maas, disks=4)
    tag = "lc-storage-ready"

    def tagged(expected: bool) -> None:
        deadline = time.monotonic() + 30
        while (tag in maas.machine(sid).tags) != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (tag in maas.machine(sid).tags) == expected

    def allocate() -> dict[str, Any]:
        return dict(api(sim, "POST", "machines/", op="allocate", tags=tag, system_id=sid))

    kube.apply(raid("lc-tag-a", sid, readyTag=tag))
    kube.apply(raid("lc-tag-b", sid, devices=["sdd", "sdq"], readyTag=tag))  # sdq: no such disk
    kube.wait_for_reason("mraid", "lc-tag-b", "DeviceNotFound")
    converged(kube, "lc-tag-a")
    time.sleep(2)
    tagged(False)  # b is not Ready
    with pytest.raises(MaasError):
        allocate()
    kube.patch("mraid", "lc-tag-b", {"spec": {"devices": ["sdd", "sde"]}})
    converged(kube, "lc-tag-b")
    tagged(True)
    allocated = allocate()
    assert allocated["system_id"] == sid and allocated["status_name"] == "Allocated"
    api(sim, "POST", f"machines/{sid}/", op="release")
    time.sleep(1.5)
    # b stops being Ready (a member it names is gone): the tag goes, allocation is refused again.
    kube.patch("mraid", "lc-tag-b", {"spec": {"devices": ["sdd", "sdq"]}})
    kube.wait_for_reason("mraid", "lc-tag-b", "DeviceNotFound")
    tagged(False)
    with pytest.raises(MaasError, match="available"):  # 409: the tag exists, the machine lacks it
        allocate()
    kube.delete("mraid", "lc-tag-a")
    kube.delete("mraid", "lc-tag-b")
    tagged(False)


def test_release_is_acted_on_within_seconds(
    kube: Kube, maas: MaasSim, sim: tuple[MaasSim, dict[str, str]]
) -> None:
    sid = new_machine(maas, status="Deployed")
    kube.apply(raid("lc-release", sid))
    cond = kube.wait_for_reason("mraid", "lc-release", "MachineNotReady")
    assert "is Deployed" in cond["message"]
    time.sleep(3)
    released = time.monotonic()
    api(sim, "POST", f"machines/{sid}/", op="release")  # Releasing for 1 s, then Ready
    kube.wait("mraid", "lc-release", timeout="30s")
    seconds = time.monotonic() - released
    print(f"release -> Ready: {seconds:.1f} s (1 s of it releasing)")
    assert seconds < 8, seconds
    kube.delete("mraid", "lc-release")


def test_a_non_administrator_key_is_forbidden(
    plane: ControlPlane, sim: tuple[MaasSim, dict[str, str]], operator: OperatorProcess, tmp_path: Path
) -> None:
    maas, kube = sim[0], plane.kube
    sid = new_machine(maas)
    operator.stop()
    user = OperatorProcess(kube.kubeconfig, tmp_path, {**sim[1], "MAAS_API_KEY": USER_KEY}).start()
    try:
        kube.apply(raid("lc-user", sid))
        cond = kube.wait_for_reason("mraid", "lc-user", "Forbidden")
        assert "an administrator's API key is needed" in cond["message"]
        assert raids(maas, sid) == []
    finally:
        user.stop()
        operator.start()
    converged(kube, "lc-user")  # an administrator's key fixes it
    kube.delete("mraid", "lc-user")
