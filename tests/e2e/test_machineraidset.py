"""MachineRaidSet end to end: a real `stratum run` on a control plane of its own, an https maas-sim
holding a small fleet (mixed disk sizes, models and kinds; one machine without enough SSDs; one
Deployed; one in another pool; one not tagged yet). The tests run in file order on one set:
children for exactly the matching machines, each array on the disks the selector must choose, the
short machine Stalled, the Deployed one waiting, a newly tagged machine, a rename, Retain, Delete,
a template edit and deleting the set."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from stratum.clients.maas import MaasClient, MaasConfig
from stratum.sim.maas import MaasSim
from stratum.sim.maas.render import raid_json
from support.kube import ControlPlane, Kube
from support.operator import OperatorProcess
from support.pki import Authority

MAAS = "maas.stratum.dev/v1alpha1"
KEY = "e2efleet000000000:e2efleet000000001:e2efleet0000000000000000002"
SET = "fleet"
LABEL = "stratum.dev/machineraidset"
GB = 10**9
T = TypeVar("T")


def disk(name: str, gb: int, *, ssd: bool, model: str, serial: str) -> dict[str, Any]:
    # rotary is what commissioning reads: the sim tags the disk ssd, or rotary + 7200rpm.
    return {"name": name, "size": gb * GB, "rotary": not ssd, "model": model, "serial": serial}


def machine(sid: str, status: str, disks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    boot = {"name": "sda", "size": 480 * GB, "bootDisk": True, "serial": f"{sid}-BOOT", "rotary": False}
    return {
        "systemId": sid,
        "hostname": f"host-{sid}",
        "status": status,
        "blockDevices": [boot, *disks],
        **extra,
    }


# The selector wants two SSDs of 900 GB to 2 TB; the smallest that fit win, then by name.
FLEET = [
    machine(  # two 960 GB SSDs are the smallest fitting: sdc, sdd (not the 2 TB sdb, not the HDD)
        "fa0001",
        "Ready",
        [
            disk("sdb", 2000, ssd=True, model="PM883-2T", serial="FA1-B"),
            disk("sdc", 960, ssd=True, model="SM883-960", serial="FA1-C"),
            disk("sdd", 960, ssd=True, model="SM883-960", serial="FA1-D"),
            disk("sde", 1000, ssd=False, model="ST1000", serial="FA1-E"),
        ],
        tags=["storage"],
    ),
    machine(  # 3.84 TB is too large, 800 GB too small: the two 1.92 TB ones
        "fa0002",
        "Ready",
        [
            disk("sdb", 3840, ssd=True, model="PM9A3-3T8", serial="FA2-B"),
            disk("sdc", 1920, ssd=True, model="PM9A3-1T9", serial="FA2-C"),
            disk("sdd", 800, ssd=True, model="S4510-800", serial="FA2-D"),
            disk("sde", 1920, ssd=True, model="PM9A3-1T9", serial="FA2-E"),
        ],
        tags=["storage"],
    ),
    machine(  # one SSD only: its child stalls
        "fa0003",
        "Ready",
        [
            disk("sdb", 1000, ssd=True, model="SM883-960", serial="FA3-B"),
            disk("sdc", 1000, ssd=False, model="ST1000", serial="FA3-C"),
        ],
        tags=["storage"],
    ),
    machine(  # Deployed: its child waits
        "fa0004",
        "Deployed",
        [
            disk("sdb", 1000, ssd=True, model="SM883-960", serial="FA4-B"),
            disk("sdc", 1000, ssd=True, model="SM883-960", serial="FA4-C"),
        ],
        tags=["storage"],
    ),
    machine(  # tagged later
        "fa0005",
        "Ready",
        [
            disk("sdb", 1000, ssd=True, model="SM883-960", serial="FA5-B"),
            disk("sdc", 1000, ssd=True, model="SM883-960", serial="FA5-C"),
        ],
    ),
    machine(  # tagged, but in another pool: all criteria must match
        "fa0006",
        "Ready",
        [
            disk("sdb", 1000, ssd=True, model="SM883-960", serial="FA6-B"),
            disk("sdc", 1000, ssd=True, model="SM883-960", serial="FA6-C"),
        ],
        tags=["storage"],
        pool="lab",
    ),
]

TEMPLATE = {
    "level": "raid-1",
    "deviceSelector": {"count": 2, "minSize": "900G", "maxSize": "2T", "tags": ["ssd"]},
    "filesystem": {"fstype": "ext4", "mountPoint": "/data"},
    "readyTag": "storage-ready",
}


def the_set(**spec: Any) -> dict[str, Any]:
    base = {"machineSelector": {"tags": ["storage"], "pool": "default"}, "template": TEMPLATE}
    return {"apiVersion": MAAS, "kind": "MachineRaidSet", "metadata": {"name": SET}, "spec": {**base, **spec}}


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    control = ControlPlane.start(Path(tmp_path_factory.mktemp("mraidset-plane")))
    try:
        control.install_crds()
        yield control
    finally:
        control.stop()


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MaasSim, dict[str, str], Authority]]:
    ca = Authority(Path(tmp_path_factory.mktemp("mraidset-ca")))
    issued = ca.issue("maas", server=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(issued.cert), str(issued.key))
    seed = {"apiKeys": [KEY], "pools": ["lab"], "machines": FLEET}
    with MaasSim(seed, ssl_ctx=context) as server:
        yield (
            server,
            {"MAAS_API_URL": server.maas_url, "MAAS_API_KEY": KEY, "MAAS_CA_CERT": str(ca.cert)},
            ca,
        )


@pytest.fixture(scope="module")
def operator(
    plane: ControlPlane,
    sim: tuple[MaasSim, dict[str, str], Authority],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    proc = OperatorProcess(plane.kube.kubeconfig, Path(tmp_path_factory.mktemp("mraidset-op")), sim[1])
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def kube(plane: ControlPlane, operator: OperatorProcess) -> Kube:
    return plane.kube


@pytest.fixture
def maas(sim: tuple[MaasSim, dict[str, str], Authority]) -> MaasSim:
    return sim[0]


def api(sim: tuple[MaasSim, dict[str, str], Authority], method: str, path: str, **form: str) -> Any:
    """A call to the region's real API (https, trusting the private CA)."""
    op = form.pop("op", None)

    async def call() -> Any:
        async with MaasClient(MaasConfig.from_env(sim[1])) as client:
            fields = list(form.items())
            if method == "GET":
                return await client.request(method, path, op=op, query=fields)
            return await client.request(method, path, op=op, form=fields)

    return asyncio.run(call())


