"""Process pools whose workers never outlive the process that started them.

A ``kill -9`` of an ingest (or a scan, an eval run) gives its process no chance to stop its pool:
the workers sat idle forever, and with them multiprocessing's resource tracker, which lives as long
as any process holds its pipe. Every pool of llmscope is made here, and each worker, first thing:

* asks Linux to kill it when its parent dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``; the signal comes
  when the *thread* that started the worker ends, so pools are made and used by one thread);
* watches its parent's pid from a thread, and exits when it changes (other systems, and the race of a
  parent dying before the ``prctl``).

    >>> from llmscope.pools import process_pool
    >>> with process_pool(2) as pool:
    ...     list(pool.map(abs, [-1, -2]))
    [1, 2]
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_INTERVAL_S = 1.0


def process_pool(
    max_workers: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple = (),
    *,
    thread_bound: bool = True,
) -> ProcessPoolExecutor:
    """A spawn-context pool (workers share nothing with this process's threads) whose workers exit
    when this process dies; ``initializer(*initargs)`` runs in each after that is arranged.

    ``thread_bound``: the pool is made, used and shut down by one thread (the workers start as tasks
    are submitted, and Linux's parent-death signal follows the thread that started them). A pool fed
    from many short-lived threads passes False: its workers then rely on the pid watchdog alone."""
    return ProcessPoolExecutor(
        max_workers=max_workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init,
        initargs=(os.getpid(), thread_bound, initializer, initargs),
    )


def _init(parent: int, thread_bound: bool, initializer: Callable[..., None] | None, initargs: tuple) -> None:
    die_with_parent(parent, signal_on_death=thread_bound)
    from .result import arrow_without_pandas

    arrow_without_pandas()  # workers hand back Arrow batches and rows, never DataFrames
    if initializer is not None:
        initializer(*initargs)


def die_with_parent(parent: int | None = None, signal_on_death: bool = True) -> None:
    """In a child process: exit when ``parent`` (default: the current parent) is gone."""
    parent = os.getppid() if parent is None else parent
    if signal_on_death and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no libc to call: the watchdog alone
            pass
    if os.getppid() != parent:  # died before the prctl took effect
        os._exit(0)
    threading.Thread(target=_watch, args=(parent,), name="llmscope-parent-watch", daemon=True).start()


def _watch(parent: int) -> None:
    while True:
        time.sleep(WATCH_INTERVAL_S)
        if os.getppid() != parent:
            os._exit(0)


__all__ = ["process_pool", "die_with_parent"]
