"""Selecting read sets (omics_dynamic.selection, .data_source, .sample_sheet) against the emulator.

``get_read_sets`` talks HTTP to the emulator through the client the provider would make
(endpoint from AWS_ENDPOINT_URL_OMICS or ``omics-dynamic:endpoint``); the ``sent`` fixture
records the parameters of every ListReadSets request with botocore's own
``before-parameter-build`` event, so the tests see which filter went to the service and
which was applied on the listing. Emulator results, not AWS results.
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest

import omics_dynamic
from omics_dynamic import data_source
from omics_dynamic.data_source import EmptySelectionError, get_read_sets
from omics_dynamic.errors import AwsCallError, ConfigurationError, ListingStuckError
from omics_dynamic.sample_sheet import SampleSheetError, read_sample_sheet
from omics_dynamic.selection import ListingPlan, SelectionError, plan_listing, validate_selection
from omics_dynamic_testing import UNKNOWN, run_program

UTC = dt.timezone.utc
STORE = "5550000001"
ARN = f"arn:aws:omics:us-east-1:123456789012:sequenceStore/{STORE}/readSet/"

# id, name, sampleId, subjectId, fileType, status, creationTime
ROWS = [
    ("1000000001", "S1_fastq", "S1", "P1", "FASTQ", "ARCHIVED", "2024-03-01T10:00:00Z"),
    ("1000000002", "S1_cram", "S1", "P1", "CRAM", "ACTIVE", "2024-03-02T10:00:00Z"),
    ("1000000003", "S2_fastq", "S2", "P1", "FASTQ", "ARCHIVED", "2024-03-03T10:00:00Z"),
    ("1000000004", "S3_bam", "S3", "P2", "BAM", "DELETED", "2024-03-04T10:00:00Z"),
    ("1000000005", "S4_ubam", "S4", "P2", "UBAM", "UPLOAD_FAILED", "2024-03-05T10:00:00Z"),
    ("1000000006", "loose", None, None, "FASTQ", "ARCHIVED", "2024-03-06T10:00:00Z"),
]
REF = "arn:aws:omics:us-east-1:123456789012:referenceStore/1234567890/reference/1234567891"
# Members the listing may or may not show, by read set (seed format = wire names).
EXTRA = {
    "1000000001": {"sequenceInformation": {"totalReadCount": 1000, "totalBaseCount": 151000,
                                           "generatedFrom": "NovaSeq 6000", "alignment": "UNALIGNED"}},
    "1000000002": {"referenceArn": REF,
                   "sequenceInformation": {"totalBaseCount": 300000, "generatedFrom": "NovaSeq 6000"}},
    "1000000003": {"creationType": "UPLOAD",
                   "sequenceInformation": {"totalBaseCount": 151000, "generatedFrom": "HiSeq X"}},
    "1000000004": {"referenceArn": REF},
}


def seed(emulator, rows=ROWS, store_id=STORE):
    entries = []
    for rid, name, sample, subject, ftype, status, created in rows:
        entry = {"id": rid, "name": name, "fileType": ftype, "status": status, "creationTime": created,
                 **EXTRA.get(rid, {})}
        if sample:
            entry["sampleId"] = sample
        if subject:
            entry["subjectId"] = subject
        entries.append(entry)
    return emulator.create_store("cohort", entries, store_id=store_id)


@pytest.fixture
def store(emulator, monkeypatch):
    """The six read sets of ROWS in store STORE; get_read_sets reaches the emulator through
    botocore's AWS_ENDPOINT_URL_OMICS, unpaced."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", emulator.endpoint_url)
    monkeypatch.setenv("OMICS_DYNAMIC_RATE_LIMIT", "0")
    seed(emulator)
    emulator.reset_counters()
    return STORE


BIG = "5550000002"


@pytest.fixture
def big_store(emulator, store):
    """250 ARCHIVED read sets (3 pages of 100): sample X000..X249, subject P0/P1 alternating."""
    rows = [(str(2000000000 + i), f"x{i}", f"X{i:03d}", f"P{i % 2}", "FASTQ", "ARCHIVED",
             f"2024-01-01T00:{i // 60:02d}:{i % 60:02d}Z") for i in range(250)]
    seed(emulator, rows, BIG)
    emulator.reset_counters()
    return BIG


@pytest.fixture
def sent(monkeypatch):
    """Parameters of every ListReadSets request, in order (filter, maxResults, nextToken)."""
    requests = []
    real_make_client = data_source.make_client

    def make_client(settings, region):
        c = real_make_client(settings, region)
        c.meta.events.register("before-parameter-build.omics.ListReadSets",
                               lambda params, **_: requests.append(copy.deepcopy(params)))
        return c

    monkeypatch.setattr(data_source, "make_client", make_client)
    return requests


def filters(requests):
    return [r.get("filter") for r in requests]


# --------------------------------------------------------------------------- get_read_sets

def test_a_200_answer_without_read_sets_is_an_error_not_an_empty_store(emulator, monkeypatch):
    """An endpoint that answers 200 with something else than a ListReadSets answer (another
    service, a proxy) fails the data source naming the endpoint, even with allow_empty,
    instead of reading as an empty store ("no read set ... matches")."""
    from botocore.awsrequest import AWSResponse

    class Body:
        def stream(self, **_):
            yield b'{"status": "ok"}'

    monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", "http://127.0.0.1:9")
    real_make_client = data_source.make_client

    def make_client(settings, region):
        c = real_make_client(settings, region)
        c.meta.events.register("before-send.omics", lambda request, **_: AWSResponse(
            request.url, 200, {"Content-Type": "application/json"}, Body()))
        return c

    monkeypatch.setattr(data_source, "make_client", make_client)
    for allow_empty in (False, True):
        with pytest.raises(AwsCallError) as info:
            get_read_sets(STORE, allow_empty=allow_empty)
        assert info.value.code == "MalformedAnswer"
        assert ("the endpoint answered HTTP 200 without readSets, which HealthOmics always sends: is "
                "http://127.0.0.1:9 a HealthOmics endpoint?") in str(info.value)


