"""One case of `flags exam`, served by `flags serve --scenario ID`, and
the catalog of cases to choose from.

The case's facts (what the server does, what a correct client ends with,
the codes it is asked for) come from `flags exam --list --json`; its URLs
and CA from the scenario's banner; what its server saw from the record it
writes when it stops (``--record``), which `flags exam verdict` grades.
"""

import fnmatch
import functools
import json
import subprocess
import tempfile
import time
from pathlib import Path

from . import grade
from .binary import find_flags
from .process import ServeProcess
from .server import reference_flag

#: What a client can declare it does; a case that needs more is left out.
ABILITIES = ("retries", "several", "h2", "tls")


@functools.lru_cache(maxsize=4)
def _catalog(exe):
    out = subprocess.run([exe, "exam", "--list", "--json"], capture_output=True, check=True, timeout=30)
    return tuple(json.loads(out.stdout)["cases"])


def catalog():
    """Every case of the exam, as `flags exam --list --json` gives them (dicts)."""
    return list(_catalog(find_flags()))


def cases(patterns="*", **can):
    """The ids of the cases that match `patterns` (comma-separated, ``*``
    any run of characters: ``"framing/*,tls/*"``) and that a client able to
    do what ``can`` says (``retries``, ``several``, ``h2``, ``tls``: all
    False unless given) can take, in catalog order."""
    unknown = set(can) - set(ABILITIES)
    if unknown:
        raise TypeError(f"unknown abilities {sorted(unknown)}: choose among {ABILITIES}")
    wanted = [p.strip() for p in patterns.split(",") if p.strip()]
    chosen = []
    for case in catalog():
        needs_met = all(can.get(need, False) or not needed for need, needed in case["needs"].items())
        if needs_met and any(fnmatch.fnmatchcase(case["id"], p) for p in wanted):
            chosen.append(case["id"])
    return chosen


def _case(case_id):
    for case in catalog():
        if case["id"] == case_id:
            return case
    raise ValueError(f"no exam case {case_id!r}: `flags exam --list` shows them")


class Scenario:
    """A running `flags serve --scenario ID` on a free port.

    ``url`` (the first code's), ``urls`` and ``codes`` are what the client
    is asked for; ``ca_file`` the CA to trust for the ``tls/*`` cases;
    ``case`` the catalog's entry (``about``, ``why``, ``expect``, ``needs``,
    ``server``). `grade` judges what the client left.
    """

    def __init__(self, case_id, timeout=None):
        self.case = _case(case_id)
        self.id = case_id
        self.codes = list(self.case["codes"])
        self.expect = self.case["expect"]
        extra = {"timeout": timeout} if timeout else {}
        # Removed with the Scenario (or at exit): grade() may be asked again.
        self._scratch = tempfile.TemporaryDirectory(prefix="flags-scenario-")
        self._record = Path(self._scratch.name, "record.json")
        self.process = ServeProcess(
            ["--scenario", case_id, "--port", "0", "--record", str(self._record)],
            banner_end=lambda line: line.startswith("try: "),
            **extra,
        )
        served = next(line for line in self.process.banner if line.startswith("serving at "))
        #: The first code's URL, ``http://127.0.0.1:PORT/flags/br/br.gif``.
        self.url = served.split()[2]
        #: ``http://127.0.0.1:PORT/flags``.
        self.base_url = self.url.rsplit("/", 2)[0]
        self.urls = [f"{self.base_url}/{cc}/{cc}.gif" for cc in self.codes]
        self.ca_file = None
        for line in self.process.banner:
            if line.startswith("CA certificate: "):
                self.ca_file = line[len("CA certificate: ") :].split(" ")[0]
        self._saw = None
        self._started = time.monotonic()

    def flag_bytes(self, cc):
        """The bytes a correct download of `cc` holds."""
        return reference_flag(cc)

    def stop(self):
        """Stops the server (once): (connections, requests) it saw, from
        the record it wrote; (0, 0) if it wrote none."""
        if self._saw is None:
            self.process.stop()
            try:
                saw = json.loads(self._record.read_text())["server"]
                self._saw = (saw["connections"], len(saw["requests"]))
            except (OSError, ValueError, KeyError):
                self._saw = (0, 0)
        return self._saw

    def grade(self, dest, failed, seconds=None):
        """The verdict for a client that left what is in `dest` (a folder
        of its own) and did (`failed=True`) or did not report a failure,
        given by `flags exam verdict`; `seconds` is how long the client ran
        (by default, since the server started). Stops the server, whose
        record says what it saw."""
        self.stop()
        if seconds is None:
            seconds = time.monotonic() - self._started
        return grade.verdict(self.id, dest, self._record, bool(failed), seconds)

    def client(self, dest):
        """A context manager that runs its block as the client: an exception
        the block raises is the client reporting a failure. On leaving, it
        grades what is in `dest` and fails the test (AssertionError) unless
        PASS or INFO; the verdict is left in ``self.verdict``."""
        return _ClientRun(self, dest)


class _ClientRun:
    def __init__(self, scenario, dest):
        self.scenario, self.dest = scenario, dest

    def __enter__(self):
        self.started = time.monotonic()
        return self.scenario

    def __exit__(self, kind, error, traceback):
        __tracebackhide__ = True  # the failure is the client's, not this frame's
        if kind is not None and not issubclass(kind, Exception):
            return False  # KeyboardInterrupt, SystemExit: not the client's report
        case = self.scenario
        verdict = case.grade(self.dest, failed=kind is not None, seconds=time.monotonic() - self.started)
        case.verdict = verdict
        if not verdict:
            why = f" (it raised {kind.__name__}: {error})" if kind else ""
            raise AssertionError(f"{case.id}: {verdict.reason}{why}. A correct client: {case.case['why']}")
        return True  # a reported failure, graded: not the test's error
