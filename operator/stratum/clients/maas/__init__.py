"""Async client for the MAAS region API 2.0 (machines, block devices, RAIDs)."""

from stratum.clients.maas.client import MaasClient, encode_form, encode_multipart
from stratum.clients.maas.config import NOT_CONFIGURED, ApiKey, MaasConfig, MaasConfigError, api_root
from stratum.clients.maas.errors import (
    MaasError,
    MaasForbidden,
    MaasNotFound,
    MaasStateConflict,
    MaasUnauthorized,
    MaasValidationError,
)

__all__ = [
    "NOT_CONFIGURED",
    "ApiKey",
    "MaasClient",
    "MaasConfig",
    "MaasConfigError",
    "MaasError",
    "MaasForbidden",
    "MaasNotFound",
    "MaasStateConflict",
    "MaasUnauthorized",
    "MaasValidationError",
    "api_root",
    "encode_form",
    "encode_multipart",
]
