"""The public API: pydantic models of every custom resource, the single source of the CRDs."""