def test_whole_store_one_call_with_every_field(store, emulator, sent):
    result = get_read_sets(store)
    assert result.ids == [r[0] for r in ROWS]
    assert result.sequence_store_id == STORE and result.region == "us-east-1"
    assert result.list_calls == 1 and emulator.calls["ListReadSets"] == 1
    assert sent == [{"sequenceStoreId": STORE, "maxResults": 100}]
    first = result.read_sets[0]
    assert first == omics_dynamic.ReadSet(
        id="1000000001", arn=ARN + "1000000001", name="S1_fastq", sample_id="S1", subject_id="P1",
        file_type="FASTQ", status="ARCHIVED", total_base_count=151000, reference_arn=None,
        creation_time=dt.datetime(2024, 3, 1, 10, tzinfo=UTC))
    assert first.account_id == "123456789012"
    assert first.as_dict() == {
        "id": "1000000001", "arn": ARN + "1000000001", "name": "S1_fastq", "sample_id": "S1",
        "subject_id": "P1", "file_type": "FASTQ", "status": "ARCHIVED", "total_base_count": 151000,
        "reference_arn": None, "creation_time": "2024-03-01T10:00:00Z"}
    loose = result.read_sets[-1]
    assert (loose.sample_id, loose.subject_id) == (None, None)
    assert result.read_sets[1].reference_arn == REF
    # Bases from sequenceInformation.totalBaseCount (optional: None where the listing has none).
    assert [rs.total_base_count for rs in result.read_sets] == [151000, 300000, 151000, None, None, None]
    assert result.total_base_count == 602000
    assert result.ids_without_base_count == ["1000000004", "1000000005", "1000000006"]


@pytest.mark.parametrize("kwargs, server_filter, ids", [
    ({"name": "S2_fastq"}, {"name": "S2_fastq"}, ["1000000003"]),
    ({"sample_ids": ["S1"]}, {"sampleId": "S1"}, ["1000000001", "1000000002"]),
    ({"subject_ids": ["P2"]}, {"subjectId": "P2"}, ["1000000004", "1000000005"]),
    ({"status": "ARCHIVED"}, {"status": "ARCHIVED"}, ["1000000001", "1000000003", "1000000006"]),
    ({"status": ["DELETED"]}, {"status": "DELETED"}, ["1000000004"]),
    ({"creation_type": "IMPORT"}, {"creationType": "IMPORT"},
     ["1000000001", "1000000002", "1000000004", "1000000005", "1000000006"]),
    ({"creation_type": "UPLOAD"}, {"creationType": "UPLOAD"}, ["1000000003"]),
    ({"reference_arn": REF}, {"referenceArn": REF}, ["1000000002", "1000000004"]),
    ({"generated_from": "NovaSeq 6000"}, {"generatedFrom": "NovaSeq 6000"}, ["1000000001", "1000000002"]),
    ({"generated_from": "NovaSeq 6000", "file_type": "CRAM", "sample_ids": ["S1"]},
     {"generatedFrom": "NovaSeq 6000", "sampleId": "S1"}, ["1000000002"]),
    ({"sample_ids": ["S1"], "subject_ids": ["P1"], "status": "ACTIVE"},
     {"sampleId": "S1", "subjectId": "P1", "status": "ACTIVE"}, ["1000000002"]),
    # Inclusive bounds: the read sets created exactly at 03-02 10:00 and 03-04 10:00 are in.
    ({"created_after": "2024-03-02T10:00:00Z", "created_before": dt.datetime(2024, 3, 4, 10)},
     {"createdAfter": dt.datetime(2024, 3, 2, 10, tzinfo=UTC),
      "createdBefore": dt.datetime(2024, 3, 4, 10, tzinfo=UTC)},
     ["1000000002", "1000000003", "1000000004"]),
    # A date is midnight UTC at its start; an offset is converted to UTC.
    ({"created_after": dt.date(2024, 3, 5)}, {"createdAfter": dt.datetime(2024, 3, 5, tzinfo=UTC)},
     ["1000000005", "1000000006"]),
    ({"created_before": "2024-03-01T12:30:00+02:00"},
     {"createdBefore": dt.datetime(2024, 3, 1, 10, 30, tzinfo=UTC)}, ["1000000001"]),
])
def test_server_side_filters(store, emulator, sent, kwargs, server_filter, ids):
    result = get_read_sets(store, **kwargs)
    assert result.ids == ids
    assert filters(sent) == [server_filter]
    assert result.list_calls == 1 and emulator.calls["ListReadSets"] == 1


def test_generated_from_is_checked_where_the_listing_shows_it():
    sel = validate_selection(generated_from="1000 Genomes")
    item = {"id": "1000000001", "sequenceInformation": {"generatedFrom": "1000 Genomes"}}
    assert sel.matches(item)
    assert not sel.matches({**item, "sequenceInformation": {"generatedFrom": "other"}})
    # Not shown in the listing (the field is optional): the service's filter decides.
    assert sel.matches({"id": "1000000001"})


def test_file_type_is_filtered_on_the_listing(store, emulator, sent):
    result = get_read_sets(store, file_type="FASTQ")
    assert result.ids == ["1000000001", "1000000003", "1000000006"]
    assert filters(sent) == [None]  # ReadSetFilter has no file type
    both = get_read_sets(store, file_type=["CRAM", "BAM"], status="ACTIVE")
    assert both.ids == ["1000000002"]
    assert filters(sent)[1] == {"status": "ACTIVE"}
    assert emulator.calls["ListReadSets"] == 2


def test_several_statuses_are_one_listing_filtered_here(store, emulator, sent):
    result = get_read_sets(store, status=["ARCHIVED", "ACTIVE", "ACTIVATING"])
    assert result.ids == ["1000000001", "1000000002", "1000000003", "1000000006"]
    assert filters(sent) == [None]
    assert emulator.calls["ListReadSets"] == 1


def test_pages_of_100(big_store, emulator, sent):
    result = get_read_sets(big_store)
    assert result.ids == [str(2000000000 + i) for i in range(250)]
    assert result.list_calls == 3 and emulator.calls["ListReadSets"] == 3
    assert [r["maxResults"] for r in sent] == [100, 100, 100]
    assert "nextToken" not in sent[0] and sent[1]["nextToken"] and sent[2]["nextToken"] != sent[1]["nextToken"]


def test_several_samples_in_a_small_store_cost_one_listing(store, emulator, sent):
    result = get_read_sets(store, sample_ids=["S1", "S2", "S3"])
    assert result.ids == ["1000000001", "1000000002", "1000000003", "1000000004"]
    assert filters(sent) == [None]  # one listing of the store, filtered here
    assert emulator.calls["ListReadSets"] == 1


def test_several_samples_in_a_large_store_cost_a_probe_and_one_listing_each(big_store, emulator, sent):
    # Two samples, three pages: the store listing is dropped after 2 pages, then one
    # listing per sample: 2 + 2 calls instead of 3 + ... for a store of any size.
    result = get_read_sets(big_store, sample_ids=["X007", "X200"])
    assert result.ids == ["2000000007", "2000000200"]
    assert filters(sent) == [None, None, {"sampleId": "X007"}, {"sampleId": "X200"}]
    assert result.list_calls == 4 and emulator.calls["ListReadSets"] == 4


