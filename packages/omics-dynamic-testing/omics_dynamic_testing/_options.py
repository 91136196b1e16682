"""The options of the engine-role harness: one object that ``EngineHarness`` and
``run_program`` share.

They say how the harness starts the provider process (``python -u -m pulumi.dynamic``,
design.md section 2, rule 1), what it configures it with (rule 2) and how long it waits.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Optional


@dataclass
class HarnessOptions:
    """How the harness runs a stack's provider process.

    Args:
        stack: stack name, used in URNs and the state file.
        project: project name, used in URNs and ``PULUMI_PROJECT``. None: ``EngineHarness``
            uses "project"; ``run_program`` uses ``name`` in the program's ``Pulumi.yaml``,
            else "project".
        config: stack config, namespaced keys (``aws:region``, ``<project>:key``,
            ``omics-dynamic:endpoint``); non-string values are sent as JSON strings. Sent in
            Configure (rule 2); ``run_program`` also sets it for ``pulumi.Config()``.
        secret_config_keys: config keys sent as secrets in Configure.
        env: extra environment variables for the provider process.
        extra_pythonpath: extra ``PYTHONPATH`` entries for the provider process (and, in
            ``run_program``, ``sys.path`` entries for the program).
        python: interpreter for the provider process (default ``sys.executable``).
        start_timeout_s: bound on waiting for the provider's port line, seconds.
        timeout_s: optional safety bound per RPC, seconds (the engine sets no deadline,
            rule 10; None = wait forever, as the engine does).
        on_stderr_line: optional callable(str) called with each line the provider process
            prints to stderr, as it comes (rule 13; from a drain thread).
    """

    stack: str = "dev"
    project: Optional[str] = None
    config: dict[str, Any] = field(default_factory=dict)
    secret_config_keys: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    extra_pythonpath: list[str] = field(default_factory=list)
    python: str = sys.executable
    start_timeout_s: float = 30.0
    timeout_s: Optional[float] = None
    on_stderr_line: Optional[Callable[[str], None]] = None

    @classmethod
    def build(cls, options: Optional[HarnessOptions] = None, **fields: Any) -> HarnessOptions:
        """A new options object: ``options`` (default: every default) with ``fields``
        replaced, e.g. ``HarnessOptions.build(base, timeout_s=60)``. The containers are
        copied (``config=None`` or ``env=None`` mean empty), so a harness owns its own and
        changing one (``harness.config["aws:region"] = ...``) changes no other.

        Raises:
            TypeError: a name in ``fields`` is not a field of HarnessOptions (the message
                lists the fields).
        """
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(fields) - set(names))
        if unknown:
            raise TypeError(f"unknown harness option(s) {', '.join(unknown)}; the options are: {', '.join(names)}")
        built = dataclasses.replace(options if options is not None else cls(), **fields)
        built.config = dict(built.config or {})
        built.secret_config_keys = list(built.secret_config_keys or ())
        built.env = dict(built.env or {})
        built.extra_pythonpath = list(built.extra_pythonpath or ())
        return built
