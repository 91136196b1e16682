"""omics-dynamic: a Pulumi dynamic provider that keeps AWS HealthOmics read sets ACTIVE.

Public API: :class:`ReadSetActivation` and :class:`ReadSetActivationArgs` (the resource),
:func:`iam_policy` (the IAM policy it needs) and the errors of :mod:`omics_dynamic.errors`.
Selecting read sets: :func:`get_read_sets` / :func:`get_read_sets_output` (a data source,
:mod:`omics_dynamic.data_source`) and :func:`read_sample_sheet`
(:mod:`omics_dynamic.sample_sheet`); the selection's checks are :mod:`omics_dynamic.selection`.
The local emulator is :mod:`omics_emulator`; stacks run against it through the real
Pulumi CLI with :mod:`omics_dynamic_testing.automation`, and through the engine-role
harness, a fast stand-in without the CLI, with :mod:`omics_dynamic_testing`.
"""

from .data_source import EmptySelectionError, GetReadSetsResult, ReadSet, get_read_sets, get_read_sets_output
from .errors import (
    ActivationCancelledError,
    ActivationFailedError,
    ActivationTimeoutError,
    AwsCallError,
    ConfigurationError,
    CredentialsTimeoutError,
    DataSourceTimeoutError,
    InvalidInputError,
    ListingStuckError,
    OmicsDynamicError,
    ReadSetsUnusableError,
    SourceFailure,
)
from .iam import iam_policy
from .resource import ReadSetActivation, ReadSetActivationArgs
from .sample_sheet import SampleSheet, SampleSheetError, read_sample_sheet
from .selection import SelectionError

__all__ = [
    "ReadSetActivation",
    "ReadSetActivationArgs",
    "iam_policy",
    "OmicsDynamicError",
    "InvalidInputError",
    "ConfigurationError",
    "CredentialsTimeoutError",
    "AwsCallError",
    "ReadSetsUnusableError",
    "ActivationFailedError",
    "ActivationTimeoutError",
    "ActivationCancelledError",
    "ListingStuckError",
    "SourceFailure",
    "get_read_sets",
    "get_read_sets_output",
    "GetReadSetsResult",
    "ReadSet",
    "read_sample_sheet",
    "SampleSheet",
    "SelectionError",
    "EmptySelectionError",
    "DataSourceTimeoutError",
    "SampleSheetError",
]

__version__ = "0.2.0"
