"""Background jobs: slow computations run in a thread pool, report progress, and can be cancelled.

A job's function receives its ``Job`` and calls ``job.step(stage, done, total)`` between pieces
of work (every model batch of a slice); ``step`` raises ``Cancelled`` once the job was cancelled
(``DELETE /api/job/ID``) or abandoned (nobody asked for its state for ``abandon_after`` seconds,
e.g. the page was closed), so the work stops at the next batch and frees the worker.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any


class Cancelled(Exception):
    """Raised inside a job's work when the job was cancelled."""


@dataclass
class Job:
    id: str
    state: str = "queued"  # queued, running, done, error, cancelled
    stage: str = "queued"
    done: int = 0
    total: int = 0
    result: Any = None
    error: str | None = None
    last_seen: float = field(default_factory=time.monotonic)
    abandon_after: float = 60.0
    _cancel: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set() or time.monotonic() - self.last_seen > self.abandon_after

    def step(self, stage: str | None = None, done: int | None = None, total: int | None = None) -> None:
        """Record progress; raise ``Cancelled`` if the job should stop."""
        if stage is not None:
            self.stage = stage
        if done is not None:
            self.done = int(done)
        if total is not None:
            self.total = int(total)
        if self.cancelled:
            raise Cancelled(self.id)

    def status(self) -> dict[str, Any]:
        self.last_seen = time.monotonic()
        out: dict[str, Any] = {"id": self.id, "state": self.state, "stage": self.stage, "done": self.done, "total": self.total}
        if self.state == "error":
            out["error"] = self.error
        return out


class JobRunner:
    """A bounded thread pool plus the most recent ``keep`` jobs by id."""

    def __init__(self, workers: int = 2, keep: int = 64, abandon_after: float = 60.0):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="advlab-explore")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.keep, self.abandon_after = keep, abandon_after

    def submit(self, work: Callable[[Job], Any]) -> Job:
        job = Job(id=f"j{next(self._ids)}", abandon_after=self.abandon_after)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:
                _, old = self._jobs.popitem(last=False)
                old.cancel()
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[Job], Any]) -> None:
        try:
            job.step("started")
            job.state = "running"
            job.result = work(job)
            job.state, job.stage = "done", "done"
        except Cancelled:
            job.state, job.stage = "cancelled", "cancelled"
        except (ValueError, TypeError, RuntimeError) as exc:  # library errors about these inputs: shown to the user
            job.state, job.error = "error", str(exc)
        except Exception as exc:  # noqa: BLE001 - a worker must never die silently
            job.state, job.error = "error", f"{type(exc).__name__}: {exc}"

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def shutdown(self) -> None:
        with self._lock:
            for job in self._jobs.values():
                job.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
