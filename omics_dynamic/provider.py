"""ReadSetActivationProvider: the dynamic provider's lifecycle, as thin glue.

Each method turns Pulumi property dicts into :class:`~omics_dynamic.planning.ActivationInputs`,
calls the core (:mod:`.activation`), and turns results back into outputs
(:mod:`.outputs` defines each one; :func:`~omics_dynamic.planning.plan_diff` decides diff).
The engine rules it follows are in design.md section 2 and cited by number.

Region: create records the region it really used in the ``region`` output; diff compares
it with the effective region of the new inputs, and update and refresh talk to the recorded
region, so a changed ``aws:region`` replaces the resource instead of silently reading
elsewhere.

The provider object holds no clients, credentials, sets or other state when it is
pickled (rule 12): the SDK pickles it by reference (this class lives in an importable
module), a few dozen bytes. ``configure`` gives the unpickled copy in the provider
process its :class:`~omics_dynamic.aws.ProviderSettings`; clients live in a process-wide
cache outside the provider object (:func:`~omics_dynamic.aws.shared_client`).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import threading
import time
from typing import Any, Iterable, Optional

import botocore.exceptions
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN, is_rpc_secret, unwrap_rpc_secret

from . import cancellation, messages
from .activation import ActivationResult, ActivationRun, read_statuses
from .aws import (
    MonotonicClock,
    OmicsApi,
    ProviderSettings,
    custom_endpoint,
    effective_region,
    required_region,
    shared_client,
    shared_rate_budget,
)
from .errors import AwsCallError, ConfigurationError, OmicsDynamicError
from .limits import (
    CHECK_FAILURE_VALUE_CHARS,
    CHECK_LOOKUP_BUDGET_S,
    CHECK_LOOKUP_MAX_CALLS,
    EARLIER_RUN_LOOKBACK_S,
    LIVE_CHECK_TIMEOUT_S,
    LIVE_OBSERVATION_TTL_S,
)
from .live_lookup import check_statuses, diff_statuses, not_active_reason
from .live_lookup import say as _say
from .outputs import (
    OUTPUT_KEYS,
    carried_outputs,
    next_activation_count,
    stored_outputs,
)
from .planning import (
    DEFAULT_RESOURCE_NAME,
    INPUT_KEYS,
    TUNING_KEYS,
    ActivationInputs,
    not_active_in_state,
    plan_diff,
    resource_id,
    validate_inputs,
)

__all__ = ["ReadSetActivationProvider", "OUTPUT_KEYS", "UNKNOWN"]

#: ``UNKNOWN`` (re-exported) is the SDK's own unknown-value sentinel string,
#: ``pulumi.runtime.rpc.UNKNOWN`` (the engine's ``plugin.UnknownStringValue``).

# OUTPUT_KEYS (re-exported from omics_dynamic.outputs): the output-only properties the
# provider stores, after the normalised inputs.

_live_all_active: dict[str, float] = {}
_live_lock = threading.Lock()


def _is_unknown(value: Any) -> bool:
    """True when ``value`` is a preview-time unknown, in every form the SDK's provider
    server can hand to a provider method (design.md section 2, rule 4).

    - ``pulumi.output.Unknown``: the SDK server deserialises Check/Diff arguments with
      ``rpc.deserialize_properties(..., keep_unknowns=True)`` (``pulumi/dynamic/__main__.py``),
      which turns the engine's sentinel string into ``Unknown()`` at any depth: a whole
      value, one list element, a nested map value.
    - the sentinel string ``pulumi.runtime.rpc.UNKNOWN`` itself, for callers that hand
      raw values to the provider in process.
    - either of those inside the SDK's secret wrapper (``{<sig>: <secret sig>, "value": v}``,
      ``rpc.is_rpc_secret``). The engine sends no secrets to the Python dynamic provider
      (its Configure answers ``acceptSecrets=False``), but a wrapped unknown is unknown.

    Create/Update/Delete/Read are deserialised without ``keep_unknowns``; the engine never
    sends those in a preview (rule 4).
    """
    if is_rpc_secret(value):
        value = unwrap_rpc_secret(value)
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN)


def _has_unknown(value: Any) -> bool:
    """True when ``value`` is unknown or holds an unknown anywhere (list element, map value)."""
    if _is_unknown(value):
        return True
    if is_rpc_secret(value):
        value = unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_unknown(v) for v in value)
    return False


def check_failure(prop: str, reason: str, value: Any) -> CheckFailure:
    """The CheckFailure of ``reason`` about input ``prop`` (whose value is ``value``).

    The engine prints a property's failure as ``<type> resource '<name>': property <p>
    value <the whole value> has a problem: <reason>`` and one without a property as ``<type>
    resource '<name>' has a problem: <reason>`` (``issueCheckFailures``,
    ``pkg/resource/deploy/step_generator.go``; ``diag.GetResourcePropertyInvalidValueError``
    and ``GetResourceInvalidError``). A value longer than
    :data:`CHECK_FAILURE_VALUE_CHARS` (a list of 1,000 read set IDs is 14 KB) would bury
    the reason, so its failure names the property in the reason instead:
    ``property read_set_ids: <reason>``.
    """
    try:
        size = len(json.dumps(value, default=str))
    except (TypeError, ValueError):
        size = len(repr(value))
    if size > CHECK_FAILURE_VALUE_CHARS:
        return CheckFailure("", f"property {prop}: {reason}")
    return CheckFailure(prop, reason)


#: Failures the provider expects and explains in its message (unusable read sets, failed
#: jobs, timeout, AWS and configuration errors, cancellation): the user needs the sentence,
#: not the frames that led to it.
EXPECTED_ERRORS = (OmicsDynamicError, botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)


def _bare(err: BaseException) -> BaseException:
    """``err`` without its traceback and chained exceptions, to be re-raised ``from None``.

    The SDK's server reports an exception from a provider method as
    ``traceback.format_exc()`` (``_abort_with_traceback`` in ``pulumi/dynamic/__main__.py``),
    and the engine prints that text as the resource's error. Re-raised from the lifecycle
    method, an expected failure then shows the server's two frames, the method's own frame
    and the complete message last: no frames of our internals, no "During handling of the
    above exception" or "direct cause" blocks.
    """
    err.__traceback__ = None
    err.__cause__ = None
    err.__context__ = None
    err.__suppress_context__ = True
    return err


class ReadSetActivationProvider(ResourceProvider):
    """Pulumi dynamic provider of ``ReadSetActivation`` (type
    ``pulumi-python:dynamic/omics:ReadSetActivation``).

    Lifecycle: ``check`` validates; ``diff`` compares inputs (ignoring ``__provider``, rule
    5) and the effective region with the outputs, the recorded statuses and, with
    ``check_live_status``, live statuses; ``create``/``update`` activate and wait; ``read``
    re-reads statuses; ``delete`` changes nothing in AWS. Errors raised by these methods
    reach ``pulumi up`` as the resource's error.
    """

    # -- configuration (rule 2) ---------------------------------------------------------
    def configure(self, req: ConfigureRequest) -> None:
        """Read ``aws:region``, ``aws:profile`` and ``omics-dynamic:*`` from stack config.

        :raises ConfigurationError: for unparsable settings (naming the key).

        Also hooks the engine's cancellation (Cancel RPC, SIGINT) in the provider process
        (:mod:`omics_dynamic.cancellation`), before any create can start.
        """
        cancellation.install()
        self._settings = ProviderSettings.from_config(req.config.get)

    @property
    def settings(self) -> ProviderSettings:
        settings = getattr(self, "_settings", None)
        if settings is None:
            settings = ProviderSettings.from_config(lambda key: None)
        return settings

    # -- check (rules 3, 4) -------------------------------------------------------------
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate every input; one CheckFailure per bad field; unknowns pass through.

        Valid, known inputs are then checked against HealthOmics (:meth:`_check_live`,
        bounded by :data:`CHECK_LOOKUP_BUDGET_S`): a store that does not exist, read sets
        not in it or DELETED (DELETING, UPLOAD_FAILED) are CheckFailures; no answer is a
        warning.
        """
        normalised, failures = validate_inputs(news, is_unknown=_is_unknown)
        inputs = dict(news)
        inputs.update(normalised)
        if not failures:
            failures = self._check_live(_olds, inputs)  # definitive AWS answers fail the preview
        return CheckResult(inputs, [check_failure(prop, reason, news.get(prop)) for prop, reason in failures])

    # -- diff (rules 3, 5, 7) -----------------------------------------------------------
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Compare the old outputs with the new inputs (:func:`~omics_dynamic.planning.plan_diff`);
        with ``check_live_status``, the same read sets and all of them recorded ACTIVE, ask
        HealthOmics too (in the recorded region). A store change, or an effective region
        other than the recorded one, is a replace. The reason is printed to stderr (the SDK's
        DiffResult has no field for it).
        """
        name = news.get("resource_name") or olds.get("resource_name") or DEFAULT_RESOURCE_NAME
        plan = plan_diff(olds, news, new_region=_diff_region(self.settings, name, news, olds),
                         has_unknown=_has_unknown)
        reasons = list(plan.reasons)
        if plan.live_check:
            reason = self._live_reason(_id, name, {**news, "region": plan.region})
            if reason:
                reasons.append(reason)
        if plan.replaces:
            _say(name, messages.diff_line("replace", reasons))
            return DiffResult(changes=True, replaces=list(plan.replaces), stables=[], delete_before_replace=False)
        if not reasons:
            return DiffResult(changes=False, replaces=[], stables=[], delete_before_replace=False)
        _say(name, messages.diff_line("update", reasons))
        return DiffResult(changes=True, replaces=[], stables=[], delete_before_replace=False)

    def _live_reason(self, id_: str, name: str, news: dict[str, Any]) -> Optional[str]:
        """Ask HealthOmics for the read sets' statuses (:func:`~omics_dynamic.live_lookup.diff_statuses`);
        a reason when some are not ACTIVE, with the volume ``pulumi up`` will activate
        (:func:`~omics_dynamic.live_lookup.not_active_reason`). Records in this process when
        all were seen ACTIVE (``update`` then makes no AWS call).

        Bounded by :data:`LIVE_CHECK_TIMEOUT_S` seconds in all (plus a call's answer in
        flight, :data:`~omics_dynamic.aws.CALL_SLACK_REAL_S`): no answer in time makes diff
        fall back to state, saying so, never waiting for botocore's full retries; read sets
        seen not ACTIVE before the bound are a reason all the same.
        """
        found = diff_statuses(lambda: _live_api(self.settings, news.get("region"), LIVE_CHECK_TIMEOUT_S), name,
                              news["sequence_store_id"], news["read_set_ids"], LIVE_CHECK_TIMEOUT_S)
        if found is None:
            return None
        reason = not_active_reason(found, LIVE_CHECK_TIMEOUT_S)
        with _live_lock:
            if reason or not found.complete:
                _live_all_active.pop(id_, None)
            else:
                _live_all_active[id_] = time.monotonic()
        return reason

    def _check_live(self, olds: dict[str, Any], inputs: dict[str, Any]) -> list[tuple[str, str]]:
        """Check's look at HealthOmics, with ``check_live_status``, once every input is
        valid and known, and only in a provider the engine has configured (rule 2): a
        program or test calling ``check`` on a bare provider object makes no AWS call.

        What it looks up: for a new resource (no olds) or a changed store, every read set
        (a new resource's preview then prints ``<name>: create: will activate N read sets
        (X Gbases) ...``: a preview calls only Check for it, rule 4); for an existing
        resource with the same store, only the read set IDs not in its state (none: no call).

        Definitive answers fail check (``(property, reason)`` pairs, so the preview fails;
        :func:`~omics_dynamic.live_lookup.check_statuses`): the store does not exist, read
        sets it does not hold or that create would refuse. No answer (network, throttling,
        no credentials, access denied, the budget spent) is a warning line and check passes.

        Bounded, a nicety never a reason to wait: :data:`CHECK_LOOKUP_BUDGET_S` seconds on
        the provider's clock (injectable: tests use the emulator's), and at most
        :data:`CHECK_LOOKUP_MAX_CALLS` calls whatever the store's or the cohort's size; then
        it says the volume is unknown. Check runs synchronously in the engine's step
        generation (design.md section 2, rule 11), at every preview and up.
        """
        if getattr(self, "_settings", None) is None or inputs.get("check_live_status") is not True:
            return []
        store, ids = inputs.get("sequence_store_id"), inputs.get("read_set_ids")
        if (not isinstance(store, str) or not isinstance(ids, list) or not ids
                or any(_has_unknown(inputs.get(k)) for k in INPUT_KEYS)):
            return []
        name = inputs.get("resource_name") or DEFAULT_RESOURCE_NAME
        create = not olds
        if not create and olds.get("sequence_store_id") == store:
            recorded = set(olds.get("read_set_ids") or ())
            ids = [rid for rid in ids if rid not in recorded]
            if not ids:
                return []
        region = olds.get("region") or inputs.get("region")
        return check_statuses(lambda: _live_api(self.settings, region, CHECK_LOOKUP_BUDGET_S), name, store, ids,
                              create, CHECK_LOOKUP_MAX_CALLS)

    # -- create (rules 4, 9) ------------------------------------------------------------
    def create(self, props: dict[str, Any]) -> CreateResult:
        """Activate every ARCHIVED read set and wait until all are ACTIVE.

        Safe to run twice for the same inputs (rule 9): a rerun adopts the jobs an
        interrupted run started. Raises the errors of
        :meth:`omics_dynamic.activation.ActivationRun.run`, and ConfigurationError when no
        region can be found, bare (:func:`_bare`).
        """
        try:
            return self._create(props)
        except EXPECTED_ERRORS as err:
            raise _bare(err) from None

    def _create(self, props: dict[str, Any]) -> CreateResult:
        inputs = ActivationInputs.from_props(props)
        inputs = dataclasses.replace(inputs, region=required_region(self.settings, inputs.region))
        # No run recorded yet: read sets found ACTIVE may be an interrupted create's work.
        result = self._activate(inputs, generation=f"{inputs.resource_name}/create",
                                earlier_read_set_ids=inputs.read_set_ids,
                                earlier_jobs_after=_utc_now() - datetime.timedelta(seconds=EARLIER_RUN_LOOKBACK_S))
        outs = stored_outputs(inputs, result, activation_count=next_activation_count(None, result),
                              endpoint_url=custom_endpoint(self.settings, inputs.region))
        return CreateResult(resource_id(inputs.resource_name, inputs.sequence_store_id, inputs.region), outs)

    # -- update (rules 3, 6) ------------------------------------------------------------
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Re-activate what is not ACTIVE, in the recorded region; return the complete
        outputs (rule 6).

        A change of tuning inputs only, with every read set ACTIVE in state (and, with
        ``check_live_status``, seen ACTIVE by this process's diff), makes no AWS call.
        Expected failures are raised bare (:func:`_bare`).
        """
        try:
            return self._update(_id, olds, news)
        except EXPECTED_ERRORS as err:
            raise _bare(err) from None

    def _update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = ActivationInputs.from_props(news)
        # Where the resource lives: diff replaced it had the new effective region differed.
        region = olds.get("region") or required_region(self.settings, inputs.region)
        inputs = dataclasses.replace(inputs, region=region)
        count = int(olds.get("activation_count") or 0)
        ids = set(inputs.read_set_ids)
        recorded_not_active = [rid for rid in not_active_in_state(olds) if rid in ids]
        all_active = list(olds.get("read_set_ids") or []) == list(inputs.read_set_ids) and not recorded_not_active
        with _live_lock:
            seen_s = _live_all_active.get(_id)
        live_ok = not inputs.check_live_status or (
            seen_s is not None and time.monotonic() - seen_s < LIVE_OBSERVATION_TTL_S)
        if all_active and live_ok:
            outs = carried_outputs(olds)
            outs.update({k: news[k] for k in TUNING_KEYS if k in news})
            outs["region"] = region
            return UpdateResult(outs)
        # Read sets the state records as not ACTIVE, or does not hold yet, may be the work
        # of an interrupted update since the last recorded run.
        recorded = set(olds.get("read_set_ids") or [])
        unrecorded = set(recorded_not_active) | {rid for rid in inputs.read_set_ids if rid not in recorded}
        result = self._activate(inputs, generation=f"{inputs.resource_name}/update-{count + 1}",
                                earlier_read_set_ids=unrecorded, earlier_jobs_after=_instant(olds.get("activated_at")))
        return UpdateResult(stored_outputs(
            inputs, result, activation_count=next_activation_count(count, result, recorded_not_active),
            previous=olds, endpoint_url=custom_endpoint(self.settings, region)))

    def _activate(self, inputs: ActivationInputs, generation: str, earlier_read_set_ids: Iterable[str] = (),
                  earlier_jobs_after: Optional[datetime.datetime] = None) -> ActivationResult:
        """One activation run. Read sets of ``earlier_read_set_ids`` found ACTIVE are
        credited to the ended jobs, created after ``earlier_jobs_after``, that activated
        them, so a rerun after a timed-out or stopped run records that run's jobs
        (ActivationRun's ``earlier_read_set_ids``)."""
        # Credential resolution is bounded too (CredentialsTimeoutError), never longer than the run.
        api = _omics_api(self.settings, inputs.region, min(self.settings.credentials_timeout_s, inputs.timeout_seconds))
        # The run stops within seconds once the engine asks the process to stop (rule 9).
        return ActivationRun(api, inputs, generation=generation, cancel=cancellation.event(),
                             earlier_read_set_ids=list(earlier_read_set_ids),
                             earlier_jobs_after=earlier_jobs_after).run()

    # -- read (rule 7) ------------------------------------------------------------------
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh: re-read statuses, in the recorded region, into
        ``not_active_read_set_statuses``; start no job.

        A sequence store that no longer exists removes the resource from state (empty ID),
        but only through the endpoint the resource was created through (``endpoint_url``;
        absent from state for AWS's standard endpoint, whose None the SDK's server drops):
        through another one, "not found" proves nothing, and read raises
        ConfigurationError instead: refresh never reads the resource silently elsewhere.
        Expected failures are raised bare (:func:`_bare`).
        """
        try:
            return self._read(id_, props)
        except EXPECTED_ERRORS as err:
            raise _bare(err) from None

    def _read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = ActivationInputs.from_props(props)
        # props are the outputs: their region is the recorded one (older state: the input).
        region = required_region(self.settings, inputs.region)
        api = _omics_api(self.settings, region)
        endpoint = custom_endpoint(self.settings, region)
        try:
            current = read_statuses(api, inputs.sequence_store_id, inputs.read_set_ids)
        except AwsCallError as err:
            if err.code != "ResourceNotFoundException":
                raise
            # No endpoint_url in state means AWS's standard endpoint: the SDK's provider server
            # drops None outputs (pulumi/runtime/rpc.py serialize_properties: "properties
            # that serialize to None" are treated "as if they don't exist"), and state older
            # than the record counts the same way, so it is never dropped through a custom one.
            recorded = props.get("endpoint_url") or None
            if recorded != endpoint:
                # Not where the resource was created: "not found" says nothing about the store.
                raise _not_found_elsewhere(inputs, region, endpoint, recorded) from None
            _say(inputs.resource_name, messages.store_gone(inputs.sequence_store_id, region))
            return ReadResult("", {})
        outs = carried_outputs(props)
        outs["region"] = region
        outs["endpoint_url"] = endpoint  # the store was found here: this is where it lives
        outs["not_active_read_set_statuses"] = {rid: s for rid, s in sorted(current.items()) if s != "ACTIVE"}
        return ReadResult(id_, outs)

    # -- delete -------------------------------------------------------------------------
    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Make no AWS change: HealthOmics has no API to archive or deactivate read sets."""
        name = props.get("resource_name") or DEFAULT_RESOURCE_NAME
        _say(name, messages.delete_changes_nothing())


