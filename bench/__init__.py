"""Scale and fault benchmark of the Stratum operator (`make bench`, see bench/README.md)."""
