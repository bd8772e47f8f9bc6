"""Typed async clients for the LINSTOR controller and the MAAS region API."""
