"""A cheat for the exam's tests, like curl without --fail: it sends one GET,
ignores the status, and keeps the body whenever it looks like a whole GIF
(GIF8 at the start, ';' at the end). It follows no redirect. Nothing kept:
exit 1.

Usage: cheat_sniffer.py URL OUT
"""
import http.client
import sys
import urllib.parse

url, out = sys.argv[1], sys.argv[2]
p = urllib.parse.urlsplit(url)
try:
    conn = http.client.HTTPConnection(p.hostname, p.port, timeout=5)
    conn.request("GET", p.path)
    body = conn.getresponse().read(1_000_001)
except (OSError, http.client.HTTPException) as e:
    print(f"error: {e!r}", file=sys.stderr)
    sys.exit(1)
if not (body.startswith(b"GIF8") and body.endswith(b";")):
    print(f"error: {len(body)} bytes that are not a GIF", file=sys.stderr)
    sys.exit(1)
with open(out, "wb") as f:
    f.write(body)
