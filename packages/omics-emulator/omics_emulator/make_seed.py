"""Generate the shipped cohort seed ``data/cohort.json`` and its sample sheet deterministically.

``python -m omics_emulator.make_seed [OUT [SHEET]]`` writes one sequence store (ID
``1234567890``) holding 1,000 read sets of a sequencing cohort: 296 subjects, 359
samples (about one subject in five also has a tumour sample besides the normal one), and
the sample sheet ``data/cohort_samples.csv`` the example stack selects its read sets with
(:func:`build_sample_sheet`: the tumour-normal pairs whose read sets can all be activated).

Per sample: two paired-FASTQ read sets (two lanes of one flow cell; each read set has
``source1`` = R1 and ``source2`` = R2) and, for 80% of samples, an aligned BAM (50%) or
CRAM (30%) with its index. IDs, in the TCGA style: subject ``CHRT-0017``, samples
``CHRT-0017-10A`` (blood-derived normal) and ``CHRT-0017-01A`` (primary tumour).
Read set names follow the files: ``CHRT-0017-10A_S21_L002`` (bcl2fastq's
``<sample>_S<n>_L<lane>``), ``CHRT-0017-10A.GRCh38.cram``.

Realistic metadata (what GetReadSetMetadata and ListReadSets answer):

* ``sequenceInformation``: 2 x 150 bp reads; whole genomes (70% of samples, 85-120
  gigabases per sample) or exomes (6-14 gigabases), split over the two lanes;
  ``totalReadCount`` counts each mate; BAM/CRAM hold all of the sample's reads.
  ``alignment`` is ``UNALIGNED`` for FASTQ (the AWS CLI example
  ``get-read-set-metadata.rst`` shows that value) and ``ALIGNED`` for BAM/CRAM (our
  guess: the model types it as a plain string). ``generatedFrom``: the instrument,
  ``Illumina NovaSeq 6000`` before 2024-07-01, ``Illumina NovaSeq X Plus`` after.
* ``referenceArn`` for BAM/CRAM: GRCh38 (85%) or GRCh37 in one reference store.
* ``creationType``: ``IMPORT`` (S3 import jobs), ``UPLOAD`` for 30% of FASTQ read sets
  and for every UPLOAD_FAILED one.
* ``files``: ``source1`` (+ ``source2`` for paired FASTQ, ``index`` for BAM/CRAM) with
  ``contentLength`` (gzip FASTQ ~0.66 byte per base, BAM ~0.65, CRAM ~0.24), parts of
  100 MiB (``partSize`` 104857600 as in the CLI example) and ``s3Access.s3Uri`` on the
  store's access point alias (``s3://<account>-<store id[:7]>-<hash>-s3alias/<account>/
  sequenceStore/<store>/readSet/<id>/<file name>``, the form the developer guide's S3
  access page shows).
* UPLOAD_FAILED read sets have neither ``sequenceInformation`` nor ``files`` (the
  upload never completed; both members are optional in the model).

Creation times spread over two years before 2025-06-30; statuses mostly ARCHIVED
(798), some ACTIVE (115) and ACTIVATING (41), a few UPLOAD_FAILED (24) and DELETED (22).
Same output every run: the IDs, statuses, times and file types come from
``random.Random(20240601)`` in a fixed draw order (tests and the demo rely on those IDs
and that mix); everything else from a second source, ``random.Random(20240602)``, so
it never shifts those draws.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .records import ACCOUNT_ID
from .seed import COHORT_PATH, COHORT_STORE_ID

#: The shipped sample sheet of the cohort (CSV), written by :func:`main` beside the seed.
SAMPLE_SHEET_PATH = COHORT_PATH.with_name("cohort_samples.csv")
#: Read set statuses StartReadSetActivationJob can take (ARCHIVED) or has nothing to do for.
ACTIVATABLE = ("ARCHIVED", "ACTIVE", "ACTIVATING")
#: TCGA sample type codes of the cohort's sample IDs (the ``-10A`` / ``-01A`` suffix).
SAMPLE_TYPES = {"10": "normal", "01": "tumour"}

END = dt.datetime(2025, 6, 30, tzinfo=dt.timezone.utc)
SPAN_S = 2 * 365 * 86400
READ_LENGTH = 150
PART_SIZE = 104857600  # 100 MiB
REFERENCE_STORE_ARN = f"arn:aws:omics:us-east-1:{ACCOUNT_ID}:referenceStore/4032960817"
REFERENCES = {"GRCh38": f"{REFERENCE_STORE_ARN}/reference/2881303957",
              "GRCh37": f"{REFERENCE_STORE_ARN}/reference/7318052284"}
NOVASEQ_X_FROM = dt.datetime(2024, 7, 1, tzinfo=dt.timezone.utc)


def _access_point_alias(store_id: str) -> str:
    digest = hashlib.sha256(f"{ACCOUNT_ID}/{store_id}".encode()).digest()
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    number = int.from_bytes(digest, "big")
    suffix = "".join(alphabet[(number // 36**i) % 36] for i in range(34))
    return f"{ACCOUNT_ID}-{store_id[:7]}-{suffix}-s3alias"


def _file(store_id: str, read_set_id: str, name: str, length: int) -> Dict[str, Any]:
    uri = f"s3://{_access_point_alias(store_id)}/{ACCOUNT_ID}/sequenceStore/{store_id}/readSet/{read_set_id}/{name}"
    return {"totalParts": max(1, math.ceil(length / PART_SIZE)), "partSize": PART_SIZE,
            "contentLength": length, "s3Access": {"s3Uri": uri}}


def _lane_reads(extra: random.Random, sample_bases: int) -> Tuple[int, int]:
    """Reads (each mate counted) of the sample's two lanes, split 45-55%."""
    pairs = sample_bases // (2 * READ_LENGTH)
    first = int(pairs * extra.uniform(0.45, 0.55))
    return 2 * first, 2 * (pairs - first)


