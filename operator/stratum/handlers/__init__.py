"""Thin kopf registrations: conditions, finalizers, events around the reconcilers."""
