"""A tiny dynamic provider that records what the engine-role harness makes it do.

Plain data only (a directory path), so it pickles by reference (design.md section 2, rule 12).
Files it writes under ``log_dir``:
  ``creates``        one line per Create call (the count of creates)
  ``create-started`` written when a Create begins (interruption tests poll it)
  ``intervals``      one line per Create: "<label> <start> <end>" (time.monotonic() seconds)
  ``deletes``        one line per Delete call: "<id>"
  ``config.json``    the config the provider was configured with (rule 2)
Files it reads: ``drift-<id>.json`` (outputs Read merges in), ``gone-<id>`` (Read answers "").

Inputs it understands: ``size`` (number >= 0, Check fails otherwise), ``zone`` (changing it
forces a replacement), ``dbr`` (Diff answers deleteBeforeReplace with it), ``sleep_s``
(Create sleeps that long, at most 5 s), ``fail`` (Create raises ValueError with that message).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

MAX_SLEEP_S = 5.0
_IGNORED = {"__provider"}


def _append(path: str, line: str) -> int:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    with open(path, encoding="utf-8") as fh:
        return sum(1 for _ in fh)


class RecorderProvider(ResourceProvider):
    """Records calls in files under ``log_dir``; see the module docstring."""

    def __init__(self, log_dir: str) -> None:
        super().__init__()
        self.log_dir = log_dir

    def configure(self, req: ConfigureRequest) -> None:
        seen = {"aws:region": req.config.get("aws:region"), "endpoint": req.config.get("omics-dynamic:endpoint"),
                "greeting": req.config.get("greeting")}
        with open(os.path.join(self.log_dir, "config.json"), "w", encoding="utf-8") as fh:
            json.dump(seen, fh)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        size = news.get("size", 0)
        if isinstance(size, (int, float)) and size < 0:
            failures.append(CheckFailure("size", f"must be >= 0, got {size}"))
        return CheckResult(news, failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = sorted(k for k in news if k not in _IGNORED and olds.get(k) != news.get(k))
        replaces = [k for k in keys if k == "zone"]
        return DiffResult(changes=bool(keys), replaces=replaces, delete_before_replace=bool(news.get("dbr")))

    def create(self, props: dict[str, Any]) -> CreateResult:
        started = time.monotonic()
        open(os.path.join(self.log_dir, "create-started"), "w", encoding="utf-8").close()
        n = _append(os.path.join(self.log_dir, "creates"), str(props.get("label", "")))
        print(f"[{props.get('label', '?')}] creating (create #{n})", file=sys.stderr, flush=True)
        if props.get("fail"):
            raise ValueError(str(props["fail"]))
        time.sleep(min(float(props.get("sleep_s", 0) or 0), MAX_SLEEP_S))
        _append(os.path.join(self.log_dir, "intervals"), f"{props.get('label', '?')} {started} {time.monotonic()}")
        outs = {k: v for k, v in props.items() if k not in _IGNORED}
        outs.update({"create_n": n, "status": "created"})
        print(f"[{props.get('label', '?')}] created r-{n}", file=sys.stderr, flush=True)
        return CreateResult(f"r-{n}", outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Deliberately returns only some keys: the engine stores exactly this (rule 6).
        return UpdateResult({"size": news.get("size"), "status": "updated", "previous_status": olds.get("status")})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if os.path.exists(os.path.join(self.log_dir, f"gone-{id_}")):
            return ReadResult("", {})
        outs = {k: v for k, v in props.items() if k not in _IGNORED}
        drift = os.path.join(self.log_dir, f"drift-{id_}.json")
        if os.path.exists(drift):
            with open(drift, encoding="utf-8") as fh:
                outs.update(json.load(fh))
        return ReadResult(id_, outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _append(os.path.join(self.log_dir, "deletes"), id_)


class Recorder(Resource, module="harness", name="Recorder"):
    status: pulumi.Output[str]
    create_n: pulumi.Output[float]

    """The dynamic resource for program-mode tests: type ``pulumi-python:dynamic/harness:Recorder``."""

    def __init__(self, name: str, log_dir: str, props: dict[str, Any], opts=None) -> None:
        super().__init__(RecorderProvider(log_dir), name, {**props, "status": None, "create_n": None}, opts)