def _metadata(extra: random.Random, store_id: str, rid: str, file_type: str, name: str, reads: int,
              created: dt.datetime, reference: Optional[str], status: str) -> Dict[str, Any]:
    """The realistic members of one read set (see the module docstring)."""
    if file_type == "FASTQ":
        creation_type = "UPLOAD" if extra.random() < 0.3 else "IMPORT"
    else:
        creation_type = "IMPORT"
    out: Dict[str, Any] = {"creationType": "UPLOAD" if status == "UPLOAD_FAILED" else creation_type}
    if reference is not None:
        out["referenceArn"] = REFERENCES[reference]
    bases = reads * READ_LENGTH
    if file_type == "FASTQ":
        per_source = int(bases / 2 * extra.uniform(0.62, 0.70))
        files = {"source1": _file(store_id, rid, f"{name}_R1_001.fastq.gz", per_source),
                 "source2": _file(store_id, rid, f"{name}_R2_001.fastq.gz", int(per_source * extra.uniform(0.98, 1.02)))}
    elif file_type == "BAM":
        files = {"source1": _file(store_id, rid, name, int(bases * extra.uniform(0.55, 0.75))),
                 "index": _file(store_id, rid, f"{name}.bai", extra.randrange(6_000_000, 10_000_000))}
    else:
        files = {"source1": _file(store_id, rid, name, int(bases * extra.uniform(0.18, 0.30))),
                 "index": _file(store_id, rid, f"{name}.crai", extra.randrange(800_000, 2_500_000))}
    if status != "UPLOAD_FAILED":
        out["sequenceInformation"] = {
            "totalReadCount": reads, "totalBaseCount": bases,
            "generatedFrom": "Illumina NovaSeq X Plus" if created >= NOVASEQ_X_FROM else "Illumina NovaSeq 6000",
            "alignment": "UNALIGNED" if file_type == "FASTQ" else "ALIGNED",
        }
        out["files"] = files
    return out