def test_as_many_samples_as_pages_finish_the_store_listing(big_store, emulator, sent):
    result = get_read_sets(big_store, sample_ids=["X000", "X150", "X249"])
    assert result.ids == ["2000000000", "2000000150", "2000000249"]
    assert filters(sent) == [None, None, None]
    assert emulator.calls["ListReadSets"] == 3


def test_with_samples_and_subjects_the_shorter_list_fans_out(big_store, emulator, sent):
    result = get_read_sets(big_store, sample_ids=["X001", "X002", "X004"], subject_ids=["P0", "P1"],
                           status="ARCHIVED")
    assert result.ids == ["2000000001", "2000000002", "2000000004"]
    # Probe: 2 pages of the store (status filtered by the service); then each subject's
    # 125 read sets in 2 pages.
    assert filters(sent) == [{"status": "ARCHIVED"}] * 2 + [{"status": "ARCHIVED", "subjectId": "P0"}] * 2 \
        + [{"status": "ARCHIVED", "subjectId": "P1"}] * 2
    assert emulator.calls["ListReadSets"] == 6


def test_empty_selection_is_an_error_unless_allowed(store, emulator):
    with pytest.raises(EmptySelectionError) as info:
        get_read_sets(store, sample_ids=["S9", "s1"], status="ARCHIVED")
    assert str(info.value) == (
        f"no read set in sequence store {STORE} (us-east-1) matches sample_ids=['S9', 's1'], "
        "status=['ARCHIVED'] (1 ListReadSets call(s)). Check the values (IDs, names and ARNs "
        "are matched exactly, case included) and the store and region, or pass "
        "allow_empty=True to accept an empty selection.")
    assert info.value.list_calls == 1
    empty = get_read_sets(store, name="nope", allow_empty=True)
    assert empty.ids == [] and empty.read_sets == () and empty.total_base_count == 0


@pytest.mark.parametrize("kwargs, field, text", [
    ({"sequence_store_id": "12345"}, "sequence_store_id", "must be 10 to 36 digits, got 5 digits ('12345')"),
    ({"sequence_store_id": None}, "sequence_store_id", "must be a string of 10 to 36 digits, got NoneType None"),
    ({"sample_ids": "S1"}, "sample_ids",
     "must be a list of sample IDs, got the string 'S1'; wrap a single sample ID in a list: sample_ids=['S1']"),
    ({"subject_ids": "P1"}, "subject_ids", "wrap a single subject ID in a list: subject_ids=['P1']"),
    ({"sample_ids": []}, "sample_ids",
     "is an empty list, which would select nothing; pass None to not filter by sample ID"),
    ({"sample_ids": ["S1", "", "x" * 128, "a\tb", 7]}, "sample_ids",
     "4 invalid value(s): [1] a sample ID must not be empty; [2] a sample ID must be at most 127 "
     f"characters, got 128 ('{'x' * 56}...); [3] a "
     "sample ID 'a\\tb' holds the control character '\\t', which HealthOmics does not allow; "
     "[4] a sample ID must be a string, got int 7"),
    ({"sample_ids": {"S1": 1}}, "sample_ids", "must be a list of sample IDs, got dict {'S1': 1}"),
    ({"name": ""}, "name", "the read set name must not be empty; pass the exact read set name, or None"),
    ({"file_type": "fastq"}, "file_type",
     "'fastq' is not a read set file type (did you mean 'FASTQ'?); use one of FASTQ, BAM, CRAM, UBAM"),
    ({"file_type": ["FASTQ", "VCF"]}, "file_type",
     "1 invalid value(s): [1] 'VCF' is not a read set file type; use one of FASTQ, BAM, CRAM, UBAM"),
    ({"status": "archived"}, "status",
     "'archived' is not a read set status (did you mean 'ARCHIVED'?); use one of ARCHIVED, "
     "ACTIVATING, ACTIVE, DELETING, DELETED, PROCESSING_UPLOAD, UPLOAD_FAILED"),
    ({"reference_arn": "1234567890"}, "reference_arn", "got '1234567890'"),
    ({"creation_type": "import"}, "creation_type",
     "'import' is not a read set creation type (did you mean 'IMPORT'?); use one of IMPORT, UPLOAD"),
    ({"generated_from": ""}, "generated_from", "generated_from must not be empty"),
    ({"created_after": "last tuesday"}, "created_after",
     "'last tuesday' is not an ISO-8601 date or time; pass a datetime, a date or an ISO-8601 "
     "string such as '2024-03-01' or '2024-03-01T12:00:00Z' (no offset means UTC)"),
    ({"created_before": 1700000000}, "created_before", "must be a date or time, got int 1700000000"),
    ({"created_after": "0001-01-01T00:00:00+05:00"}, "created_after",
     "'0001-01-01T00:00:00+05:00' is outside the years 1-9999 once converted to UTC; pass a datetime, a "
     "date or an ISO-8601 string such as '2024-03-01'"),
    ({"created_before": dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.timezone(-dt.timedelta(hours=5)))},
     "created_before", "is outside the years 1-9999 once converted to UTC"),
    ({"created_after": "2024-03-05", "created_before": "2024-03-01"}, "created_before",
     "2024-03-01T00:00:00+00:00 is earlier than created_after 2024-03-05T00:00:00+00:00; swap them"),
    ({"region": "US East"}, "region",
     "must be an AWS Region name such as 'us-east-1', got 'US East'; or leave it out to use aws:region"),
    ({"allow_empty": "yes"}, "allow_empty", "must be True or False, got str 'yes'"),
])
def test_bad_selection_names_field_value_and_fix_before_any_call(store, emulator, kwargs, field, text):
    args = {"sequence_store_id": store, **kwargs}
    with pytest.raises(SelectionError) as info:
        get_read_sets(args.pop("sequence_store_id"), **args)
    assert [f for f, _ in info.value.failures] == [field]
    assert text in info.value.failures[0][1]
    assert str(info.value).startswith(f"invalid read set selection: {field}: ")
    assert isinstance(info.value, ValueError)
    assert emulator.calls["ListReadSets"] == 0


def test_every_bad_argument_is_reported_at_once(store):
    with pytest.raises(SelectionError) as info:
        get_read_sets("abc", sample_ids="S1", status="NOPE", file_type="VCF")
    assert [f for f, _ in info.value.failures] == ["sequence_store_id", "sample_ids", "file_type", "status"]


def test_missing_store_keeps_aws_code_and_request_id(store):
    with pytest.raises(AwsCallError) as info:
        get_read_sets("9999999999")
    err = info.value
    assert (err.operation, err.code, err.http_status) == ("ListReadSets", "ResourceNotFoundException", 404)
    assert err.request_id and err.request_id in str(err)
    # The provider's hint for the code (aws.translate_error): one wording everywhere.
    assert str(err).endswith("Check sequence_store_id (9999999999) and region (us-east-1): HealthOmics "
                             "does not know the resource this call named")


