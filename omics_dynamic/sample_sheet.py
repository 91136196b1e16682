"""Sample sheets: :func:`read_sample_sheet` reads a CSV or TSV sample sheet holding read
set IDs, or sample IDs that it resolves to read set IDs through the store.

Reading the file (delimiter, header, the column to use, every bad row) needs no AWS call;
resolving sample IDs lists the store through the data source
(:func:`omics_dynamic.data_source.select`, in the program's process, as
:func:`~omics_dynamic.data_source.get_read_sets` does).
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import io
import os
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence, Union

from . import data_source
from .aws import OmicsApi
from .data_source import ReadSet
from .errors import MESSAGE_LIST_LIMIT, OmicsDynamicError
from .limits import SUGGESTION_LISTING_PAGES, SUGGESTIONS_PER_VALUE
from .planning import describe_value, id_problem
from .selection import Selection, SelectionError, StrOrStrs, target_failures, text_problem, validate_selection

__all__ = [
    "SampleSheet",
    "SampleSheetError",
    "read_sample_sheet",
    "READ_SET_ID_HEADERS",
    "SAMPLE_ID_HEADERS",
]

#: A problem of a sheet: ``(line, column, reason)`` (see :class:`SampleSheetError`).
Problem = tuple[Optional[int], Optional[str], str]


class SampleSheetError(OmicsDynamicError, ValueError):
    """A sample sheet cannot be used: unreadable, no usable column, or bad rows.

    ``path`` is the file; ``problems`` holds ``(line, column, reason)`` triples (``line``
    1-based, ``None`` for problems of the whole file; ``column`` the header name or None).
    Every bad row is listed (up to 20 in the message), not only the first.
    """

    def __init__(self, path: str, problems: Sequence[Problem]):
        self.path = path
        self.problems = list(problems)
        items = []
        for line, column, reason in self.problems:
            where = ", ".join(([f"line {line}"] if line is not None else [])
                              + ([f"column {column!r}"] if column is not None else []))
            items.append(f"{where}: {reason}" if where else reason)
        shown = items[:MESSAGE_LIST_LIMIT]
        more = len(items) - len(shown)
        super().__init__(f"sample sheet {path}: " + "; ".join(shown)
                         + (f"; and {more} more" if more else ""))



#: Header names recognised without being named (compared lowercased, without ``_ -`` and spaces).
READ_SET_ID_HEADERS = ("readsetid", "readset")
SAMPLE_ID_HEADERS = ("sampleid", "sample")
_DELIMITERS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}


@dataclass(frozen=True)
class SampleSheet:
    """What :func:`read_sample_sheet` returns.

    - ``path``; ``column``: the header of the column used; ``kind``: ``"read_set_id"`` or
      ``"sample_id"``; ``delimiter``: ``","`` or ``"\\t"`` (or the one given).
    - ``read_set_ids``: the read set IDs, deduplicated, in sheet order (for sample sheets:
      sample by sample in sheet order, each sample's read sets by ID).
    - ``samples``: sample ID -> tuple of its read set IDs (sorted), in sheet order; empty
      for a sheet of read set IDs.
    - ``read_sets``: the :class:`ReadSet` s the samples resolved to (same order as
      ``read_set_ids``); empty for a sheet of read set IDs (no AWS call is made).
    - ``list_calls``: ListReadSets calls made (0 for a sheet of read set IDs).
    """

    path: str
    column: str
    kind: str
    delimiter: str
    read_set_ids: tuple[str, ...]
    samples: Mapping[str, tuple[str, ...]]
    read_sets: tuple[ReadSet, ...] = ()
    list_calls: int = 0


def _norm_header(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _find_column(path: str, header: list[str], read_set_id_column: Optional[str],
                 sample_id_column: Optional[str]) -> tuple[int, str]:
    """``(index, kind)`` of the column to read, or SampleSheetError naming the header."""
    shown = ", ".join(repr(h) for h in header)
    named = read_set_id_column if read_set_id_column is not None else sample_id_column
    if named is not None:
        kind = "read_set_id" if read_set_id_column is not None else "sample_id"
        if named not in header:
            raise SampleSheetError(path, [(1, None, f"no column {named!r} "
                                                    f"({kind}_column); the header has {shown}")])
        return header.index(named), kind
    for kind, aliases in (("read_set_id", READ_SET_ID_HEADERS), ("sample_id", SAMPLE_ID_HEADERS)):
        found = [i for i, h in enumerate(header) if _norm_header(h) in aliases]
        if len(found) > 1:
            raise SampleSheetError(path, [(1, None, f"columns {', '.join(repr(header[i]) for i in found)} "
                                                    f"all look like {kind.replace('_', ' ')} columns; "
                                                    f"name one with {kind}_column=...")])
        if found:
            return found[0], kind
    raise SampleSheetError(path, [(1, None, f"no read set ID or sample ID column: the header has "
                                            f"{shown}; name a column `read_set_id` or `sample_id` "
                                            "(or readSetId, sampleId, sample), or pass "
                                            "read_set_id_column=... or sample_id_column=..."
                                            + ("; if the file separates fields with ';', pass "
                                               "delimiter=';'" if len(header) == 1 and ";" in header[0] else ""))])


def _read_rows(path: str, delimiter: Optional[str]) -> tuple[str, list[tuple[int, list[str]]]]:
    """``(delimiter, [(line, cells), ...])`` of the non-blank rows, header first."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            text = handle.read()
    except OSError as exc:
        raise SampleSheetError(path, [(None, None, f"cannot be read ({exc.strerror or exc}); check the path")]) from None
    except UnicodeDecodeError as exc:
        raise SampleSheetError(path, [(None, None, f"is not UTF-8 text ({exc.reason} at byte "
                                                   f"{exc.start}); save it as UTF-8 CSV or TSV")]) from None
    if delimiter is None:
        delimiter = _DELIMITERS.get(os.path.splitext(path)[1].lower())
    if delimiter is None:
        first = next((line for line in io.StringIO(text, newline="") if line.strip()), "")
        delimiter = "\t" if "\t" in first else ","
    rows = []
    # Lines end at \n, \r or \r\n only, as csv expects (str.splitlines would also split at
    # \x0b, \x0c, \x1c-\x1e, \x85, \u2028 and \u2029 inside a cell).
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((reader.line_num, [c.strip() for c in cells]))
    except csv.Error as exc:
        raise SampleSheetError(path, [(reader.line_num, None, f"not valid CSV/TSV ({exc}); check the quotes")]) from None
    return delimiter, rows




@dataclass(frozen=True)
class _Column:
    """The sheet's column of IDs: its header ``name``, ``kind`` (``"read_set_id"`` or
    ``"sample_id"``), the ``delimiter`` used, and ``first_line``: each distinct value, in
    sheet order, -> the line (1-based) it first stands on."""

    name: str
    kind: str
    delimiter: str
    first_line: Mapping[str, int]


def _read_column(path: str, delimiter: Optional[str], read_set_id_column: Optional[str],
                 sample_id_column: Optional[str], allow_empty: bool) -> _Column:
    """Read the sheet's column of IDs (see :func:`read_sample_sheet` for the column's choice).

    :raises SampleSheetError: unreadable or empty file, no usable column, bad rows (all of
        them: an empty cell, a read set ID that is not 10-36 digits, a sample ID HealthOmics
        cannot hold), or no row (unless ``allow_empty``).
    """
    used, rows = _read_rows(path, delimiter)
    if not rows:
        raise SampleSheetError(path, [(None, None, "is empty: it needs a header row and one row per read set or sample")])
    header_line, header = rows[0]
    index, kind = _find_column(path, header, read_set_id_column, sample_id_column)
    column = header[index]
    first_line: dict[str, int] = {}
    problems: list[Problem] = []
    for line, cells in rows[1:]:
        value = cells[index] if index < len(cells) else ""
        if not value:
            problems.append((line, column, f"empty {kind.replace('_', ' ')}"))
            continue
        problem = id_problem(value) if kind == "read_set_id" else text_problem(value, "a sample ID")
        if problem:
            what = "read set ID " if kind == "read_set_id" else ""
            problems.append((line, column, f"{what}{problem}"))
            continue
        first_line.setdefault(value, line)
    if problems:
        raise SampleSheetError(path, problems)
    if not first_line and not allow_empty:
        raise SampleSheetError(path, [(header_line, column, "the sheet has a header but no rows; "
                                                            "pass allow_empty=True to accept that")])
    return _Column(column, kind, used, first_line)


def _resolve_samples(path: str, column: _Column, sequence_store_id: str, sel: Selection,
                     region: Optional[str]) -> SampleSheet:
    """The sheet of sample IDs ``column``, its samples resolved to read sets through the
    store (one listing of the store or one per sample, :func:`~omics_dynamic.data_source.select`).

    :raises SampleSheetError: naming the line of each sample with no read set matching
        ``sel`` (and the store's closest sample IDs, :func:`_close_samples`).
    :raises AwsCallError, ListingStuckError, ConfigurationError, CredentialsTimeoutError: as
        :func:`~omics_dynamic.data_source.get_read_sets`.
    """
    api = data_source.program_api(region)
    result = data_source.select(api, sequence_store_id, sel, allow_empty=True)
    by_sample: dict[str, list[ReadSet]] = {}
    for rs in result.read_sets:
        if rs.sample_id is not None:  # the listing filtered on sampleId; only values are looked up
            by_sample.setdefault(rs.sample_id, []).append(rs)
    values = tuple(column.first_line)
    missing = [s for s in values if s not in by_sample]
    if missing:
        conditions = [f"{what} {' or '.join(sorted(accepted))}" for what, accepted in
                      (("status", sel.statuses), ("file type", sel.file_types)) if accepted]
        cond = " with " + " and ".join(conditions) if conditions else ""
        close = _close_samples(api, sequence_store_id, missing[:MESSAGE_LIST_LIMIT])
        raise SampleSheetError(path, [
            (column.first_line[s], column.name, f"sample {s!r} has no read set{cond} in sequence store "
                                          f"{sequence_store_id} ({result.region})" + close.get(s, ""))
            for s in missing
        ])
    ordered = tuple(rs for s in values for rs in by_sample[s])
    return SampleSheet(path, column.name, column.kind, column.delimiter, tuple(rs.id for rs in ordered),
                       {s: tuple(rs.id for rs in by_sample[s]) for s in values}, ordered, result.list_calls)


def _close_samples(api: OmicsApi, store: str, missing: Sequence[str]) -> dict[str, str]:
    """Sample ID -> ``"; did you mean 'S0001', 'S0010'?"`` for sheet samples the store has
    no read set for, from the sample IDs of the store's first
    :data:`SUGGESTION_LISTING_PAGES` listing pages (difflib's close matches, at most
    :data:`SUGGESTIONS_PER_VALUE` each, each value cut to 60 characters). Best effort: {}
    when the listing fails, and no entry for a sample with no close match. The read sets
    whose sample matched were listed already; this costs at most 10 more calls."""
    try:
        items, _calls, complete = data_source.list_read_sets(api, store, {}, max_pages=SUGGESTION_LISTING_PAGES)
    except Exception:  # a suggestion never replaces the error it decorates
        return {}
    known = sorted({str(it["sampleId"]) for it in items if it.get("sampleId")})
    scope = "" if complete else f" (among the sample IDs of the store's first {len(items):,} read sets)"
    out = {}
    for sample in missing:
        folded: dict[str, str] = {}
        for k in known:
            if k != sample:
                folded.setdefault(k.casefold(), k)  # case-insensitive: 'chrt-0007' finds 'CHRT-0007'
        close = [folded[c] for c in difflib.get_close_matches(sample.casefold(), list(folded),
                                                               n=SUGGESTIONS_PER_VALUE, cutoff=0.6)]
        if close:
            out[sample] = f"; did you mean {', '.join(describe_value(c) for c in close)}?{scope}"
    return out


def read_sample_sheet(
    path: Union[str, os.PathLike[str]],
    *,
    sequence_store_id: Optional[str] = None,
    read_set_id_column: Optional[str] = None,
    sample_id_column: Optional[str] = None,
    status: Optional[StrOrStrs] = None,
    file_type: Optional[StrOrStrs] = None,
    region: Optional[str] = None,
    delimiter: Optional[str] = None,
    allow_empty: bool = False,
) -> SampleSheet:
    """Read the read set IDs of a cohort from a CSV or TSV sample sheet.

    The file: UTF-8 (a byte-order mark is fine), a header row, one row per read set or
    sample; other columns are ignored; blank rows are skipped; cells are stripped of
    spaces; duplicate IDs are fine (deduplicated). Fields are separated by ``,`` for
    ``.csv``, by a tab for ``.tsv`` / ``.tab``, otherwise by a tab if the header line has
    one, else ``,``; ``delimiter`` overrides.

    The column: ``read_set_id_column`` or ``sample_id_column`` names it; otherwise the
    header is searched (case, ``_``, ``-`` and spaces ignored) for a read set ID column
    (``read_set_id``, ``readSetId``, ``read_set``) and then a sample ID column
    (``sample_id``, ``sampleId``, ``sample``). A read set ID column wins over a sample one.

    - Read set IDs (10-36 digits): returned as they are; no AWS call (ReadSetActivation
      checks them against the store itself). ``status`` / ``file_type`` are refused here.
    - Sample IDs: resolved through the store (``sequence_store_id`` required) with
      :func:`~omics_dynamic.data_source.get_read_sets`'s listing (``sample_ids`` = the
      sheet's samples, plus ``status`` and ``file_type``): one listing of the store or one
      per sample, whichever is cheaper, at most twice the cheaper. Each sample must resolve
      to at least one read set; for one that does not, the store's closest sample IDs are
      suggested (at most :data:`SUGGESTION_LISTING_PAGES` more ListReadSets calls).

    :returns: :class:`SampleSheet` (``read_set_ids``, ``samples``, ``read_sets``...).
    :raises SampleSheetError: unreadable file, no usable column, or bad rows: every bad
        row named by line and column (an empty ID, a read set ID that is not 10-36 digits,
        a sample ID HealthOmics cannot hold, a sample with no read set in the store), or a
        sheet with no row (unless ``allow_empty``).
    :raises SelectionError: bad arguments (e.g. sample IDs without ``sequence_store_id``).
    :raises AwsCallError, ListingStuckError, ConfigurationError, CredentialsTimeoutError,
        DataSourceTimeoutError: as :func:`~omics_dynamic.data_source.get_read_sets` (the
        sheet's lookups share one ``omics-dynamic:dataSourceTimeout`` budget).
    """
    path = os.fspath(path)
    prior = target_failures(sequence_store_id, region, allow_empty, store_required=False)
    if read_set_id_column is not None and sample_id_column is not None:
        prior.append(("read_set_id_column", "give read_set_id_column or sample_id_column, not both"))
    base = validate_selection(status=status, file_type=file_type, prior_failures=prior)
    column = _read_column(path, delimiter, read_set_id_column, sample_id_column, allow_empty)
    values = tuple(column.first_line)
    if column.kind == "read_set_id":
        given = [f for f, v in (("status", status), ("file_type", file_type)) if v is not None]
        if given:
            raise SelectionError([(given[0], f"applies only to sheets of sample IDs; {path} lists read "
                                             f"set IDs (column {column.name!r}), which are used as they are")])
        return SampleSheet(path, column.name, column.kind, column.delimiter, values, {})
    if sequence_store_id is None:
        raise SelectionError([("sequence_store_id", f"is required to resolve the sample IDs of {path} "
                                                    f"(column {column.name!r}) to read sets")])
    if not values:
        return SampleSheet(path, column.name, column.kind, column.delimiter, (), {})
    sel = dataclasses.replace(base, sample_ids=frozenset(values))
    return _resolve_samples(path, column, sequence_store_id, sel, region)
