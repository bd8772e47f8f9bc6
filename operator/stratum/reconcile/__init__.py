"""Pure convergence logic per kind: desired spec + observed backend state -> plan."""
