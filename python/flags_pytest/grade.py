"""A client's verdict on one exam case, from the files it left and whether
it reported a failure.

These are the rules of `flags exam` (docs/exam.md, "Verdicts"), for a
client that runs inside the test: "a reported failure" is an exception
raised by the client (the exam reads a non-zero exit status), and the
files are those in the folder the client was given. What the exam
observes of a process (memory, processes left running, its TMPDIR and
HOME, a deadline) has no meaning here and is not judged; to grade a
client as a command, with all of it, run `flags exam --client`.
"""

from dataclasses import dataclass
from pathlib import Path

PASS, FAIL, INFO = "PASS", "FAIL", "INFO"

#: How deep the client's folder is searched for files.
_DEPTH = 16


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


@dataclass(frozen=True)
class File:
    """A file the client left: its path in the folder, and what it holds."""

    name: str
    size: int
    holds: str  # "flag", "flag-plus", "partial", "gzip", "html", "empty", "other-gif", "other"
    cc: str = ""
    of: int = 0

    def named_for(self):
        """The code whose flag its name promises (`br.gif`, `BR.gif` at the top)."""
        if "/" in self.name or not self.name.lower().endswith(".gif"):
            return None
        cc = self.name[:-4].lower()
        return cc if len(cc) == 2 and cc.isalpha() and cc.isascii() else None

    def right(self):
        return self.holds == "flag" and self.named_for() == self.cc

    def fault(self):
        name, upper = self.name, self.cc.upper()
        size, of, extra = (_thousands(n) for n in (self.size, self.of, self.size - self.of))
        return {
            "flag": f"{name} holds {upper}'s flag"
            if self.named_for()
            else f"saved {upper}'s flag as {name}, a name that is not its code's",
            "flag-plus": f"{name} holds {upper}'s flag with {extra} bytes after it",
            "partial": f"left a partial file {name} (the first {size} of {of} bytes)",
            "gzip": f"saved the gzip bytes as {name}",
            "html": f"saved text/html as {name}",
            "empty": f"left an empty {name}",
            "other-gif": f"saved another image as {name}",
        }.get(self.holds, f"saved {size} bytes that are not the flag as {name}")


def _thousands(n):
    """`n` with a space every three digits, as the exam writes it: 11 623."""
    return f"{n:,}".replace(",", " ")


def judge(data, flags):
    """What `data` holds, against ``flags`` ({cc: bytes}): (holds, cc, of)."""
    if not data:
        return "empty", "", 0
    for cc, flag in flags.items():
        if data == flag:
            return "flag", cc, len(flag)
    for cc, flag in flags.items():
        if len(data) > len(flag) and data.startswith(flag):
            return "flag-plus", cc, len(flag)
        if len(data) < len(flag) and flag.startswith(data):
            return "partial", cc, len(flag)
    start = data[:512].decode("latin-1").lower()
    if data.startswith(b"\x1f\x8b"):
        return "gzip", "", 0
    if data.startswith(b"GIF8"):
        return "other-gif", "", 0
    if start.lstrip().startswith("<") or "<html" in start or "<!doctype" in start:
        return "html", "", 0
    return "other", "", 0


def files_in(folder, flags):
    """Every regular file under `folder`, judged against `flags`."""
    folder = Path(folder)
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if len(rel.parts) > _DEPTH or path.is_dir():
            continue
        data = path.read_bytes() if path.is_file() and not path.is_symlink() else b"\0"
        holds, cc, of = judge(data, flags)
        found.append(File(rel.as_posix(), len(data), holds, cc, of))
    return found


def verdict(expect, codes, files, failed, seen=True, unseen="request"):
    """The verdict for a client that left `files` and reported a failure
    (or not: `failed`), on a case whose server saw it (`seen`)."""
    right = [f for f in files if f.right()]
    saved = [cc for cc in codes if any(f.named_for() == cc for f in right)]
    wrong = [f for f in files if not f.right()]
    worst = wrong[0].fault() if wrong else None
    status = "raised" if failed else "returned"
    all_saved = len(saved) == len(codes) and not wrong
    nothing = not files
    names = "saved " + ", ".join(f.name for f in right)
    refused = f"reported it ({status}), saved nothing"
    kind = expect if isinstance(expect, str) else "choice"
    if kind == "saved":
        if all_saved and not failed:
            v = Verdict(PASS, names)
        elif all_saved:
            v = Verdict(FAIL, "saved the flag, but raised")
        elif worst:
            v = Verdict(FAIL, worst)
        elif nothing and not failed:
            v = Verdict(FAIL, "returned, but no file")
        else:
            v = Verdict(FAIL, f"saved {len(saved)} of {len(codes)} flags ({status})")
    elif kind in ("not-saved", "no-file"):
        if nothing and kind == "no-file":
            v = Verdict(PASS, f"saved nothing ({status})")
        elif nothing and failed:
            v = Verdict(PASS, refused)
        elif nothing:
            v = Verdict(FAIL, "returned, but no file: the failure is not reported")
        else:
            v = Verdict(FAIL, worst or f"{names} from an answer it had to refuse ({status})")
    elif kind == "either":
        if all_saved and not failed:
            v = Verdict(PASS, names)
        elif nothing and failed:
            v = Verdict(PASS, refused)
        elif nothing:
            v = Verdict(FAIL, "returned, but no file")
        else:
            v = Verdict(FAIL, worst or "saved the flag, but raised")
    elif kind in ("retry", "never-wrong"):
        if all_saved and not failed:
            v = Verdict(PASS, names)
        elif worst:
            v = Verdict(FAIL, worst)
        elif not failed:
            v = Verdict(FAIL, f"saved {len(saved)} of {len(codes)} flags, but returned: the failure is not reported")
        else:
            kept = names if right else "saved nothing"
            what = "did not retry" if kind == "retry" else "refused the rest"
            v = Verdict(INFO if kind == "retry" else PASS, f"{what}: {kept}, reported the rest (raised)")
    else:
        as_sent = expect["choice"]["as_sent"]
        if all_saved and not failed:
            v = Verdict(INFO, f"accepted: {names}")
        elif nothing and failed:
            v = Verdict(INFO, f"refused: {refused}")
        elif as_sent and len(files) == 1 and files[0].holds == "gzip" and not failed:
            v = Verdict(INFO, f"kept the bytes as sent: {files[0].fault()}")
        elif nothing:
            v = Verdict(FAIL, "returned, but no file")
        else:
            v = Verdict(FAIL, worst or "saved the flag, but raised")
    if v and not seen:
        return Verdict(FAIL, f"the server saw no {unseen}")
    return v
