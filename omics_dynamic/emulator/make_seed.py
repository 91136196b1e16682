"""Generate the shipped cohort seed ``data/cohort.json`` deterministically.

``python -m omics_dynamic.emulator.make_seed [OUT]`` writes one sequence store (ID
``1234567890``) holding about 1,000 read sets of a sequencing cohort: ~300 subjects,
~360 samples (some subjects sequenced twice: tumour/normal), per sample paired FASTQ
(R1, R2) and often an aligned BAM or CRAM; creation times spread over two years before
2025-06-30; statuses mostly ARCHIVED, some ACTIVE and ACTIVATING, a few DELETED and
UPLOAD_FAILED. Same output every run (``random.Random(20240601)``).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from pathlib import Path
from typing import Any, Dict, List

from .seed import COHORT_PATH, COHORT_STORE_ID

END = dt.datetime(2025, 6, 30, tzinfo=dt.timezone.utc)
SPAN_S = 2 * 365 * 86400


def build(seed: int = 20240601) -> Dict[str, Any]:
    """Return the cohort seed as a dict (seed format of :mod:`.seed`)."""
    rng = random.Random(seed)
    read_sets: List[Dict[str, Any]] = []
    used = set()

    def new_id() -> str:
        while True:
            rid = str(rng.randrange(10**9, 10**10))
            if rid not in used:
                used.add(rid)
                return rid

    sample_no = 0
    subject_no = 0
    while len(read_sets) < 1000:
        subject_no += 1
        subject = f"PT-{subject_no:05d}"
        kinds = ["N", "T"] if rng.random() < 0.2 else ["N"]
        for kind in kinds:
            sample_no += 1
            sample = f"S{sample_no:05d}-{kind}"
            created = END - dt.timedelta(seconds=rng.randrange(SPAN_S))
            lane = f"L{rng.randint(1, 4):03d}"
            files = [("FASTQ", f"{sample}_{lane}_R1"), ("FASTQ", f"{sample}_{lane}_R2")]
            r = rng.random()
            if r < 0.5:
                files.append(("BAM", f"{sample}.GRCh38.bam"))
            elif r < 0.8:
                files.append(("CRAM", f"{sample}.GRCh38.cram"))
            for i, (file_type, name) in enumerate(files):
                p = rng.random()
                status = ("ARCHIVED" if p < 0.80 else "ACTIVE" if p < 0.92 else "ACTIVATING" if p < 0.96
                          else "DELETED" if p < 0.98 else "UPLOAD_FAILED")
                read_sets.append({
                    "id": new_id(),
                    "name": name,
                    "sampleId": sample,
                    "subjectId": subject,
                    "fileType": file_type,
                    "status": status,
                    "creationTime": (created + dt.timedelta(hours=6 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                })
    return {
        "sequenceStores": [{
            "id": COHORT_STORE_ID,
            "name": "wgs-cohort-2023-2025",
            "description": "Whole-genome sequencing cohort (synthetic, for the emulator)",
            "creationTime": (END - dt.timedelta(seconds=SPAN_S + 86400)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "readSets": read_sets,
        }]
    }


def main(argv: List[str]) -> int:
    out = Path(argv[0]) if argv else COHORT_PATH
    out.write_text(json.dumps(build(), indent=1) + "\n", encoding="utf-8")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
