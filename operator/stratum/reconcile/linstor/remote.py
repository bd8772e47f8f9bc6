"""Remote: a LINSTOR S3 remote whose keys come from a Secret. The keys go to LINSTOR only; status
records the Secret's resourceVersion, so a changed Secret is handed to LINSTOR again."""

from __future__ import annotations

from dataclasses import dataclass

from stratum.api.linstor import GROUP
from stratum.api.linstor_backup import RemoteSpec, RemoteStatus
from stratum.clients.kubeobjects import Objects
from stratum.clients.linstor import LinstorClient, LinstorError
from stratum.clients.linstor import backups as api
from stratum.reconcile import reasons
from stratum.reconcile.outcome import Outcome, Wait

WHAT = "LINSTOR remote"
API_VERSION = f"{GROUP}/v1alpha1"
REMOTES = "remotes"
KEYS = ("accessKey", "secretKey")


def linstor_name(name: str, spec: RemoteSpec) -> str:
    return spec.linstor_name or name


@dataclass(frozen=True)
class Recorded:
    """What status says this object did before."""

    linstor_name: str | None
    credentials_version: str | None


@dataclass(frozen=True)
class Keys:
    access_key: str
    secret_key: str
    version: str

    def __repr__(self) -> str:  # never the keys themselves, even in a traceback
        return f"Keys(version={self.version!r})"


async def read_keys(objects: Objects, spec: RemoteSpec) -> Keys | Outcome:
    ref = spec.credentials_secret_ref
    found = await objects.read_secret(ref.namespace, ref.name)
    if found is None:
        return Outcome.waiting(
            reasons.SECRET_MISSING, f"Secret {ref.namespace}/{ref.name} does not exist", retry=Wait.SLOW
        )
    data, version = found
    missing = [k for k in KEYS if not data.get(k)]
    if missing:
        return Outcome.waiting(
            reasons.SECRET_MISSING,
            f"Secret {ref.namespace}/{ref.name} has no {' or '.join(missing)}",
            retry=Wait.SLOW,
        )
    return Keys(data["accessKey"], data["secretKey"], version)


async def reconcile(
    client: LinstorClient, objects: Objects, name: str, spec: RemoteSpec, recorded: Recorded
) -> Outcome:
    remote = linstor_name(name, spec)
    keys = await read_keys(objects, spec)
    if isinstance(keys, Outcome):
        return keys
    s3 = spec.s3
    status = RemoteStatus(
        linstor_name=remote, endpoint=s3.endpoint, bucket=s3.bucket, credentials_version=keys.version
    )
    found = next(
        (r for r in await api.list_s3_remotes(client) if r.remote_name.casefold() == remote.casefold()), None
    )
    actions: list[str] = []
    try:
        if found is None:
            if (recorded.linstor_name or "").casefold() != remote.casefold():
                # LINSTOR keeps no owner mark on a remote: status says it is ours before it exists,
                # so a crash right after the create cannot turn it into someone else's.
                await objects.patch_status(API_VERSION, REMOTES, name, {"linstorName": remote})
            await api.create_s3_remote(
                client,
                remote,
                endpoint=s3.endpoint,
                bucket=s3.bucket,
                region=s3.region,
                access_key=keys.access_key,
                secret_key=keys.secret_key,
                use_path_style=s3.use_path_style,
            )
            actions.append(f"created {WHAT} {remote} ({s3.endpoint}, bucket {s3.bucket})")
        else:
            ours = (recorded.linstor_name or "").casefold() == remote.casefold()
            if not ours and not spec.adopt:
                return Outcome.waiting(
                    reasons.NAME_CONFLICT,
                    f"{WHAT} '{remote}' already exists and was not created by this object; nothing was "
                    "changed. Set spec.adopt: true to manage it, or choose another name",
                    retry=Wait.SLOW,
                )
            changed = (found.endpoint, found.bucket, found.region) != (s3.endpoint, s3.bucket, s3.region)
            if changed or not ours or recorded.credentials_version != keys.version:
                await api.modify_s3_remote(
                    client,
                    remote,
                    endpoint=s3.endpoint,
                    bucket=s3.bucket,
                    region=s3.region,
                    access_key=keys.access_key,
                    secret_key=keys.secret_key,
                )
                actions.append(f"updated {WHAT} {remote} (settings or credentials changed)")
    except LinstorError as exc:
        # LINSTOR lists the bucket before it accepts a remote; its answer never repeats the keys.
        return Outcome.waiting(
            reasons.REMOTE_REFUSED,
            f"LINSTOR refused {WHAT} {remote}: {exc.message}",
            RemoteStatus(linstor_name=remote if found is not None else None),
            retry=Wait.SLOW,
        )
    return Outcome.done(f"{WHAT} {remote} accepts {s3.endpoint}, bucket {s3.bucket}", status, actions)


async def finalize(
    client: LinstorClient, name: str, spec: RemoteSpec, recorded: Recorded, backups: list[str]
) -> Outcome:
    """`backups`: Backup objects that still need this remote to delete what they shipped."""
    remote = linstor_name(name, spec)
    if backups:
        return Outcome.waiting(
            reasons.HAS_BACKUPS,
            f"Backup objects {', '.join(backups[:10])} delete their backups through {WHAT} {remote}; "
            "it is deleted once they are gone (or set their deletionPolicy to Retain)",
            retry=Wait.DELETION,
        )
    if (recorded.linstor_name or "").casefold() != remote.casefold():
        return Outcome.done(f"{WHAT} {remote} was not created by this object; left in place", None, [])
    if spec.deletion_policy == "Retain":
        return Outcome.done(f"{WHAT} {remote} retained", None, [f"kept {WHAT} {remote} (Retain)"])
    await api.delete_remote(client, remote)
    return Outcome.done(f"{WHAT} {remote} deleted", None, [f"deleted {WHAT} {remote}"])
