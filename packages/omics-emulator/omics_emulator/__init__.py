"""Local HealthOmics sequence-store control plane emulator (public API).

See :mod:`.core` for :class:`Emulator`, :mod:`.admin` for its admin API, :mod:`.profiles` for the
behaviours chosen where AWS does not document them (named profiles), :mod:`.faults`
for injected faults, :mod:`.backend` for the rules, :mod:`.seed` for the seed format, ``python -m
omics_emulator --help`` for the CLI.
"""

from .core import Emulator
from .exceptions import SeedError
from .faults import Faults
from .profiles import PROFILES, Behaviour
from .seed import COHORT_PATH, COHORT_STORE_ID

__all__ = ["Emulator", "Faults", "Behaviour", "PROFILES", "SeedError", "COHORT_PATH", "COHORT_STORE_ID"]
