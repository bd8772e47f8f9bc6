"""Return codes and property keys of remotes, backups and schedules.

Values from linstor-common consts.json; property keys from linstor-server
server/.../InternalApiConsts.java and ApiConsts (namespace `BackupShipping`).
"""

from __future__ import annotations

MASK_SCHEDULE = 0x540000
MASK_BACKUP = 0x080000
MASK_REMOTE = 0x040000

FAIL_INVLD_CRYPT_PASSPHRASE = 216
FAIL_INVLD_CONF = 230
FAIL_INVLD_BACKUP_CONFIG = 238
FAIL_INVLD_REMOTE_NAME = 239
FAIL_INVLD_TIME_PARAM = 240
FAIL_INVLD_SCHEDULE_NAME = 241
FAIL_NOT_FOUND_CRYPT_KEY = 312
FAIL_NOT_FOUND_REMOTE = 321
FAIL_NOT_FOUND_BACKUP = 322
FAIL_NOT_FOUND_SCHEDULE = 323
FAIL_EXISTS_CRYPT_PASSPHRASE = 512
FAIL_EXISTS_SNAPSHOT = 516
FAIL_EXISTS_REMOTE = 527
FAIL_EXISTS_SCHEDULE = 528
FAIL_DEPENDEND_BACKUP = 977
WARN_BACKUP_DL_ONLY = 1019

NAMESPC = "BackupShipping"
TARGET_NAMESPC = NAMESPC + "/Target"
KEY_SHIPPING_STATUS = "ShippingStatus"
KEY_START_TIMESTAMP = "BackupStartTimestamp"
KEY_TARGET_REMOTE = "BackupTargetRemote"
KEY_SRC_REMOTE = "BackupSrcRemote"
KEY_LAST_FULL = "LastFullBackupTimestamp"
KEY_LAST_STARTED_OR_QUEUED = "BackupLastStartedOrQueued"
KEY_LAST_SNAPSHOT = "BackupLastSnapshot"
KEY_TO_RESTORE = "BackupToRestore"
KEY_S3_SUFFIX = "S3KeySuffix"

SHIPPING = "Shipping"
SUCCESS = "Success"
FAILED = "Failed"
ABORTING = "Aborting"


def source_namespc(remote: str) -> str:
    """`BackupShipping/Source/<remote>`: where a shipped snapshot keeps its state for that remote."""
    return f"{NAMESPC}/Source/{remote}"
