"""The provider server process, launched the way the engine launches it (design.md section 2, rule 1).

``<python> -u -m pulumi.dynamic <engine-address>`` with the project directory as working
directory; the gRPC port is the first stdout line. The SDK server binds ``127.0.0.1:0``
itself (loopback only) and ignores the engine-address argument, so the harness passes a
harmless placeholder (``127.0.0.1:0``) and runs no engine gRPC service.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from typing import Mapping, Optional, Sequence

import grpc
from pulumi.runtime.proto import provider_pb2_grpc

from ._errors import ProviderStartError

#: Passed as the engine-address argument; ``pulumi/dynamic/__main__.py`` never reads it.
ENGINE_ADDRESS_PLACEHOLDER = "127.0.0.1:0"


def _sigint_ignored() -> bool:
    """True when this process ignores SIGINT (started with ``nohup``, ``cmd &`` from a
    non-interactive shell, some CI runners): a child would inherit SIG_IGN."""
    return signal.getsignal(signal.SIGINT) == signal.SIG_IGN


def _default_sigint() -> None:
    """In the child, before exec: SIGINT back to its default action. The CLI handles
    SIGINT itself (``signal.Notify``), and Go resets handled signals to the default in the
    processes it starts (``runtime.clearSignalHandlers``), so a real provider always gets
    SIGINT; the engine's second Ctrl-C relies on it (design.md section 2, rule 16)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


#: gRPC's default limit is 4 MB; the engine and the SDK's server use 400 MB.
_MAX_MESSAGE_OPTIONS = [("grpc.max_receive_message_length", 400 * 1024 * 1024),
                        ("grpc.max_send_message_length", 400 * 1024 * 1024)]


class ProviderServer:
    """One ``python -u -m pulumi.dynamic`` process and a gRPC stub connected to it.

    One instance serves one preview/up/refresh/destroy (rule 1). stdout and stderr are
    drained continuously by two daemon threads so the process never blocks on a full pipe;
    lines are kept in ``stdout_lines`` / ``stderr_lines`` (list[str], without newline), which
    is where a provider's progress lines land (rule 13: the engine shows them as info
    messages under the stack).

    Args:
        project_dir: working directory of the process (so project modules import, rule 1).
        python: interpreter path (default ``sys.executable``).
        extra_pythonpath: entries prepended to ``PYTHONPATH``.
        env: extra environment variables (added to a copy of ``os.environ``).
        project: value for ``PULUMI_PROJECT``, which the SDK server reads to build the
            ``Config`` it hands to ``ResourceProvider.configure``.
        start_timeout_s: bound on the wait for the port line, seconds.
        on_stderr_line: optional callable(str) called from the drain thread per line.

    Raises:
        ProviderStartError: the process exited or printed no port within ``start_timeout_s``
            (message carries the captured stderr).
    """

    def __init__(
        self,
        project_dir: str,
        *,
        python: str = sys.executable,
        extra_pythonpath: Sequence[str] = (),
        env: Optional[Mapping[str, str]] = None,
        project: str = "project",
        start_timeout_s: float = 30.0,
        on_stderr_line=None,
    ) -> None:
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        self._on_stderr_line = on_stderr_line
        self._port_q: queue.Queue[Optional[str]] = queue.Queue()
        proc_env = dict(os.environ)
        proc_env.update(env or {})
        proc_env.setdefault("PULUMI_PROJECT", project)
        paths = [str(p) for p in extra_pythonpath] + [str(project_dir)]
        if proc_env.get("PYTHONPATH"):
            paths.append(proc_env["PYTHONPATH"])
        proc_env["PYTHONPATH"] = os.pathsep.join(paths)
        self.argv = [python, "-u", "-m", "pulumi.dynamic", ENGINE_ADDRESS_PLACEHOLDER]
        # The engine starts plugins in their own process group (cmdutil.RegisterProcessGroup:
        # Setpgid), so a terminal's Ctrl-C does not reach them; a new session does the same.
        self.process = subprocess.Popen(
            self.argv,
            cwd=str(project_dir),
            env=proc_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_default_sigint if _sigint_ignored() else None,
        )
        self._threads = [
            threading.Thread(target=self._drain_stdout, daemon=True, name="provider-stdout"),
            threading.Thread(target=self._drain_stderr, daemon=True, name="provider-stderr"),
        ]
        for t in self._threads:
            t.start()
        self.port = self._wait_for_port(start_timeout_s)
        self.address = f"127.0.0.1:{self.port}"
        # The engine dials providers with rpcutil.GrpcChannelOptions() (400 MB answers,
        # sdk/go/common/util/rpcutil/serve.go; provider_plugin.go), as the SDK's server
        # does (_GRPC_CHANNEL_OPTIONS).
        self.channel = grpc.insecure_channel(self.address, options=_MAX_MESSAGE_OPTIONS)
        try:
            grpc.channel_ready_future(self.channel).result(timeout=start_timeout_s)
        except grpc.FutureTimeoutError:
            self.kill()
            raise ProviderStartError(
                f"engine-role harness: provider server at {self.address} not reachable within "
                f"start_timeout_s={start_timeout_s}",
                self.stderr_lines,
            ) from None
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def _drain_stdout(self) -> None:
        first = True
        assert self.process.stdout is not None
        for raw in iter(self.process.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if first:
                self._port_q.put(line)
                first = False
            self.stdout_lines.append(line)
        if first:
            self._port_q.put(None)

    def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        for raw in iter(self.process.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.stderr_lines.append(line)
            if self._on_stderr_line is not None:
                self._on_stderr_line(line)

    def _wait_for_port(self, start_timeout_s: float) -> int:
        try:
            line = self._port_q.get(timeout=start_timeout_s)
        except queue.Empty:
            self.kill()
            raise ProviderStartError(
                f"engine-role harness: provider server printed no port within "
                f"start_timeout_s={start_timeout_s} ({' '.join(self.argv)})",
                self.stderr_lines,
            ) from None
        if line is None or not line.strip().isdigit():
            self.process.wait(timeout=5)
            self._join_drains(2.0)
            self.kill()
            raise ProviderStartError(
                f"engine-role harness: provider server exited (code {self.process.returncode}) "
                f"before printing its port; first stdout line: {line!r}",
                self.stderr_lines,
            )
        return int(line.strip())

    def _join_drains(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the process (a killed ``pulumi up``, rule 9) and wait up to 5 s for it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # not expected: SIGKILL cannot be ignored
            pass
        self._close_channel()
        self._join_drains(2.0)

    def interrupt_group(self, grace_s: float = 5.0) -> tuple[float, bool]:
        """What the engine's ``Plugin.Kill`` does (``pkg/resource/plugin/plugin.go``): SIGINT to
        the plugin's process group (``cmdutil.InterruptChildren``), wait ``grace_s`` seconds
        (the engine waits 5), then SIGKILL.

        Returns:
            (seconds until the process exited, True if SIGKILL was needed).
        """
        started = time.monotonic()
        sigkilled = False
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                sigkilled = True
                self.process.kill()
                self.process.wait(timeout=5)
        exit_s = time.monotonic() - started
        self._close_channel()
        self._join_drains(2.0)
        return exit_s, sigkilled

    def stop(self, grace_s: float = 2.0) -> None:
        """Stop the process: SIGTERM, then SIGKILL after ``grace_s`` seconds.

        The engine kills plugins when an operation ends; the SDK server has no shutdown RPC.
        """
        self._close_channel()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._join_drains(2.0)

    def _close_channel(self) -> None:
        channel = getattr(self, "channel", None)
        if channel is not None:
            channel.close()
            self.channel = None

    def __enter__(self) -> ProviderServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
