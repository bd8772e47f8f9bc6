"""A LINSTOR controller REST API v1 simulator.

`LinstorSim` runs it inside a test; `linstor-sim` (see `__main__`) serves it from the command line.
"""

from .app import build_app
from .model import State
from .seed import SeedError, load_seed
from .server import LinstorSim

__all__ = ["LinstorSim", "SeedError", "State", "build_app", "load_seed"]