def sim_call(sim: tuple[MaasSim, dict[str, str], Authority], method: str, path: str, body: Any = None) -> Any:
    """A `/_sim/` control endpoint, over the same https."""
    with httpx.Client(
        base_url=sim[0].url, verify=ssl.create_default_context(cafile=str(sim[2].cert))
    ) as http:
        response = http.request(method, f"/_sim/{path}", json=body)
        response.raise_for_status()
        return response.json()


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 60) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def children(kube: Kube) -> dict[str, dict[str, Any]]:
    items = json.loads(kube.run("get", "mraid", "-l", f"{LABEL}={SET}", "-o", "json").stdout)["items"]
    return {i["spec"]["machine"]["systemId"]: i for i in items}


def arrays(maas: MaasSim, sid: str) -> list[dict[str, Any]]:
    found = maas.machine(sid)
    with maas.state.lock:
        return [raid_json(found, r) for r in found.storage.raids.values()]


def serials(array: dict[str, Any]) -> list[str]:
    return sorted(m["serial"] for m in array["devices"])


def ready_reason(obj: dict[str, Any], type_: str = "Ready") -> tuple[str, str, str]:
    cond = next(c for c in obj.get("status", {}).get("conditions", []) if c["type"] == type_)
    return cond["status"], cond["reason"], cond["message"]


def set_status(kube: Kube) -> dict[str, Any]:
    status: dict[str, Any] = kube.get("mraidset", SET).get("status", {})
    return status


def counts(kube: Kube) -> tuple[int, int, int, int]:
    s = set_status(kube)
    return s.get("matched", -1), s.get("ready", -1), s.get("stalled", -1), s.get("waiting", -1)


def writes(stats: dict[str, int], before: dict[str, int]) -> list[str]:
    return [
        k
        for k, n in stats.items()
        if n != before.get(k, 0) and k.split(" ", 1)[0] in ("POST", "PUT", "DELETE") and "/_sim/" not in k
    ]


def requests(sim: tuple[MaasSim, dict[str, str], Authority]) -> dict[str, int]:
    answer = sim_call(sim, "GET", "stats")
    return dict(answer["byPath"])


