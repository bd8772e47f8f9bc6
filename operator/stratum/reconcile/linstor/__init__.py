"""LINSTOR kinds: ResourceGroup, Resource, Snapshot."""
