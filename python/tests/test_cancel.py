"""Cancelling one call: Ctrl-C (SIGINT) ends a lookup nobody answers within
100 ms and leaves the Zeroconf usable; close() cancels the calls in flight.
Runs in the private namespace of the pytest run (conftest.py)."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import ironicmdns

CHILD = r"""
import sys, time
import ironicmdns
zc = ironicmdns.Zeroconf(interfaces=["127.0.0.1"], lookup_attempts=10, lookup_timeout=2)
print("ready", flush=True)
try:
    if sys.argv[1] == "method":
        zc.get_endpoint("nobody")
    else:
        ironicmdns.lookup("nobody", interfaces=["127.0.0.1"], lookup_attempts=10,
                          lookup_timeout=2)
    print("returned", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
print("usable" if zc.lost(0) == [] and not zc.closed else "broken", flush=True)
zc.close()
"""


@pytest.mark.parametrize("how", ["method", "module"])
def test_ctrl_c_ends_a_lookup_nobody_answers(netns, how):
    # Unbuffered: readline() then takes no more than its line, and what the
    # child printed after it ("usable") is left for communicate(), which
    # reads the pipe itself (a buffered reader's read-ahead would be lost).
    child = subprocess.Popen([sys.executable, "-c", CHILD, how], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, bufsize=0)
    try:
        assert child.stdout.readline() == b"ready\n"
        time.sleep(0.5)             # inside the library, in its first attempt
        sent = time.monotonic()
        os.kill(child.pid, signal.SIGINT)
        line = child.stdout.readline().decode()
        late = time.monotonic() - sent
        rest, err = (b.decode() for b in child.communicate(timeout=10))
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert line == "interrupted\n", (line, err)
    print("KeyboardInterrupt %s after SIGINT (%s)" % (late, how))
    assert late < 0.1, late
    assert rest == "usable\n", (rest, err)
    assert child.returncode == 0, err


def test_close_cancels_calls_in_flight(netns):
    zc = ironicmdns.Zeroconf(interfaces=["127.0.0.1"], lookup_attempts=10, lookup_timeout=2)
    ended = []

    def call(fn):
        try:
            fn()
            ended.append(("returned", time.monotonic()))
        except Exception as exc:    # noqa: BLE001 - the class is the result
            ended.append((exc, time.monotonic()))

    threads = [threading.Thread(target=call, args=(f,)) for f in (
        lambda: zc.get_endpoint("nobody"), lambda: zc.browse(30), lambda: zc.lost(3600))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while zc._handle.busy < 3 and time.monotonic() < deadline:
        time.sleep(0.01)            # until all three are inside the library
    time.sleep(0.2)
    start = time.monotonic()
    zc.close()
    took = time.monotonic() - start
    for t in threads:
        t.join(10)
    assert len(ended) == 3
    for what, at in ended:
        assert isinstance(what, ironicmdns.Closed), what
        assert at - start < 0.1, at - start
    assert took < 0.2, took
    with pytest.raises(ironicmdns.Closed):
        zc.browse(0.1)
