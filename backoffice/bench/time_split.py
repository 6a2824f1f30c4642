"""Where a benchmark's time goes: CPU of PostgreSQL, of the workers and of this process, and what the database waits on.

CPU comes from Linux's process accounting (``/proc``), read before and after the timed block:
PostgreSQL's is every ``postgres`` process's own time plus the postmaster's reaped children (a
backend that exits during the block is counted there), the workers' is each worker process's.
What the database waits on is sampled: every ``interval`` seconds, a thread of its own reads
``pg_stat_activity`` for this database's other active backends and counts each one as running on
CPU (no wait event), waiting for a lock (``Lock``: a row or table lock another transaction
holds), for an internal lock (``LWLock``), for I/O (``IO``) or for something else. Counts times
the interval are backend-seconds, an estimate as good as the sampling rate.
"""

import contextlib
import os
import resource
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from django.db import connection, connections

_TICK = os.sysconf("SC_CLK_TCK")
_PROC = Path("/proc")
_SAMPLE = """
    SELECT coalesce(wait_event_type, 'CPU'), count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
    GROUP BY 1
"""


def _stat_fields(pid: int) -> list[str] | None:
    """Return the fields of ``/proc/<pid>/stat`` after the command name, or None if it has gone."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return text[text.rindex(")") + 2 :].split()


def process_cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """Return the user and system CPU seconds of process ``pid`` (0 if it has gone), with its reaped children's."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    # After the name: state is field 3 of stat(5), so utime (14) and stime (15) sit at 11 and 12 here.
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICK


def postgres_cpu_seconds() -> float | None:
    """Return the CPU seconds of this machine's PostgreSQL so far, or None when it runs elsewhere."""
    total, seen = 0.0, False
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if name != "postgres":
            continue
        fields = _stat_fields(int(entry.name))
        if fields is None:
            continue
        seen = True
        # The postmaster (its parent is not postgres) carries the CPU of backends that exited.
        total += process_cpu_seconds(int(entry.name), reaped_children=_is_postmaster(int(fields[1])))
    return total if seen else None


def _is_postmaster(parent: int) -> bool:
    try:
        return (_PROC / str(parent) / "comm").read_text().strip() != "postgres"
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return True


def machine_busy_seconds() -> tuple[float, float]:
    """Return this machine's busy and total CPU seconds since boot, over all cores (``/proc/stat``)."""
    values = [int(v) for v in (_PROC / "stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle and iowait
    total = sum(values[:8])
    return (total - idle) / _TICK, total / _TICK


class TimeSplit:
    """The figures of one timed block; ``figures()`` once the block has ended."""

    def __init__(self, worker_pids: list[int], interval: float) -> None:
        self.worker_pids = worker_pids
        self.interval = interval
        self.waits: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()

    def _sample(self) -> None:
        try:
            with connections["default"].temporary_connection() as cursor:
                while not self._stop.wait(self.interval):
                    cursor.execute(_SAMPLE)
                    self.samples += 1
                    for kind, count in cursor.fetchall():
                        self.waits[kind] += count
        finally:
            connections.close_all()

    def start(self) -> None:
        self._wall = time.perf_counter()
        self._self = resource.getrusage(resource.RUSAGE_SELF)
        self._db = postgres_cpu_seconds() if connection.vendor == "postgresql" else None
        self._workers = sum(process_cpu_seconds(pid) for pid in self.worker_pids)
        self._machine = machine_busy_seconds()
        self._thread = None
        if connection.vendor == "postgresql":
            self._thread = threading.Thread(target=self._sample, name="bench-wait-sampler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        wall = time.perf_counter() - self._wall
        mine = resource.getrusage(resource.RUSAGE_SELF)
        db = postgres_cpu_seconds() if self._db is not None else None
        busy, total = machine_busy_seconds()
        self.result = {
            "wall_seconds": round(wall, 2),
            "cores": os.cpu_count(),
            "machine_busy_share": round((busy - self._machine[0]) / max(total - self._machine[1], 1e-9), 3),
            "database_cpu_seconds": None if db is None else round(db - self._db, 2),
            "workers_cpu_seconds": round(sum(process_cpu_seconds(pid) for pid in self.worker_pids) - self._workers, 2),
            "coordinator_cpu_seconds": round(
                mine.ru_utime + mine.ru_stime - self._self.ru_utime - self._self.ru_stime, 2
            ),
            # Backend-seconds by what the database's active backends were doing, from the samples.
            "database_backend_seconds": {kind: round(n * self.interval, 1) for kind, n in sorted(self.waits.items())},
            "lock_wait_seconds": round(self.waits.get("Lock", 0) * self.interval, 1),
        }

    def figures(self) -> dict:
        return self.result


@contextlib.contextmanager
def time_split(worker_pids: list[int] = (), *, interval: float = 0.2) -> Iterator[TimeSplit]:
    """Measure the block: ``with time_split(pids) as split: ...`` then ``split.figures()``."""
    split = TimeSplit(list(worker_pids), interval)
    split.start()
    try:
        yield split
    finally:
        split.stop()
