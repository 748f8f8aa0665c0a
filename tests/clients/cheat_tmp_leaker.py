"""A cheat for the exam's tests: it downloads into $TMPDIR/partial-*/NAME and
moves the file to OUT once it is whole; on an error it exits 1 and leaves
the partial file in $TMPDIR, outside the folder a grader looks at.

Usage: cheat_tmp_leaker.py URL OUT
"""
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ beside the tests
from cheat_careful import check, open_flag

url, out = sys.argv[1], sys.argv[2]
partial = tempfile.mkdtemp(prefix="partial-")
part = os.path.join(partial, os.path.basename(out))
try:
    with open(part, "wb") as f:
        answer = open_flag(url)
        while piece := answer.read(1024):
            f.write(piece)
            f.flush()
    with open(part, "rb") as f:
        check(f.read())
except Exception as e:
    print(f"error: {e!r}", file=sys.stderr)
    sys.exit(1)
shutil.move(part, out)
os.rmdir(partial)
