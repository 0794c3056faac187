"""CUPS watcher throughput: job-finished events per second when 500 jobs complete in a burst.

    .venv/bin/python bench/cups.py [--jobs 500]

500 one-page PDF jobs go to the lab's raw queue and are left to finish; then a fresh watcher
(subscribed before the burst, so it sees the notifications cupsd kept and catches up on the
rest with its scan) turns them all into events. Printed beside it, in the same run: the bare
Get-Job-Attributes rate on the same jobs, and the watcher's rate when the page count comes from
the submit-time option instead of Ghostscript, to show where the time goes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

# Run as a script, this file's directory comes first on sys.path, and this file is named
# cups.py: it would shadow pycups' `cups` module. Put the repository root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import structlog

from drivers.cups.attributes import PAGES_OPTION
from drivers.cups.client import TERMINAL_STATES, CupsClient
from drivers.cups.events import PrintJobFinished
from drivers.cups.pagecount import DocumentPages
from drivers.cups.watcher import Watcher
from lab.cups.cupsd import CupsLab
from lab.cups.documents import make_documents
from lab.cups.harness import lab_config, watch_until


def burst(lab: CupsLab, client: CupsClient, doc: Path, n: int) -> set[int]:
    ids = {client.print_file("raw", doc, f"bench {i}", {PAGES_OPTION: "1"}) for i in range(n)}
    while True:
        jobs = client.jobs_from(min(ids))
        if all(int(jobs[j]["job-state"]) in TERMINAL_STATES for j in ids):
            return ids
        time.sleep(0.05)


def events_rate(lab: CupsLab, ids: set[int], watcher: Watcher) -> float:
    ledger: dict[str, PrintJobFinished] = {}
    start = time.perf_counter()
    watch_until(watcher, ledger, ids, timeout=600)
    elapsed = time.perf_counter() - start
    assert {e.job_id for e in ledger.values()} >= ids
    return len(ids) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=500)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))  # warnings+
    with CupsLab() as lab:
        doc = make_documents(lab.dir / "docs")["1p-A4-mono"]
        client = CupsClient(str(lab.socket))
        config = lab_config(lab, catchup_interval=3600)  # only the start/gap scans

        results = {}
        for label, counter in (("gs", None), ("submit-option", lambda paths: [DocumentPages(p, None) for p in paths])):
            watcher = Watcher(config) if counter is None else Watcher(config,
                                                                      page_counter=counter)
            watcher.step()  # subscribed before the burst
            t0 = time.perf_counter()
            ids = burst(lab, client, doc, args.jobs)
            burst_s = time.perf_counter() - t0
            results[label] = events_rate(lab, ids, watcher)
            watcher.close()

        start = time.perf_counter()
        for job_id in ids:
            client.job_attributes(job_id)
        bare = len(ids) / (time.perf_counter() - start)

    print(f"cups: {args.jobs} raw-queue jobs, burst submitted+completed in {burst_s:.1f} s")
    print(f"cups: bare Get-Job-Attributes           {bare:9.0f} /s")
    print(f"cups: events, pages counted with gs     {results['gs']:9.1f} /s "
          f"(ratio to bare {results['gs'] / bare:.4f})")
    print(f"cups: events, pages from submit option  {results['submit-option']:9.1f} /s "
          f"(ratio to bare {results['submit-option'] / bare:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
