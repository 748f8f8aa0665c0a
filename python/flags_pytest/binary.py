"""Finding the `flags` binary the plugin runs.

The order, first found wins:

1. ``FLAGS_BIN``, when set: an explicit choice (a debug build, another
   version) must beat whatever is installed, or it could never apply where
   the wheel is installed. When it names no executable file, that is an
   error, not a reason to look elsewhere.
2. The binary this wheel installed: the ``flags`` script recorded in the
   distribution's files, which is where pip, pipx or uv put it for this
   interpreter (a virtualenv's ``bin``, ``~/.local/bin`` with ``--user``).
3. ``flags`` on ``PATH`` (``cargo install --path .``, say).
"""

import functools
import os
import shutil
import sysconfig
from importlib import metadata
from pathlib import Path

#: The distribution that carries the binary and this plugin.
DISTRIBUTION = "flags-downloader"

_EXE = "flags.exe" if os.name == "nt" else "flags"


class FlagsNotFound(RuntimeError):
    """No `flags` binary to run: the message says where the plugin looked."""


def _runnable(path):
    return path.is_file() and os.access(path, os.X_OK)


def _from_the_wheel():
    """The `flags` the distribution installed, or None."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    for record in dist.files or ():
        if record.name == _EXE and record.parent.name in ("bin", "Scripts"):
            path = Path(dist.locate_file(record)).resolve()
            if _runnable(path):
                return path
    # An install whose record lacks the script: this interpreter's scripts folders.
    for scheme in (None, f"{os.name}_user"):
        try:
            scripts = sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
        except KeyError:
            continue
        path = Path(scripts, _EXE)
        if _runnable(path):
            return path
    return None


@functools.lru_cache(maxsize=None)
def _find(override):
    if override:
        path = Path(override).expanduser()
        if not _runnable(path):
            raise FlagsNotFound(f"FLAGS_BIN={override} is not an executable file")
        return str(path.absolute())
    found = _from_the_wheel() or shutil.which("flags")
    if found is None:
        raise FlagsNotFound(
            f"no `flags` binary: not installed with {DISTRIBUTION} for this Python, "
            "not on PATH, and FLAGS_BIN is not set"
        )
    return str(found)


def find_flags():
    """The path of the `flags` binary to run (see the module's doc for the order)."""
    return _find(os.environ.get("FLAGS_BIN") or None)
