"""MAAS kinds: MachineRaid."""