def build(seed: int = 20240601) -> Dict[str, Any]:
    """Return the cohort seed as a dict (seed format of :mod:`.seed`)."""
    rng = random.Random(seed)  # IDs, statuses, times, file types: a fixed draw order
    extra = random.Random(seed + 1)  # everything else (metadata): never shifts rng's draws
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
        subject = f"CHRT-{subject_no:04d}"
        kinds = ["10A", "01A"] if rng.random() < 0.2 else ["10A"]
        for kind in kinds:
            sample_no += 1
            sample = f"{subject}-{kind}"
            created = END - dt.timedelta(seconds=rng.randrange(SPAN_S))
            lane = rng.randint(1, 4)
            genome = extra.random() < 0.7
            sample_bases = int(extra.uniform(85e9, 120e9) if genome else extra.uniform(6e9, 14e9))
            lane_reads = _lane_reads(extra, sample_bases)
            reference = "GRCh38" if extra.random() < 0.85 else "GRCh37"
            files: List[Tuple[str, str, int, Optional[str]]] = [
                ("FASTQ", f"{sample}_S{sample_no}_L{lane:03d}", lane_reads[0], None),
                ("FASTQ", f"{sample}_S{sample_no}_L{lane % 4 + 1:03d}", lane_reads[1], None),
            ]
            r = rng.random()
            if r < 0.5:
                files.append(("BAM", f"{sample}.{reference}.bam", sum(lane_reads), reference))
            elif r < 0.8:
                files.append(("CRAM", f"{sample}.{reference}.cram", sum(lane_reads), reference))
            for i, (file_type, name, reads, ref) in enumerate(files):
                p = rng.random()
                status = ("ARCHIVED" if p < 0.80 else "ACTIVE" if p < 0.92 else "ACTIVATING" if p < 0.96
                          else "DELETED" if p < 0.98 else "UPLOAD_FAILED")
                rid = new_id()
                at = created + dt.timedelta(hours=6 * i)
                entry = {
                    "id": rid,
                    "name": name,
                    "sampleId": sample,
                    "subjectId": subject,
                    "fileType": file_type,
                    "status": status,
                    "creationTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
                entry.update(_metadata(extra, COHORT_STORE_ID, rid, file_type, name, reads, at, ref, status))
                read_sets.append(entry)
    return {
        "sequenceStores": [{
            "id": COHORT_STORE_ID,
            "name": "wgs-cohort-2023-2025",
            "description": "Whole-genome and exome sequencing cohort (synthetic, for the emulator)",
            "creationTime": (END - dt.timedelta(seconds=SPAN_S + 86400)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "readSets": read_sets,
        }]
    }


def build_sample_sheet(seed: Dict[str, Any]) -> str:
    """The cohort's sample sheet (CSV text) for a seed of :func:`build`'s shape: its
    tumour-normal pairs, the unit of a somatic variant calling run.

    Header ``subject_id,sample_id,sample_type``; two rows (normal, then tumour) per subject
    of the first store that has a normal (``-10A``, blood-derived) and a tumour (``-01A``,
    primary tumour) sample whose read sets are all ARCHIVED, ACTIVE or ACTIVATING (a
    sample with a DELETED or UPLOAD_FAILED read set cannot be activated), in the seed's
    order. ``sample_type`` is ``normal`` or ``tumour``. Lines end with ``\\n``.
    """
    read_sets = seed["sequenceStores"][0]["readSets"]
    usable: Dict[str, bool] = {}
    subjects: Dict[str, List[str]] = {}
    for rs in read_sets:
        sample = rs["sampleId"]
        usable[sample] = usable.get(sample, True) and rs["status"] in ACTIVATABLE
        if sample not in subjects.setdefault(rs["subjectId"], []):
            subjects[rs["subjectId"]].append(sample)
    lines = ["subject_id,sample_id,sample_type"]
    for subject, samples in subjects.items():
        kinds = {SAMPLE_TYPES[s.rsplit("-", 1)[1][:2]]: s for s in samples if usable[s]}
        if set(kinds) == {"normal", "tumour"}:
            lines += [f"{subject},{kinds['normal']},normal", f"{subject},{kinds['tumour']},tumour"]
    return "\n".join(lines) + "\n"


def main(argv: List[str]) -> int:
    """Write the seed to ``argv[0]`` (default: the shipped ``data/cohort.json``) and its
    sample sheet to ``argv[1]`` (default: ``cohort_samples.csv`` beside the seed); returns 0."""
    out = Path(argv[0]) if argv else COHORT_PATH
    sheet = Path(argv[1]) if len(argv) > 1 else out.with_name(SAMPLE_SHEET_PATH.name)
    seed = build()
    out.write_text(json.dumps(seed, indent=1) + "\n", encoding="utf-8")
    sheet.write_text(build_sample_sheet(seed), encoding="utf-8")
    print(out)
    print(sheet)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
