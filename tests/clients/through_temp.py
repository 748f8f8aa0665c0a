"""A client for the exam's tests that saves through a temporary name: it
downloads URL with Python's urllib into OUT.part, then renames it to OUT.
On an error it exits 1 and leaves OUT.part where it is.

Usage: through_temp.py URL OUT
"""
import os
import sys
import urllib.request

url, out = sys.argv[1], sys.argv[2]
part = out + ".part"
with open(part, "wb") as f:
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            f.write(answer.read())
    except Exception as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
os.replace(part, out)
