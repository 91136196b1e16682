"""Local HealthOmics sequence-store control plane emulator (public API).

See :mod:`.core` for :class:`Emulator`, :mod:`.backend` for the behaviours chosen where
AWS does not document them, :mod:`.seed` for the seed format, ``python -m
omics_dynamic.emulator --help`` for the CLI.
"""

from .backend import Faults
from .core import Emulator
from .exceptions import SeedError
from .seed import COHORT_PATH, COHORT_STORE_ID

__all__ = ["Emulator", "Faults", "SeedError", "COHORT_PATH", "COHORT_STORE_ID"]
