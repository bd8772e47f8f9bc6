"""Stratum: a Kubernetes operator for LINSTOR storage and MAAS software RAID."""

__version__ = "0.1.0"
