"""A `flags serve` process: started, its banner read, stopped.

The banner is read line by line from its stdout by a thread; a fixture
waits for the line that ends it (never a fixed sleep), bounded by a
timeout. Stopping sends SIGTERM, waits, then kills.
"""

import signal
import subprocess
import threading
import time

from .binary import find_flags

#: How long a server has to print its banner, and to exit after SIGTERM.
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0


class ServeProcess:
    """`flags serve ARGS`, its output collected as it comes."""

    def __init__(self, args, *, banner_end, timeout=START_TIMEOUT):
        self.args = [find_flags(), "serve", *args]
        self.lines = []
        self._changed = threading.Condition()
        self._eof = False
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            self.banner = self.wait_for_line(banner_end, timeout)
        except BaseException:
            self.stop()
            raise

    def _read(self):
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def wait_for_line(self, done, timeout):
        """The lines printed up to the first one for which `done(line)` is
        true; RuntimeError if the process ends first or `timeout` passes."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for i, line in enumerate(self.lines):
                    if done(line):
                        return list(self.lines[: i + 1])
                left = deadline - time.monotonic()
                if self._eof or left <= 0:
                    break
                self._changed.wait(left)
            said = list(self.lines)
        why = "exited" if self._eof else f"said nothing more in {timeout:.0f} s"
        raise RuntimeError(f"{' '.join(self.args)} {why}; stdout: {said}; stderr: {self._stderr()}")

    def _stderr(self):
        if self.proc.poll() is None:
            return "(still running)"
        return (self.proc.stderr.read() or "").strip()

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, wait up to `timeout`, then SIGKILL. The exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self._reader.join(timeout)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()
        return self.proc.returncode

    @property
    def running(self):
        return self.proc.poll() is None