def _omics_api(settings: ProviderSettings, region: Optional[str], credentials_timeout_s: Optional[float] = None,
               clock: Optional[Any] = None) -> OmicsApi:
    """An :class:`OmicsApi` for ``region`` (None: the provider configuration's) on the
    process's shared client (:func:`~omics_dynamic.aws.shared_client`: made once per
    region, profile, endpoint and credential source) and its shared request budget
    (:func:`~omics_dynamic.aws.shared_rate_budget`), on ``clock`` (default: real time at
    ``omics-dynamic:timeScale``).

    :param credentials_timeout_s: real seconds credential resolution may take (default
        ``omics-dynamic:credentialsTimeout``).
    :raises CredentialsTimeoutError: when it does not finish in time.
    :raises ConfigurationError: when no region can be found.
    """
    client = shared_client(settings, region, credentials_timeout_s=credentials_timeout_s)
    clock = clock or MonotonicClock(settings.time_scale)
    budget = shared_rate_budget(
        (client.meta.region_name, client.meta.endpoint_url, settings.time_scale),
        settings.rate_limit_per_s,
    )
    return OmicsApi(client, clock, budget)


def _live_api(settings: ProviderSettings, region: Optional[str], budget_s: float) -> OmicsApi:
    """An api for a bounded live lookup (diff's, check's): credential resolution and every
    call within ``budget_s`` seconds in all (scaled by ``omics-dynamic:timeScale``, on the
    provider's clock); credential resolution alone takes at most the smaller of
    ``omics-dynamic:credentialsTimeout`` and :data:`LIVE_CHECK_TIMEOUT_S` real seconds.

    :raises CredentialsTimeoutError: when credentials are not resolved in that time.
    :raises ConfigurationError: when no region can be found.
    """
    clock = MonotonicClock(settings.time_scale)
    started_s = clock.now()
    api = _omics_api(settings, region, min(settings.credentials_timeout_s, LIVE_CHECK_TIMEOUT_S), clock)
    api.bound(started_s + budget_s * settings.time_scale)
    return api


