"""omics_dynamic.cancellation's SIGINT watch, in a child process: a SIGINT that the kernel
hands to a thread other than the main one (any thread may take a process-directed signal)
must still end a server whose main thread sleeps in ``Event().wait()``, as the SDK's
``python -m pulumi.dynamic`` does. The signal is sent to a worker thread on purpose
(``signal.pthread_kill``), so the case is deterministic; on the CI machine it happened to
about one engine SIGINT in ten."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

CHILD = textwrap.dedent("""
    import os, signal, sys, threading, time
    import omics_dynamic.cancellation as cancellation

    def say(line):  # one write(2) of a whole line: lines of two threads never interleave
        os.write(1, (line + "\\n").encode())

    # Python's own SIGINT handler even where the parent left SIGINT ignored (a background
    # job of a non-interactive shell starts with SIG_IGN, and Python keeps it).
    signal.signal(signal.SIGINT, signal.default_int_handler)

    if sys.argv[1] == "watch":
        assert cancellation._watch_sigint()
        cancellation._hook_shutdown()

    def worker():
        time.sleep(0.3)
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)  # taken by this thread
        cancellation.CANCEL.wait(30)
        say("worker saw CANCEL")

    threading.Thread(target=worker).start()
    say("ready")
    try:
        threading.Event().wait()  # the SDK server's main thread
    except KeyboardInterrupt:
        say("main: KeyboardInterrupt, CANCEL set: " + str(cancellation.CANCEL.is_set()))
""")


def _run_child(mode: str, wait_s: float) -> tuple[float, list[str], bool]:
    """Run the child; ``(seconds from its "ready" line to its exit, output lines, hung)``."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, mode], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    first = proc.stdout.readline().rstrip("\n")  # after the imports, which take seconds
    t0 = time.monotonic()
    try:
        out, _ = proc.communicate(timeout=wait_s)
        return time.monotonic() - t0, [first, *out.splitlines()], False
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        return time.monotonic() - t0, [first, *out.splitlines()], True


def test_without_the_watch_a_sigint_taken_by_another_thread_leaves_the_main_thread_asleep():
    """The fault the watch exists for (CPython runs handlers only in the main thread, which
    nothing wakes)."""
    _, lines, hung = _run_child("bare", 3.0)
    assert hung and lines == ["ready"], lines


def test_the_watch_wakes_the_main_thread_and_sets_cancel():
    """The two threads' lines come in either order (each is one write), so they are compared
    as a set; the main thread says CANCEL was set before its KeyboardInterrupt (the watch
    sets it, then signals). No duration is asserted: 10 s is the hang detector, 20 times
    SIGINT_GRACE_S, not a measure of the machine's speed."""
    _, lines, hung = _run_child("watch", 10.0)
    assert not hung, lines
    assert lines[0] == "ready" and sorted(lines[1:]) == ["main: KeyboardInterrupt, CANCEL set: True",
                                                         "worker saw CANCEL"], lines