def test_children_for_exactly_the_matching_machines_on_the_chosen_disks(
    kube: Kube, maas: MaasSim, sim: tuple[MaasSim, dict[str, str], Authority]
) -> None:
    kube.apply(the_set())
    wait_for("a child per matching machine", lambda: children(kube) if len(children(kube)) == 4 else None)
    found = children(kube)
    assert sorted(found) == ["fa0001", "fa0002", "fa0003", "fa0004"]  # not fa0005 (untagged), fa0006 (pool)
    for sid, child in found.items():
        meta = child["metadata"]
        assert meta["name"] == f"{SET}-{sid}"
        [owner] = meta["ownerReferences"]
        assert (owner["kind"], owner["name"], owner["controller"], owner["blockOwnerDeletion"]) == (
            "MachineRaidSet",
            SET,
            True,
            True,
        )
        assert child["spec"]["deviceSelector"] == TEMPLATE["deviceSelector"]
    kube.wait("mraid", f"{SET}-fa0001")
    kube.wait("mraid", f"{SET}-fa0002")
    [one] = arrays(maas, "fa0001")
    assert serials(one) == ["FA1-C", "FA1-D"]  # the two 960 GB SSDs
    [two] = arrays(maas, "fa0002")
    assert serials(two) == ["FA2-C", "FA2-E"]  # the 1.92 TB SSDs
    assert one["virtual_device"]["filesystem"]["mount_point"] == "/data"
    pinned = kube.get("mraid", f"{SET}-fa0001")["status"]["devices"]
    assert [(d["ref"], d["serial"]) for d in pinned] == [
        ("deviceSelector[0]", "FA1-C"),
        ("deviceSelector[1]", "FA1-D"),
    ]

    short = kube.wait_for_reason("mraid", f"{SET}-fa0003", "NotEnoughDevices")
    assert "has 1 (sdb (1.0 TB, ssd))" in short["message"], short["message"]
    assert "sdc (1.0 TB, rotary, 7200rpm: lacks tag ssd)" in short["message"], short["message"]
    assert ready_reason(kube.get("mraid", f"{SET}-fa0003"), "Stalled")[0] == "True"
    kube.wait_for_reason("mraid", f"{SET}-fa0004", "MachineNotReady")
    assert arrays(maas, "fa0003") == [] and arrays(maas, "fa0004") == []

    wait_for("the set's counts", lambda: True if counts(kube) == (4, 2, 1, 1) else None)
    obj = kube.get("mraidset", SET)
    assert ready_reason(obj)[:2] == ("False", "MachinesWaiting")
    degraded = ready_reason(obj, "Degraded")
    assert (
        degraded[:2] == ("True", "MachinesStalled")
        and "host-fa0003 (fa0003): NotEnoughDevices" in degraded[2]
    )
    assert ready_reason(obj, "Stalled")[0] == "False"  # one stuck machine does not stall the fleet
    lines = {ln["systemId"]: ln for ln in obj["status"]["notReady"]}
    assert sorted(lines) == ["fa0003", "fa0004"]
    assert (lines["fa0003"]["reason"], lines["fa0003"]["stalled"]) == ("NotEnoughDevices", True)
    assert (lines["fa0004"]["reason"], lines["fa0004"]["stalled"]) == ("MachineNotReady", False)
    assert lines["fa0004"]["machineRaid"] == f"{SET}-fa0004"
    columns = kube.run("get", "mraidset", SET).stdout.split("\n")
    assert columns[0].split()[:6] == ["NAME", "READY", "REASON", "MATCHED", "READYRAIDS", "STALLED"]
    assert columns[1].split()[:7] == [SET, "False", "MachinesWaiting", "4", "2", "1", "1"]
    # The readyTag: allocation can ask for machines whose storage is done.
    tagged = api(sim, "GET", "machines/", tags="storage-ready")
    assert sorted(m["system_id"] for m in tagged) == ["fa0001", "fa0002"]


def test_one_machine_list_per_pass(sim: tuple[MaasSim, dict[str, str], Authority], kube: Kube) -> None:
    before = requests(sim)
    time.sleep(11)
    after = requests(sim)
    lists = after.get("GET /MAAS/api/2.0/machines/", 0) - before.get("GET /MAAS/api/2.0/machines/", 0)
    # One set, a pass every 5 s (timer, or the retry of a set still waiting): two or three lists.
    assert 1 <= lists <= 4, lists
    print(f"\nset passes: {lists} machine list calls in 11 s")


def test_tagging_a_new_machine_adds_a_child_within_seconds(
    kube: Kube, maas: MaasSim, sim: tuple[MaasSim, dict[str, str], Authority]
) -> None:
    started = time.monotonic()
    api(sim, "POST", "tags/storage/", op="update_nodes", add="fa0005")
    wait_for("fa0005's child", lambda: children(kube).get("fa0005"), timeout=30)
    created = time.monotonic() - started
    kube.wait("mraid", f"{SET}-fa0005")
    ready = time.monotonic() - started
    print(f"\ntagging to child created: {created:.1f} s; to child Ready: {ready:.1f} s")
    assert created < 12
    [array] = arrays(maas, "fa0005")
    assert serials(array) == ["FA5-B", "FA5-C"]
    wait_for("the set's counts", lambda: True if counts(kube) == (5, 3, 1, 1) else None, timeout=30)


