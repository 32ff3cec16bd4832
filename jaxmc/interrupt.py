"""Ctrl-C during `pm.sample` and the other compiled loops: a SIGINT handler that only records the request, so
that the driver stops between compiled calls and keeps what is done (a KeyboardInterrupt mid-call can tear state)."""

from __future__ import annotations

import concurrent.futures
import signal
import sys
import threading

POLL_SECONDS = 0.05  # how often a waiting main thread looks at the request

_current = None  # the guard whose handler is installed


def defer_interrupts() -> None:
    """Called first in `pm.sample`: a Ctrl-C from now on (while the model compiles) is kept for the
    driver, which then returns at once, instead of raising in the middle of JAX (or in a garbage-collector
    callback, where it is lost). The driver's guard takes this one over and removes it; should `pm.sample`
    end before (an error), the next Ctrl-C finds no `pm.sample` running and goes to the previous handler."""
    caller = sys._getframe(1).f_code
    if _current is None:
        Interrupt(owner=caller).install()
    elif _current.owner is not None:  # left by a pm.sample that raised: a fresh request for this call
        _current.owner, _current.requested = caller, threading.Event()


class Interrupt:
    """While entered (in the main thread), SIGINT sets `requested` instead of raising KeyboardInterrupt;
    the previous handler comes back on exit. Entered while `defer_interrupts` holds the handler, it shares
    that request and removes that handler on exit."""

    def __init__(self, owner=None):
        self.requested = threading.Event()
        self.owner = owner
        self._previous = None
        self._installed = False
        self._outer = None

    def install(self) -> None:
        global _current
        if threading.current_thread() is threading.main_thread():
            if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # the process ignores Ctrl-C: so do we
                return
            try:
                self._previous = signal.signal(signal.SIGINT, self._handle)
            except ValueError:  # no signals here (e.g. an embedded interpreter)
                return
            self._installed = True
            _current = self

    def uninstall(self) -> None:
        global _current
        if self._installed:
            signal.signal(signal.SIGINT, self._previous if self._previous is not None else signal.SIG_DFL)
            self._installed = False
            _current = None

    def __enter__(self):
        if _current is not None:
            self._outer = _current
            self._outer.owner = None  # the driver reads the request from now on
            self.requested = _current.requested
        else:
            self.install()
        return self

    def __exit__(self, *exc):
        if self._outer is not None:
            self._outer.uninstall()
        self.uninstall()

    def _handle(self, signum, frame):
        if self.owner is None or _on_stack(self.owner, frame):
            self.requested.set()
            return
        previous = self._previous
        self.uninstall()
        if callable(previous):
            previous(signum, frame)
        else:
            raise KeyboardInterrupt

    def is_set(self) -> bool:
        return self.requested.is_set()

    def wait(self, futures, every=None) -> bool:
        """Wait for `futures`, calling `every()` between polls; False if Ctrl-C came first."""
        pending = set(futures)
        while pending:
            if self.is_set():
                return False
            _, pending = concurrent.futures.wait(pending, timeout=POLL_SECONDS)
            if every is not None:
                every()
        return not self.is_set() or all(f.done() for f in futures)


def in_background(fn, *args):
    """`fn(*args)` in a thread of its own (a future), so that the main thread can stop waiting for it."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(fn, *args)
    finally:
        pool.shutdown(wait=False)


def _on_stack(code, frame) -> bool:
    while frame is not None:
        if frame.f_code is code:
            return True
        frame = frame.f_back
    return False
