"""A client's verdict on one exam case, given by the `flags` binary.

The rules are those of `flags exam`, and only the binary holds them: this
module asks ``flags exam verdict`` (docs/exam.md, "A run made elsewhere")
about the folder the client was given, whether it reported a failure, and
the record its case's server wrote when it stopped. A client run inside
the test reports a failure by raising an exception, which is passed as
exit status 1 (the reasons say "exit 1"); returning is exit status 0.

What the exam observes of a process it starts (memory, processes left
running, its TMPDIR and HOME, a deadline) cannot be known of code run
inside the test, and the binary does not judge it here; to grade a client
as a command, with all of it, run `flags exam --client`.
"""

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .binary import find_flags

PASS, FAIL, INFO = "PASS", "FAIL", "INFO"

#: How long `flags exam verdict` may take (it reads one folder).
TIMEOUT = 60.0


@dataclass(frozen=True)
class Verdict:
    """A grade (PASS, FAIL or INFO) and the reason in words. True unless
    FAIL: INFO is a choice the RFC leaves to the client."""

    grade: str
    reason: str

    def __bool__(self):
        return self.grade != FAIL

    def __str__(self):
        return f"{self.grade}: {self.reason}"


class GradingError(RuntimeError):
    """`flags exam verdict` gave no verdict; the message says what it said."""


def verdict(case_id, dest, record, failed, seconds=None):
    """The verdict on a run of `case_id` whose client left what is in
    `dest` and did (`failed`) or did not report a failure, its server's
    record being the file `record`; `seconds`, how long the client ran,
    when known (a slow case's reason says it)."""
    dest = Path(dest)
    if not dest.exists():
        # The client never made its folder: it left nothing.
        with tempfile.TemporaryDirectory(prefix="flags-nothing-") as empty:
            return verdict(case_id, empty, record, failed, seconds)
    args = [find_flags(), "exam", "verdict", "--case", case_id, "--dir", str(dest)]
    args += ["--exit", "1" if failed else "0", "--record", str(record), "--json"]
    if seconds is not None:
        args += ["--seconds", f"{seconds:.3f}"]
    done = subprocess.run(args, capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT)
    if done.returncode != 0:
        raise GradingError(f"{' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    graded = json.loads(done.stdout)
    # The exam's report writes its grades in lower case: pass, fail, info.
    return Verdict(graded["grade"].upper(), graded["reason"])