def test_a_rescan_that_renames_disks_changes_nothing(
    kube: Kube, maas: MaasSim, sim: tuple[MaasSim, dict[str, str], Authority]
) -> None:
    # The kernel swaps a member (sdc) and the unused 2 TB SSD (sdb): by name the smallest are now
    # sdb and sdd, but the array stays pinned to its serials.
    sim_call(sim, "POST", "machines/fa0001/rename-disks", {"sdb": "sdc", "sdc": "sdb"})
    before = requests(sim)
    reads = "GET /MAAS/api/2.0/nodes/fa0001/raids/"
    wait_for(
        "two passes over fa0001",
        lambda: True if requests(sim).get(reads, 0) - before.get(reads, 0) >= 2 else None,
    )
    assert writes(requests(sim), before) == []
    [array] = arrays(maas, "fa0001")
    assert serials(array) == ["FA1-C", "FA1-D"]
    status = kube.get("mraid", f"{SET}-fa0001")["status"]
    assert [(d["ref"], d["name"], d["serial"]) for d in status["devices"]] == [
        ("deviceSelector[0]", "sdb", "FA1-C"),
        ("deviceSelector[1]", "sdd", "FA1-D"),
    ]


def test_untagging_with_retain_keeps_the_array(
    kube: Kube, maas: MaasSim, sim: tuple[MaasSim, dict[str, str], Authority]
) -> None:
    api(sim, "POST", "tags/storage/", op="update_nodes", remove="fa0001")
    wait_for("fa0001 released", lambda: True if "fa0001" not in children(kube) else None, timeout=30)
    kept = kube.get("mraid", f"{SET}-fa0001")
    meta = kept["metadata"]
    assert "ownerReferences" not in meta and LABEL not in meta.get("labels", {})
    assert meta["annotations"]["stratum.dev/released-from-machineraidset"] == SET
    kube.wait("mraid", f"{SET}-fa0001")
    [array] = arrays(maas, "fa0001")
    assert serials(array) == ["FA1-C", "FA1-D"]
    wait_for("the set's counts", lambda: True if counts(kube) == (4, 2, 1, 1) else None, timeout=30)


def test_template_edits_flow_to_the_children(kube: Kube, maas: MaasSim) -> None:
    kube.patch("mraidset", SET, {"spec": {"template": {"filesystem": {"mountOptions": "noatime"}}}})

    def patched() -> bool | None:
        found = children(kube)
        options = {sid: c["spec"]["filesystem"].get("mountOptions") for sid, c in found.items()}
        return True if set(options.values()) == {"noatime"} else None

    wait_for("children patched", patched, timeout=30)
    kube.wait("mraid", f"{SET}-fa0002", "jsonpath={.status.filesystem.mountOptions}=noatime")
    [array] = arrays(maas, "fa0002")
    assert array["virtual_device"]["filesystem"]["mount_options"] == "noatime"
    refused = kube.patch("mraidset", SET, {"spec": {"template": {"level": "raid-5"}}}, check=False)
    assert refused.returncode != 0 and "level is immutable" in refused.stderr


def test_untagging_with_delete_deletes_the_child_and_its_array(
    kube: Kube, maas: MaasSim, sim: tuple[MaasSim, dict[str, str], Authority]
) -> None:
    kube.patch("mraidset", SET, {"spec": {"whenUnmatched": "Delete"}})
    api(sim, "POST", "tags/storage/", op="update_nodes", remove="fa0002")
    kube.wait_gone("mraid", f"{SET}-fa0002", timeout="60s")
    assert arrays(maas, "fa0002") == []


def test_deleting_the_set_deletes_its_children(
    kube: Kube, maas: MaasSim, sim: tuple[MaasSim, dict[str, str], Authority]
) -> None:
    kube.delete("mraidset", SET, timeout="90s")
    assert not kube.exists("mraidset", SET)
    assert children(kube) == {}
    for sid in ("fa0003", "fa0004", "fa0005"):
        assert not kube.exists("mraid", f"{SET}-{sid}")
    assert arrays(maas, "fa0005") == []
    # The released child is not the set's any more: it and its array stay.
    assert kube.exists("mraid", f"{SET}-fa0001")
    assert len(arrays(maas, "fa0001")) == 1


def test_observe_lists_the_children_it_would_make_and_makes_none(kube: Kube) -> None:
    kube.apply(the_set(managementPolicy="Observe"))
    kube.wait_for_reason("mraidset", SET, "DiffersFromSpec")
    differences = set_status(kube)["differences"]
    # fa0003, fa0004, fa0005 are still tagged: one create each, recorded and not sent.
    created = [
        d
        for d in differences
        if d.startswith("POST /apis/maas.stratum.dev/v1alpha1/machineraids: metadata.name")
    ]
    assert sorted(created) == [
        f"POST /apis/maas.stratum.dev/v1alpha1/machineraids: metadata.name → {SET}-{sid}"
        for sid in ("fa0003", "fa0004", "fa0005")
    ]
    assert children(kube) == {}
    kube.delete("mraidset", SET)
    assert kube.exists("mraid", f"{SET}-fa0001")
    kube.delete("mraid", f"{SET}-fa0001")