def test_access_denied_names_the_permission(store, emulator):
    emulator.set_faults(access_denied_stores=[store])
    with pytest.raises(AwsCallError) as info:
        get_read_sets(store)
    assert info.value.code == "AccessDeniedException"
    assert info.value.hint == (
        "The credentials in use are not allowed omics:ListReadSets on sequence store 5550000001 in "
        "us-east-1; attach the policy from omics_dynamic.iam_policy() (README, 'IAM policy') to the role "
        "that runs `pulumi up`")


def test_throttling_beyond_botocores_retries_is_transient_and_says_what_to_lower(store, emulator, monkeypatch):
    monkeypatch.setenv("OMICS_DYNAMIC_MAX_ATTEMPTS", "1")  # botocore: 2 attempts in all (test mode: no sleep)
    emulator.set_faults(throttle_next={"ListReadSets": 2})
    with pytest.raises(AwsCallError) as info:
        get_read_sets(store)
    err = info.value
    assert (err.operation, err.code, err.transient) == ("ListReadSets", "ThrottlingException", True)
    assert err.request_id and f"(request ID {err.request_id})" in str(err)
    assert err.hint == ("Throttled beyond botocore's retries: lower omics-dynamic:rateLimit or "
                        "max_concurrent_jobs, run fewer stacks at once against this account, or ask "
                        "for a higher request-rate quota")
    assert emulator.calls["ListReadSets"] == 2  # botocore's retry included
    assert get_read_sets(store).list_calls == 1  # the next call is answered


