"""The shape of the book's flags_threadpool.py, with the standard library
only, for the server-timeline test: ThreadPoolExecutor(max_workers=6)
downloads the codes from BASE into the working directory, one urllib
request (one connection) per flag. It prints, as JSON, when each request
started and ended, in seconds since the first started.

Usage: pool6.py BASE CC...
"""
import json
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

base, codes = sys.argv[1], sys.argv[2:]
t0 = time.monotonic()


def get(cc):
    start = time.monotonic() - t0
    with urllib.request.urlopen(f"{base}/{cc}/{cc}.gif", timeout=10) as answer:
        image = answer.read()
    with open(f"{cc}.gif", "wb") as f:
        f.write(image)
    return start, time.monotonic() - t0


with ThreadPoolExecutor(max_workers=6) as pool:
    times = list(pool.map(get, codes))
print(json.dumps(times))
