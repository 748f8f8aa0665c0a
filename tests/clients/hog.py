"""A client written to be wrong, for the exam's tests: it downloads a flag
well (so it passes the exam's control), but spends 400 MB of memory on
any answer that is not a GIF before it reports the failure.

Usage: hog.py URL OUT
"""
import sys
import urllib.error
import urllib.request

url, out = sys.argv[1], sys.argv[2]
try:
    with urllib.request.urlopen(url, timeout=5) as answer:
        body = answer.read()
except (urllib.error.URLError, OSError):
    body = b""
if body.startswith(b"GIF8"):
    with open(out, "wb") as f:
        f.write(body)
    sys.exit(0)
ballast = bytearray(400_000_000)
for i in range(0, len(ballast), 4096):
    ballast[i] = 1
sys.exit(1)