def _diff_region(settings: ProviderSettings, name: str, news: dict[str, Any], olds: dict[str, Any]) -> Optional[str]:
    """The effective region of ``news`` as create would resolve it; None when it is
    unknown or cannot be told (then diff keeps the recorded region, saying so)."""
    region = news.get("region")
    if _has_unknown(region):
        return None
    try:
        return effective_region(settings, region)
    except (OmicsDynamicError, botocore.exceptions.BotoCoreError) as err:
        _say(name, messages.region_unknown_warning(err, olds.get("region")))
        return None


def _not_found_elsewhere(inputs: ActivationInputs, region: str, endpoint: Optional[str],
                         recorded: Optional[str]) -> ConfigurationError:
    """Refresh's error when the store was not found through ``endpoint`` (None: AWS's
    standard one) but the resource was created through ``recorded``: "not found" says
    nothing about the store there, so the resource stays in state."""
    return ConfigurationError(
        f"{inputs.resource_name}: sequence store {inputs.sequence_store_id} was not found "
        f"in {region} through {_endpoint_text(endpoint)}, but this resource was created "
        f"through {_endpoint_text(recorded)}"
        + ("" if recorded else " (state records no custom endpoint)")
        + "; refresh keeps it in state. "
        "Point the provider back at that endpoint (omics-dynamic:endpoint, "
        "AWS_ENDPOINT_URL_OMICS, the AWS config file), or, if the store is really "
        "gone, remove the resource with `pulumi state delete <urn>`")


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _instant(value: Any) -> Optional[datetime.datetime]:
    """An ISO-8601 instant (``activated_at``) as an aware datetime; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        instant = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=datetime.timezone.utc)


def _endpoint_text(endpoint: Optional[str]) -> str:
    return f"the endpoint {endpoint}" if endpoint else "AWS's standard endpoint"
