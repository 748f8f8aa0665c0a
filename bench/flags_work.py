#!/usr/bin/env python3
"""The Python reference of `flags bench`'s CPU-bound workload (W6).

Downloads flags from a flag server and gives each the same CPU work that
`flags get --work` gives it: a chain of FNV-1a hashes over the flag's
bytes, 1024 bytes a unit, run until it has cost the asked CPU time on the
computing thread's clock (time.thread_time). The same chain as
flags::work::chain, so that the real GIL and flags's model of it do the
same thing side by side.

    flags_work.py BASE DIR --work 0.05 --executor thread -m 20 CC...
    flags_work.py --digest FILE UNITS     # the chain's digest after UNITS units

The executor is `sequential`, `thread` (ThreadPoolExecutor) or `process`
(ProcessPoolExecutor). Each flag is downloaded, worked on and saved in a
worker, as flags_threadpool.py does. Standard library only. Exit 0 when
every flag was saved, 1 otherwise. With --json the summary is one JSON
line whose elapsed_s, timed from before the first download to the last
save, leaves out the interpreter's start and its imports.
"""

import argparse
import concurrent.futures as futures
import json
import os
import sys
import tempfile
import time
import urllib.request

WINDOW = 1024
BASIS = 0x811C9DC5
PRIME = 0x01000193
MASK = 0xFFFFFFFF


def prepared(flag):
    """The flag repeated so that any window from any start is one slice."""
    if not flag:
        flag = b"\0"
    copies = -(-WINDOW // len(flag)) + 1
    return flag * copies, len(flag)


def unit(ext, n, i, h):
    """Unit i of the chain, seeded with h: FNV-1a over WINDOW bytes."""
    start = (i * WINDOW) % n
    for b in ext[start:start + WINDOW]:
        h = ((h ^ b) * PRIME) & MASK
    return h


def digest(flag, units):
    ext, n = prepared(flag)
    h = BASIS
    for i in range(units):
        h = unit(ext, n, i, h)
    return h


def work(flag, budget):
    """Units of the chain until they cost `budget` s of this thread's CPU."""
    ext, n = prepared(flag)
    t0 = time.thread_time()
    h, i = BASIS, 0
    while True:
        h = unit(ext, n, i, h)
        i += 1
        if time.thread_time() - t0 >= budget:
            return i, h


def download_one(base, dest, cc, budget, timeout=20):
    cc = cc.lower()
    with urllib.request.urlopen(f"{base}/{cc}/{cc}.gif", timeout=timeout) as resp:
        flag = resp.read()
    if not (flag.startswith(b"GIF8") and flag.endswith(b";")):
        raise ValueError(f"{cc}: not a GIF")
    units, h = work(flag, budget)
    fd, tmp = tempfile.mkstemp(dir=dest, prefix=f".{cc}.", suffix=".part")
    with os.fdopen(fd, "wb") as out:
        out.write(flag)
    os.rename(tmp, os.path.join(dest, f"{cc}.gif"))
    return cc, units, h


def main(argv):
    if len(argv) == 3 and argv[0] == "--digest":
        with open(argv[1], "rb") as f:
            print(f"{digest(f.read(), int(argv[2])):08x}")
        return 0
    p = argparse.ArgumentParser(description="W6's Python reference: download, work, save.")
    p.add_argument("base")
    p.add_argument("dest")
    p.add_argument("codes", nargs="+")
    p.add_argument("--work", type=float, default=0.05, help="CPU seconds per flag")
    p.add_argument("--executor", choices=["sequential", "thread", "process"], default="thread")
    p.add_argument("-m", "--max-workers", type=int, default=20)
    p.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    a = p.parse_args(argv)
    os.makedirs(a.dest, exist_ok=True)
    t0 = time.perf_counter()
    ok = units = 0
    if a.executor == "sequential":
        results = (download_one(a.base, a.dest, cc, a.work) for cc in a.codes)
        for cc, n, _ in results:
            ok, units = ok + 1, units + n
    else:
        pool = futures.ThreadPoolExecutor if a.executor == "thread" else futures.ProcessPoolExecutor
        with pool(max_workers=a.max_workers) as executor:
            todo = [executor.submit(download_one, a.base, a.dest, cc, a.work) for cc in a.codes]
            for done in futures.as_completed(todo):
                try:
                    cc, n, _ = done.result()
                    ok, units = ok + 1, units + n
                except Exception as e:  # one flag's failure is reported, the rest go on
                    print(f"*** Error: {e}", file=sys.stderr)
    elapsed = time.perf_counter() - t0
    if a.json:
        print(json.dumps({"saved": ok, "units": units, "elapsed_s": elapsed, "executor": a.executor}))
    else:
        print(f"{ok} flags downloaded and worked on ({units} units), {elapsed:.2f}s, {a.executor}")
    return 0 if ok == len(a.codes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
