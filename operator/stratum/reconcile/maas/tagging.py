"""Applying the readyTag plan (readytag.py) to MAAS: only what differs is written, so a
converged machine costs no request beyond the machine read the pass made anyway."""

from __future__ import annotations

from stratum.clients.maas import MaasClient
from stratum.clients.maas.models import Machine
from stratum.reconcile.maas.readytag import plan_ready_tag

TAG_COMMENT = "managed by Stratum: on the machine while its MachineRaids naming it are Ready"


async def apply_ready_tag(
    client: MaasClient, machine: Machine, tag: str | None, *, want: bool, recorded: str | None
) -> list[str]:
    """The actions taken (one sentence each)."""
    tag_exists = None
    if tag is not None and want and tag not in machine.tag_names:
        tag_exists = await client.get_tag(tag) is not None
    plan = plan_ready_tag(
        tag, want=want, machine_tags=machine.tag_names, tag_exists=tag_exists, recorded=recorded
    )
    actions: list[str] = []
    sid, where = machine.system_id, machine.describe()
    if plan.remove_old is not None:
        await client.update_tag_nodes(plan.remove_old, remove=[sid])
        actions.append(f"removed tag {plan.remove_old} from {where} (spec.readyTag changed)")
    if tag is None:
        return actions
    if plan.create:
        await client.create_tag(tag, comment=TAG_COMMENT)
        actions.append(f"created MAAS tag {tag}")
    if plan.add:
        await client.update_tag_nodes(tag, add=[sid])
        actions.append(f"tagged {where} {tag} (its arrays are Ready)")
    if plan.remove:
        await client.update_tag_nodes(tag, remove=[sid])
        actions.append(f"removed tag {tag} from {where} (an array naming it is not Ready)")
    return actions