def test_no_credentials_and_no_connection_are_aws_call_errors_with_the_fix(store, emulator, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(AwsCallError) as info:
        get_read_sets(store)
    assert (info.value.code, info.value.request_id) == ("NoCredentials", None)
    assert str(info.value) == ("ListReadSets failed: NoCredentials: Unable to locate credentials (no AWS "
                               "request ID: no answer was received). Configure AWS credentials (environment, "
                               "aws:profile or AWS_PROFILE, SSO, or an instance role)")
    assert emulator.calls["ListReadSets"] == 0

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", "http://127.0.0.1:9")  # nothing listens
    monkeypatch.setenv("OMICS_DYNAMIC_MAX_ATTEMPTS", "1")
    with pytest.raises(AwsCallError) as info:
        get_read_sets(store)
    assert (info.value.code, info.value.request_id, info.value.transient) == ("EndpointConnectionError", None, True)
    assert str(info.value).endswith("The request never got an answer after botocore's retries; check the "
                                    "network and the endpoint")


def test_no_region_anywhere_is_a_configuration_error(store, monkeypatch, tmp_path):
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(ConfigurationError, match="no AWS Region"):
        get_read_sets(store)
    assert get_read_sets(store, region="us-east-1", name="loose").ids == ["1000000006"]


class FakeClock:
    """A manual clock: ``sleep`` advances it; a call's budget is waited for at
    ``real_per_s`` real seconds per clock second."""

    def __init__(self, real_per_s: float = 1.0):
        self.t = 0.0
        self.slept = []
        self.real_per_s = real_per_s

    def now(self):
        return self.t

    def sleep(self, s):
        self.slept.append(s)
        self.t += s

    def wait(self, event, s):
        self.sleep(s)
        return event.is_set()

    def real_seconds(self, s):
        return max(0.0, s) * self.real_per_s


def test_listing_is_paced_by_the_rate_limit_setting(big_store, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(data_source, "MonotonicClock", lambda time_scale: clock)
    monkeypatch.setenv("OMICS_DYNAMIC_RATE_LIMIT", "1")
    get_read_sets(big_store)
    # 1 request/s paced at 0.9/s with a burst of 1: the 2nd and 3rd pages wait ~1.1 s each.
    assert len(clock.slept) == 2 and clock.t == pytest.approx(2 / 0.9)


# --------------------------------------------------------------------------- time bounds

@pytest.fixture
def logged(monkeypatch):
    """What the data source logs to the Pulumi CLI (pulumi.log.info), in order."""
    lines: list[str] = []
    monkeypatch.setattr(omics_dynamic.data_source.pulumi.log, "info", lambda msg, *a, **k: lines.append(msg))
    return lines


def test_the_budget_is_600_s_by_default_and_configurable():
    from omics_dynamic.aws import ProviderSettings
    from omics_dynamic.limits import DATA_SOURCE_TIMEOUT_S

    assert DATA_SOURCE_TIMEOUT_S == 600.0
    assert ProviderSettings.from_config(lambda key: None, environ={}).data_source_timeout_s == 600.0
    assert ProviderSettings.from_config({"omics-dynamic:dataSourceTimeout": "1800"}.get,
                                        environ={}).data_source_timeout_s == 1800.0
    assert ProviderSettings.from_config(lambda key: None, environ={
        "OMICS_DYNAMIC_DATA_SOURCE_TIMEOUT": "90"}).data_source_timeout_s == 90.0
    with pytest.raises(ConfigurationError, match="omics-dynamic:dataSourceTimeout must be a number, got '10m'"):
        ProviderSettings.from_config({"omics-dynamic:dataSourceTimeout": "10m"}.get, environ={})


def test_a_silent_endpoint_fails_at_the_budget_naming_endpoint_tries_and_fix(aws_test_env, monkeypatch, logged):
    """An endpoint that accepts connections and never answers: botocore alone waited
    12 x 60 s read timeouts (841 s measured); the data source gives up at its budget (600 s
    on the clock; the clock runs 10,000 times faster than real time here, so 0.06 s) with
    DataSourceTimeoutError naming the operation, the store, the endpoint, what was tried
    and the fix."""
    import socket
    import time

    from omics_dynamic import aws
    from omics_dynamic.errors import DataSourceTimeoutError

    monkeypatch.setattr(aws, "CALL_SLACK_REAL_S", 0.0)
    monkeypatch.setattr(aws, "CALL_POLL_REAL_S", 0.005)
    monkeypatch.setenv("OMICS_DYNAMIC_TIME_SCALE", "10000")
    monkeypatch.setenv("OMICS_DYNAMIC_RATE_LIMIT", "0")
    monkeypatch.setenv("OMICS_DYNAMIC_MAX_ATTEMPTS", "1")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel accepts; nobody ever reads or answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", url)
        t0 = time.monotonic()
        with pytest.raises(DataSourceTimeoutError) as info:
            get_read_sets(STORE)
        real_s = time.monotonic() - t0
    assert real_s < 2.0, real_s
    err = info.value
    assert (err.operation, err.sequence_store_id, err.region, err.endpoint_url, err.timeout_s) == (
        "ListReadSets", STORE, "us-east-1", url, 600.0)
    assert (err.calls, err.still_listing, err.last_attempt) == (1, False, None)
    text = str(err)
    assert text.startswith(f"ListReadSets of sequence store {STORE} (us-east-1) at {url} did not finish "
                           "within the data source's budget of 600s: the last ListReadSets call got no answer in ")
    assert text.endswith(
        "s (no attempt failed: the answer was still awaited). Tried: 1 ListReadSets call(s), 0 HTTP "
        f"attempt(s) (botocore's retries included). Check that {url} is a HealthOmics endpoint that "
        "answers: the endpoint settings (omics-dynamic:endpoint, AWS_ENDPOINT_URL_OMICS, AWS_ENDPOINT_URL, "
        "the AWS config file's services section), the proxy settings (HTTPS_PROXY, NO_PROXY), the region "
        "and the network path; if HealthOmics is only slow, raise the budget: `pulumi config set "
        "omics-dynamic:dataSourceTimeout 1200` (seconds; or OMICS_DYNAMIC_DATA_SOURCE_TIMEOUT)")
    assert isinstance(err, omics_dynamic.OmicsDynamicError)


def _refusing(monkeypatch, clock: FakeClock, clock_s_per_attempt: float) -> str:
    """A refused endpoint whose every attempt takes ``clock_s_per_attempt`` on ``clock``
    (botocore's own backoff, which tests skip, stood in for on the clock)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", url)
    monkeypatch.setenv("OMICS_DYNAMIC_RATE_LIMIT", "0")
    monkeypatch.setattr(data_source, "MonotonicClock", lambda time_scale: clock)
    real_make_client = data_source.make_client

    def make_client(settings, region):
        c = real_make_client(settings, region)
        c.meta.events.register("before-send.omics", lambda **_: clock.sleep(clock_s_per_attempt))
        return c

    monkeypatch.setattr(data_source, "make_client", make_client)
    return url


def test_a_refused_endpoint_fails_after_botocores_retries_without_more(aws_test_env, monkeypatch):
    """Connection refused, botocore's 13 attempts (maxAttempts: 12 retries) over 65 s: the
    connection error is raised then (as before the budget), not retried until
    UNREACHABLE_AT_START_S or the budget."""
    clock = FakeClock()
    url = _refusing(monkeypatch, clock, 5.0)
    with pytest.raises(AwsCallError) as info:
        get_read_sets(STORE)
    assert (info.value.code, info.value.transient) == ("EndpointConnectionError", True)
    assert url in str(info.value)
    assert clock.t == 65.0 and clock.slept == [5.0] * 13  # no backoff of ours after botocore's


def test_an_endpoint_never_reached_fails_as_unreachable_after_botocores_retries(aws_test_env, monkeypatch):
    """When botocore's attempts outlast UNREACHABLE_AT_START_S (120 s) without one connection,
    the error is the provider's EndpointUnreachable: permanent, naming the endpoint and what
    to check."""
    from omics_dynamic.limits import UNREACHABLE_AT_START_S

    clock = FakeClock()
    url = _refusing(monkeypatch, clock, 20.0)
    with pytest.raises(AwsCallError) as info:
        get_read_sets(STORE)
    err = info.value
    assert (err.code, err.transient) == ("EndpointUnreachable", False)
    assert f"no connection to {url} could be made for {UNREACHABLE_AT_START_S:g}s" in str(err)
    assert f"HealthOmics could not be reached at {url}: check the endpoint settings" in str(err)
    assert clock.t == 260.0  # botocore's 13 attempts; nothing after them


def test_throttling_is_not_retried_beyond_botocore_in_the_program(store, emulator, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(data_source, "MonotonicClock", lambda time_scale: clock)
    emulator.set_faults(throttle_rate={"ListReadSets": 1.0})
    with pytest.raises(AwsCallError) as info:
        get_read_sets(store)
    assert (info.value.code, info.value.transient) == ("ThrottlingException", True)
    assert emulator.calls["ListReadSets"] == 13 and clock.t == 0.0  # botocore's attempts only


def test_a_listing_longer_than_the_budget_stops_between_pages(big_store, emulator, monkeypatch, logged):
    """Paced at 0.05 requests/s (a page every 22.2 s on the clock) with a 20 s budget: the
    second page is read after the budget, so the third is never asked for; the error says
    every call was answered and how to list less or raise the budget."""
    from omics_dynamic.errors import DataSourceTimeoutError

    clock = FakeClock()
    monkeypatch.setattr(data_source, "MonotonicClock", lambda time_scale: clock)
    monkeypatch.setenv("OMICS_DYNAMIC_RATE_LIMIT", "0.05")
    monkeypatch.setenv("OMICS_DYNAMIC_DATA_SOURCE_TIMEOUT", "20")
    with pytest.raises(DataSourceTimeoutError) as info:
        get_read_sets(big_store)
    err = info.value
    assert (err.calls, err.attempts, err.still_listing, err.timeout_s) == (2, 2, True, 20.0)
    assert emulator.calls["ListReadSets"] == 2
    assert clock.t == pytest.approx(1 / 0.045)
    assert (f"ListReadSets of sequence store {big_store} (us-east-1) at {emulator.endpoint_url} did not finish "
            "within the data source's budget of 20s: every call was answered, and 2 page(s) had been read "
            "with more to come: the listing is longer than the budget. Tried: 2 ListReadSets call(s), 2 HTTP "
            "attempt(s) (botocore's retries included). Select fewer read sets with a filter HealthOmics "
            "applies (one sample_ids or subject_ids value, name, status, created_after...), or raise the "
            "budget: `pulumi config set omics-dynamic:dataSourceTimeout 40` (seconds; or "
            "OMICS_DYNAMIC_DATA_SOURCE_TIMEOUT)") == str(err)
    assert logged == []  # 22 s on the clock: under the 25 s heartbeat


def test_a_long_listing_logs_a_line_every_heartbeat(big_store, monkeypatch, logged):
    """Three pages 22.2 s apart on the clock: one line, at the third (44.4 s), none before
    the 25 s heartbeat; a listing answered sooner says nothing."""
    clock = FakeClock()
    monkeypatch.setattr(data_source, "MonotonicClock", lambda time_scale: clock)
    monkeypatch.setenv("OMICS_DYNAMIC_RATE_LIMIT", "0.05")
    assert len(get_read_sets(big_store).ids) == 250
    assert logged == [f"omics-dynamic: listing sequence store {big_store} (us-east-1): still listing; 3 page(s) "
                      "read, 44s of the data source's 600s budget spent (omics-dynamic:dataSourceTimeout)"]


def test_waiting_lines_come_at_the_heartbeat(monkeypatch, logged):
    """The watch's cadence on a fake clock: nothing before 25 s, then one line per 25 s
    whatever the number of events (a call's wait is reported about once a real second)."""
    clock = FakeClock()
    watch = data_source._ProgramWatch(clock, 600.0, "eu-west-1")
    watch.store = STORE
    for t in range(0, 80):
        clock.t = float(t)
        watch.on_waiting("ListReadSets", float(t), "ReadTimeoutError: Read timeout on endpoint URL: x" if t > 60 else "")
    assert logged == [
        f"omics-dynamic: listing sequence store {STORE} (eu-west-1): no answer to ListReadSets for 25s; 0 page(s) "
        "read, 25s of the data source's 600s budget spent (omics-dynamic:dataSourceTimeout)",
        f"omics-dynamic: listing sequence store {STORE} (eu-west-1): no answer to ListReadSets for 50s; 0 page(s) "
        "read, 50s of the data source's 600s budget spent (omics-dynamic:dataSourceTimeout)",
        f"omics-dynamic: listing sequence store {STORE} (eu-west-1): no answer to ListReadSets for 75s (botocore's "
        "last attempt failed: ReadTimeoutError: Read timeout on endpoint URL: x); 0 page(s) read, 75s of the "
        "data source's 600s budget spent (omics-dynamic:dataSourceTimeout)",
    ]


# --------------------------------------------------------------------------- pure parts

def test_plan_puts_single_values_in_the_filter_and_fans_out_the_shorter_list():
    sel = validate_selection(sample_ids=["S2", "S1", "S3"], subject_ids=["P1", "P2"],
                             status=["ARCHIVED", "ACTIVE"], name="n", file_type="CRAM")
    assert plan_listing(sel) == ListingPlan({"name": "n"}, "subjectId", ("P1", "P2"))
    one = validate_selection(sample_ids=["S1"], subject_ids=("P1", "P2"), status="ACTIVE")
    assert plan_listing(one) == ListingPlan({"status": "ACTIVE", "sampleId": "S1"}, "subjectId", ("P1", "P2"))
    assert plan_listing(validate_selection()) == ListingPlan({})


def test_matches_is_exact_whatever_the_service_matched():
    sel = validate_selection(name="S1", sample_ids=["S1"])
    item = {"id": "1000000001", "name": "S1", "sampleId": "S1"}
    assert sel.matches(item)
    # A prefix or case-insensitive match by the service would not widen the selection.
    assert not sel.matches({**item, "name": "S1_extra"})
    assert not sel.matches({**item, "sampleId": "s1"})


# --------------------------------------------------------------------------- Pulumi program

PROGRAM = '''
import pulumi
from omics_dynamic import ReadSetActivation, get_read_sets_output

config = pulumi.Config()
cohort = get_read_sets_output(config.require("store"), sample_ids=config.require_object("samples"),
                              status=["ARCHIVED", "ACTIVE", "ACTIVATING"])
pulumi.export("ids", cohort.ids)
pulumi.export("region", cohort.region)
activation = ReadSetActivation("cohort", sequence_store_id=cohort.sequence_store_id,
                               read_set_ids=cohort.ids)
pulumi.export("statuses", activation.read_set_statuses)
# An argument unknown in preview (it depends on the activation) makes the result unknown.
after = get_read_sets_output(config.require("store"), name=activation.activated_at.apply(lambda _: "S1_cram"))
pulumi.export("after", after.ids)
'''


def test_get_read_sets_output_in_a_program_feeds_read_set_activation(tmp_path, aws_test_env):
    """Program mode of the engine-role harness: the selection runs in the program during
    preview and up (region and endpoint from stack config) and its IDs reach the provider."""
    from omics_emulator import Emulator

    (tmp_path / "__main__.py").write_text(PROGRAM)
    with Emulator(time_scale=200.0, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        seed(emu)
        config = {"aws:region": "us-east-1", "omics-dynamic:endpoint": emu.endpoint_url,
                  "omics-dynamic:rateLimit": "0", "omics-dynamic:timeScale": "200",
                  "project:store": STORE, "project:samples": ["S1", "S2", "S3"]}

        def run(operation, cfg=config):
            return run_program(str(tmp_path), state_path=str(tmp_path / "state.json"), operation=operation,
                               config=cfg, env={"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
                               timeout_s=120, program_timeout_s=300)

        expected = ["1000000001", "1000000002", "1000000003"]  # S3's read set is DELETED
        preview = run("preview")
        assert preview.exports["ids"] == expected and preview.exports["region"] == "us-east-1"
        assert preview.exports["statuses"] == UNKNOWN and preview.exports["after"] == UNKNOWN
        assert emu.jobs() == []

        up = run("up")
        assert up.engine.ops == {"cohort": "create"}
        assert up.exports["ids"] == expected
        assert up.exports["statuses"] == {rid: "ACTIVE" for rid in expected}
        assert up.exports["after"] == ["1000000002"]
        assert sorted(s["readSetId"] for job in emu.jobs() for s in job["sources"]) == ["1000000001", "1000000003"]

        with pytest.raises(EmptySelectionError, match=r"matches sample_ids=\['S9'\]"):
            run("preview", {**config, "project:samples": ["S9"]})


# --------------------------------------------------------------------------- sample sheets

def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_csv_of_read_set_ids_needs_no_call(tmp_path, emulator):
    path = write(tmp_path, "cohort.csv",
                 "\ufeffpatient,Read Set ID,notes\n"
                 "P1,1000000003,first\n"
                 "\n"
                 "P1, 1000000001 ,\"quoted, with comma\"\n"
                 "P2,1000000003,duplicate is fine\n")
    sheet = read_sample_sheet(path)
    assert (sheet.column, sheet.kind, sheet.delimiter) == ("Read Set ID", "read_set_id", ",")
    assert sheet.read_set_ids == ("1000000003", "1000000001")
    assert sheet.samples == {} and sheet.read_sets == () and sheet.list_calls == 0
    assert emulator.calls["ListReadSets"] == 0


def test_tsv_of_sample_ids_resolves_through_the_store(tmp_path, store, emulator, sent):
    path = write(tmp_path, "samples.tsv", "sampleId\tcondition\nS2\tcase\nS1\tcontrol\nS2\tcase\n")
    sheet = read_sample_sheet(path, sequence_store_id=store)
    assert (sheet.column, sheet.kind, sheet.delimiter) == ("sampleId", "sample_id", "\t")
    assert sheet.samples == {"S2": ("1000000003",), "S1": ("1000000001", "1000000002")}
    assert sheet.read_set_ids == ("1000000003", "1000000001", "1000000002")
    assert [rs.id for rs in sheet.read_sets] == list(sheet.read_set_ids)
    assert sheet.read_sets[0].name == "S2_fastq"
    assert sheet.list_calls == 1 and filters(sent) == [None]  # one listing beats one per sample here


def test_a_sample_sheet_shares_the_data_source_budget(tmp_path, big_store, emulator, monkeypatch):
    """read_sample_sheet resolves samples through the same bounded listing: past the budget
    it raises DataSourceTimeoutError, as get_read_sets does."""
    from omics_dynamic.errors import DataSourceTimeoutError

    clock = FakeClock()
    monkeypatch.setattr(data_source, "MonotonicClock", lambda time_scale: clock)
    monkeypatch.setenv("OMICS_DYNAMIC_RATE_LIMIT", "0.05")  # a page every 22.2 s on the clock
    monkeypatch.setenv("OMICS_DYNAMIC_DATA_SOURCE_TIMEOUT", "20")
    path = write(tmp_path, "samples.csv", "sample_id\n" + "".join(f"X{i:03d}\n" for i in range(5)))
    with pytest.raises(DataSourceTimeoutError) as info:
        read_sample_sheet(path, sequence_store_id=big_store)
    assert (info.value.sequence_store_id, info.value.calls, info.value.still_listing) == (big_store, 2, True)
    assert emulator.calls["ListReadSets"] == 2


def test_sample_sheet_with_status_and_file_type(tmp_path, store, sent):
    path = write(tmp_path, "samples.csv", "sample\nS1\n")
    sheet = read_sample_sheet(path, sequence_store_id=store, status="ARCHIVED", file_type="FASTQ")
    assert sheet.samples == {"S1": ("1000000001",)}
    assert filters(sent) == [{"sampleId": "S1", "status": "ARCHIVED"}]


def test_named_column_and_sniffed_delimiter(tmp_path, emulator):
    path = write(tmp_path, "cohort.txt", "lane\tmy ids\tsample_id\n1\t1000000002\tS1\n")
    sheet = read_sample_sheet(path, read_set_id_column="my ids")
    assert (sheet.delimiter, sheet.column, sheet.read_set_ids) == ("\t", "my ids", ("1000000002",))
    semicolons = write(tmp_path, "semi.csv", "read_set_id;x\n1000000002;y\n")
    assert read_sample_sheet(semicolons, delimiter=";").read_set_ids == ("1000000002",)


def test_bad_rows_are_all_named_by_line_and_column(tmp_path, emulator):
    path = write(tmp_path, "bad.csv",
                 "read_set_id,sample\n1000000001,S1\n,S2\n123456789,S3\n\n10000000x4,S4\n1000000005\n")
    with pytest.raises(SampleSheetError) as info:
        read_sample_sheet(path)
    assert str(info.value) == (
        f"sample sheet {path}: line 3, column 'read_set_id': empty read set id; "
        "line 4, column 'read_set_id': read set ID must be 10 to 36 digits, got 9 digits ('123456789'); "
        "line 6, column 'read_set_id': read set ID must contain only the ASCII digits 0-9, got '10000000x4'")
    assert info.value.problems[0] == (3, "read_set_id", "empty read set id")
    assert isinstance(info.value, ValueError)


def test_sample_without_read_set_names_its_line(tmp_path, store):
    path = write(tmp_path, "samples.csv", "sample_id\nS1\nS9\nS3\n")
    with pytest.raises(SampleSheetError) as info:
        read_sample_sheet(path, sequence_store_id=store, status=["ARCHIVED", "ACTIVE"])
    assert str(info.value) == (
        f"sample sheet {path}: line 3, column 'sample_id': sample 'S9' has no read set with status "
        f"ACTIVE or ARCHIVED in sequence store {STORE} (us-east-1); line 4, column 'sample_id': "
        f"sample 'S3' has no read set with status ACTIVE or ARCHIVED in sequence store {STORE} (us-east-1)")


def test_mistyped_sample_gets_close_matches_at_a_bounded_cost(tmp_path, emulator, monkeypatch):
    """A sample sheet naming 'chrt-0007' (the store has CHRT-0001..CHRT-1499): the error
    says it has no read set and offers the store's sample IDs closest to it ("did you mean",
    difflib, at most 3, from at most 10 listing pages); 'zzzz', which resembles nothing,
    gets no suggestion."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", emulator.endpoint_url)
    monkeypatch.setenv("OMICS_DYNAMIC_RATE_LIMIT", "0")
    rows = [(f"{1000000000 + i}", f"r{i}", f"CHRT-{i:04d}", "P1", "FASTQ", "ARCHIVED", "2024-03-01T10:00:00Z")
            for i in range(1, 1500)]
    seed(emulator, rows=rows)
    path = write(tmp_path, "samples.csv", "sample_id\nCHRT-0001\nchrt-0007\nzzzz\n")
    emulator.reset_counters()
    with pytest.raises(SampleSheetError) as info:
        read_sample_sheet(path, sequence_store_id=STORE)
    text = str(info.value)
    assert (f"line 3, column 'sample_id': sample 'chrt-0007' has no read set in sequence store {STORE} "
            "(us-east-1); did you mean 'CHRT-0007', ") in text
    assert text.count("did you mean") == 1 and text.split("did you mean", 1)[1].count("'CHRT-") == 3
    assert "(among the sample IDs of the store's first 1,000 read sets)" in text
    assert "sample 'zzzz' has no read set in sequence store " + STORE + " (us-east-1)" in text
    assert text.endswith("(us-east-1)")  # no suggestion for zzzz
    assert emulator.calls["ListReadSets"] == 2 * 3 + 10  # the samples (3 pages, then 3 listings) + 10 pages
    assert len(text) < 1000


@pytest.mark.parametrize("text, kwargs, message", [
    ("patient,lane\nP1,1\n", {},
     "line 1: no read set ID or sample ID column: the header has 'patient', 'lane'; name a column "
     "`read_set_id` or `sample_id` (or readSetId, sampleId, sample), or pass read_set_id_column=... "
     "or sample_id_column=..."),
    ("sample,Sample_ID\nS1,S1\n", {},
     "line 1: columns 'sample', 'Sample_ID' all look like sample id columns; name one with sample_id_column=..."),
    ("read_set_id\n1000000001\n", {"sample_id_column": "sample"},
     "line 1: no column 'sample' (sample_id_column); the header has 'read_set_id'"),
    ("read_set_id;lane\n1000000001;1\n", {}, "if the file separates fields with ';', pass delimiter=';'"),
    ("read_set_id\n", {}, "line 1, column 'read_set_id': the sheet has a header but no rows; pass allow_empty=True"),
    ("\n\n", {}, "is empty: it needs a header row and one row per read set or sample"),
    ("read_set_id\n\"1000000001\n", {}, "line 2: not valid CSV/TSV (unexpected end of data); check the quotes"),
])
def test_unusable_sheets(tmp_path, emulator, text, kwargs, message):
    path = write(tmp_path, "sheet.csv", text)
    with pytest.raises(SampleSheetError) as info:
        read_sample_sheet(path, **kwargs)
    assert str(info.value).startswith(f"sample sheet {path}: ")
    assert message in str(info.value)


@pytest.mark.parametrize("separator", ["\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"])
def test_a_line_separator_inside_a_cell_does_not_make_a_row(tmp_path, separator):
    """Rows end at \\n, \\r or \\r\\n only (as csv reads them): a form feed or a Unicode line
    separator inside a notes cell stays in the cell, so its digits never become a read set ID,
    and a bad row is reported at its line in the file."""
    sheet = write(tmp_path, "sheet.csv", f"read_set_id,note\n1234567890,lane{separator}2234567890\n")
    assert read_sample_sheet(sheet).read_set_ids == ("1234567890",)
    bad = write(tmp_path, "bad.csv", f"read_set_id,note\n1234567890,a{separator}b\nBAD,x\n")
    with pytest.raises(SampleSheetError, match="line 3, column 'read_set_id'") as info:
        read_sample_sheet(bad)
    assert "line 4" not in str(info.value)


def test_unreadable_sheets(tmp_path):
    with pytest.raises(SampleSheetError, match=r"cannot be read \(No such file or directory\); check the path"):
        read_sample_sheet(tmp_path / "missing.csv")
    latin = write(tmp_path, "latin.csv", "sample\nS\u00e9\n", encoding="latin-1")
    with pytest.raises(SampleSheetError, match="is not UTF-8 text .*save it as UTF-8 CSV or TSV"):
        read_sample_sheet(latin)


def test_sheet_arguments_that_do_not_fit(tmp_path, emulator):
    samples = write(tmp_path, "s.csv", "sample\nS1\n")
    with pytest.raises(SelectionError, match=r"sequence_store_id: is required to resolve the sample IDs"):
        read_sample_sheet(samples)
    with pytest.raises(SelectionError) as info:
        read_sample_sheet(samples, sequence_store_id="12", status="NOPE")
    assert [f for f, _ in info.value.failures] == ["sequence_store_id", "status"]
    ids = write(tmp_path, "i.csv", "read_set_id\n1000000001\n")
    with pytest.raises(SelectionError, match=r"status: applies only to sheets of sample IDs"):
        read_sample_sheet(ids, status="ARCHIVED")
    with pytest.raises(SelectionError, match="not both"):
        read_sample_sheet(ids, read_set_id_column="a", sample_id_column="b")
    assert read_sample_sheet(write(tmp_path, "e.csv", "read_set_id\n"), allow_empty=True).read_set_ids == ()
    assert emulator.calls["ListReadSets"] == 0


# --------------------------------------------------------------------------- listing behaviours

def test_short_shuffled_pages_with_empty_ones(big_store, emulator, sent):
    """Emulator profile "paging" (7 items a page whatever maxResults says, shuffled order,
    2 empty pages before each page of items): the same read sets, sorted; the cost counts
    every page, empty ones included."""
    emulator.set_profile("paging")
    result = get_read_sets(big_store, status="ARCHIVED")
    assert result.ids == [str(2000000000 + i) for i in range(250)]
    assert result.list_calls == emulator.calls["ListReadSets"] == 3 * 36  # 2 empty + 1 of items, 36 times
    # Two sample IDs: the store listing would take 108 calls; it is dropped after 2 (both
    # empty) and each sample's listing takes 3 (2 empty pages, then its read set).
    emulator.reset_counters()
    del sent[:]
    pair = get_read_sets(big_store, sample_ids=["X007", "X200"])
    assert pair.ids == ["2000000007", "2000000200"]
    assert filters(sent) == [None, None] + [{"sampleId": "X007"}] * 3 + [{"sampleId": "X200"}] * 3
    assert pair.list_calls == emulator.calls["ListReadSets"] == 8


def test_a_repeated_next_token_is_a_listing_stuck_error(big_store, emulator):
    """The provider's pager (aws.OmicsApi.read_set_pages) stops the listing: the second
    page gives the first page's nextToken again."""
    emulator.set_faults(stuck_next_token={"ListReadSets": True})
    with pytest.raises(ListingStuckError) as info:
        get_read_sets(big_store)
    err = info.value
    assert (err.operation, err.pages, len(err.request_ids)) == ("ListReadSets", 2, 2)
    assert str(err).startswith(f"ListReadSets answered a nextToken it had already given (after 2 page(s); "
                               f"request IDs {err.request_ids[0]}, {err.request_ids[1]}): the listing does "
                               "not advance.")
    assert emulator.calls["ListReadSets"] == 2


# --------------------------------------------------------------------------- the shipped cohort

def test_shipped_cohort_sample_sheet_with_realistic_metadata(tmp_path, emulator, monkeypatch, sent):
    """The emulator's cohort (1,000 read sets, TCGA-style IDs, sequenceInformation): a TSV of
    three samples resolves to their activatable read sets, with the bases the seed holds."""
    import json

    from omics_emulator.seed import COHORT_PATH, COHORT_STORE_ID

    monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", emulator.endpoint_url)
    monkeypatch.setenv("OMICS_DYNAMIC_RATE_LIMIT", "0")
    emulator.seed("cohort")
    seeded = json.loads(COHORT_PATH.read_text())["sequenceStores"][0]["readSets"]
    samples = ["CHRT-0002-10A", "CHRT-0001-10A", "CHRT-0001-01A"]
    usable = ("ARCHIVED", "ACTIVE", "ACTIVATING")
    expected = {s: tuple(sorted(r["id"] for r in seeded if r.get("sampleId") == s and r["status"] in usable))
                for s in samples}
    assert all(expected.values())
    path = write(tmp_path, "cohort.tsv", "sample_id\tnotes\n" + "".join(f"{s}\tx\n" for s in samples))

    sheet = read_sample_sheet(path, sequence_store_id=COHORT_STORE_ID, status=list(usable))

    assert sheet.samples == expected
    assert sheet.read_set_ids == tuple(rid for s in samples for rid in expected[s])
    bases = {r["id"]: r["sequenceInformation"]["totalBaseCount"] for r in seeded if "sequenceInformation" in r}
    assert [rs.total_base_count for rs in sheet.read_sets] == [bases.get(rid) for rid in sheet.read_set_ids]
    # 1,000 read sets are 10 pages: the store listing is dropped after 3, then one per sample.
    assert filters(sent) == [None] * 3 + [{"sampleId": s} for s in sorted(samples)]
    assert sheet.list_calls == 6

    fastq = get_read_sets(COHORT_STORE_ID, subject_ids=["CHRT-0001"], file_type="FASTQ")
    assert fastq.ids == sorted(r["id"] for r in seeded if r.get("subjectId") == "CHRT-0001" and r["fileType"] == "FASTQ")
    assert fastq.list_calls == 1
