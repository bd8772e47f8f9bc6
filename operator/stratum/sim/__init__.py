"""Simulators of the LINSTOR controller and the MAAS region API.

Shipped to users for their own tests. Nothing here imports the operator.
"""
