"""Large synthetic stores, made fast: ``Emulator.create_store(generate={status: count})``.

A million read sets are made in seconds because nothing is validated per entry (the
counts and statuses are checked once) and the read sets share what they can:

* IDs: consecutive 10-digit numbers from a free range the backend reserves (so later
  random IDs never collide with them);
* creation times: one emulated second apart, the last one second before now, in ID
  order (so creation order and ID order agree);
* statuses: the counts, spread over the store by a shuffle seeded with the store ID
  (the same store ID and counts give the same layout);
* no name, sample or subject ID (all optional in the model), ``fileType`` FASTQ,
  ``creationType`` IMPORT, and one shared ``sequenceInformation``
  (:data:`SEQUENCE_INFORMATION`: a 30x human genome, 2 x 150 bp) so listings carry a
  base count, as the shipped cohort's do.
"""

from __future__ import annotations

import random
from typing import Dict, List, Mapping, Tuple

__all__ = ["SEQUENCE_INFORMATION", "check_counts", "status_layout"]

#: The sequenceInformation every generated read set shares (read only).
SEQUENCE_INFORMATION: Dict[str, object] = {
    "totalReadCount": 600_000_000, "totalBaseCount": 90_000_000_000,
    "generatedFrom": "synthetic", "alignment": "UNALIGNED",
}


def check_counts(generate: Mapping[str, int], statuses: Tuple[str, ...]) -> Dict[str, int]:
    """Validate ``{status: count}``.

    :raises ValueError: naming an unknown status (with the valid ones) or a count that
        is not an integer >= 0.
    """
    if not isinstance(generate, Mapping):
        raise ValueError(f"generate must be a dict {{status: count}}, e.g. {{'ARCHIVED': 1000, 'ACTIVE': 999000}}; got {generate!r}")
    out = {}
    for status, count in generate.items():
        if status not in statuses:
            raise ValueError(f"generate: {status!r} is not a read set status; use one of {', '.join(statuses)}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"generate[{status!r}] must be an integer >= 0, got {count!r}")
        out[status] = count
    return out


def status_layout(counts: Mapping[str, int], store_id: str) -> List[str]:
    """The status of each generated read set, in ID order: the counts shuffled by a
    random source seeded with ``store_id``."""
    layout = [status for status, count in counts.items() for _ in range(count)]
    random.Random(store_id).shuffle(layout)
    return layout
