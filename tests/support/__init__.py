"""Test support: the real control plane and kubectl."""
