"""Async client for the LINSTOR controller REST API v1."""

from stratum.clients.linstor.apicallrc import ApiCallRc, LinstorError
from stratum.clients.linstor.client import LinstorClient
from stratum.clients.linstor.config import LinstorConfig

__all__ = ["ApiCallRc", "LinstorClient", "LinstorConfig", "LinstorError"]
