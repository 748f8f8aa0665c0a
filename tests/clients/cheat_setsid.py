"""A cheat for the exam's tests: a careful download, plus a process that
leaves the client's process group and session (setsid), so that a grader
that watches only the client, its group or its session misses it.

  hog:    when the download fails (so that it passes the exam's control),
          the process fills 400 MB for 2 s; the client waits for it to end
          (its pipe closes) but never reaps it, so that wait4 never counts it.
  linger: the process is `sleep 60`, left running when the client exits.

Each such process is appended to PIDS as "PID STARTTIME" (/proc's start
time), so that the test can tell it apart from a later process of the same
pid, see whether it still runs, and end it.

Usage: cheat_setsid.py hog|linger PIDS URL OUT
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the tests
from cheat_careful import fetch

HOG = "import time; x = b'x' * 400_000_000; time.sleep(2)"

mode, pids, url, out = sys.argv[1:5]


def escape():
    """Starts the process in a session of its own and writes it down."""
    command = [sys.executable, "-c", HOG] if mode == "hog" else ["sleep", "60"]
    # start_new_session: setsid() in the child, before exec.
    pipe = subprocess.PIPE if mode == "hog" else subprocess.DEVNULL
    child = subprocess.Popen(command, start_new_session=True, stdin=subprocess.DEVNULL, stdout=pipe,
                             stderr=subprocess.DEVNULL)
    with open(f"/proc/{child.pid}/stat") as f:
        start = f.read().rsplit(") ", 1)[1].split()[19]
    with open(pids, "a") as f:
        f.write(f"{child.pid} {start}\n")
    return child


child = escape() if mode == "linger" else None
try:
    body = fetch(url)
    with open(out, "wb") as f:
        f.write(body)
    status = 0
except Exception as e:
    print(f"error: {e!r}", file=sys.stderr)
    status = 1
if mode == "hog" and status != 0:
    # Its end closes the pipe.
    escape().stdout.read()
# os._exit: no Popen.__del__, which would reap the child (and so count its
# memory in this process's wait4 usage).
sys.stderr.flush()
os._exit(status)
