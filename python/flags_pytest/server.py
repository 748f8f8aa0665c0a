"""`flags serve` on a free loopback port, as a Python object.

`FlagServer` is what the `flags_server` fixture starts: its URLs, the CA
to trust over TLS, the reference bytes of each flag, and the server's own
accounts (`/stats`, `/timeline`).
"""

import atexit
import json
import ssl
import threading
import time
import urllib.request
from pathlib import Path

from .process import ServeProcess

#: The banner's last line offers a command to try.
_BANNER_END = "try: flags get"


def _banner_done(line):
    return _BANNER_END in line


class FlagServer:
    """A running `flags serve --port 0` and what its banner said.

    The server speaks HTTP/1.1 and HTTP/2: with ``tls=True`` by ALPN,
    without it to a client that starts with HTTP/2's preface (prior
    knowledge). There is no option to turn either off.
    """

    def __init__(
        self, *, delay=None, error_rate=None, fault=None, seed=None, tls=False, dir=None, args=(), timeout=None
    ):
        argv = ["--port", "0"]
        options = {"--delay": delay, "--error-rate": error_rate, "--fault": fault, "--seed": seed, "--dir": dir}
        for name, value in options.items():
            if value is not None:
                argv += [name, str(value)]
        if tls:
            argv.append("--tls")
        argv += [str(a) for a in args]
        self.dir = Path(dir) if dir is not None else None
        extra = {"timeout": timeout} if timeout else {}
        self.process = ServeProcess(argv, banner_end=_banner_done, **extra)
        first = next(line for line in self.process.banner if "://" in line)
        #: ``http://127.0.0.1:PORT/flags`` (``https://`` with TLS).
        self.base_url = next(word for word in first.split() if "://" in word)
        scheme, rest = self.base_url.split("://", 1)
        #: The server's origin, ``http://127.0.0.1:PORT``.
        self.origin = f"{scheme}://{rest.split('/', 1)[0]}"
        self.host, port = rest.split("/", 1)[0].rsplit(":", 1)
        self.port = int(port)
        #: With ``tls=True``: the CA certificate to trust (PEM), removed when the server stops.
        self.ca_file = None
        for line in self.process.banner:
            if line.startswith("CA certificate: "):
                self.ca_file = Path(line[len("CA certificate: ") :].split(" ")[0])

    def flag_url(self, cc):
        """The URL of `cc`'s flag: ``{base_url}/{cc}/{cc}.gif``, lower case."""
        cc = cc.lower()
        return f"{self.base_url}/{cc}/{cc}.gif"

    def flag_bytes(self, cc):
        """The bytes a correct download of `cc`'s flag holds: the file under
        ``dir=``, else the embedded drawing (fetched from a plain server of
        the same binary, so delays and faults of this one do not apply)."""
        cc = cc.lower()
        if self.dir is not None:
            return (self.dir / cc / f"{cc}.gif").read_bytes()
        return reference_flag(cc)

    def ssl_context(self):
        """An SSL context that trusts this server's CA (None without TLS)."""
        if self.ca_file is None:
            return None
        return ssl.create_default_context(cafile=str(self.ca_file))

    def get(self, path, timeout=10.0):
        """``GET {origin}{path}``: the body (urllib raises on a status >= 400)."""
        request = urllib.request.Request(self.origin + path)
        with urllib.request.urlopen(request, timeout=timeout, context=self.ssl_context()) as answer:
            return answer.read()

    def stats(self):
        """``GET /stats``, as a dict: requests by status, in flight, connections..."""
        return json.loads(self.get("/stats"))

    def timeline(self, since=None):
        """Every request the server recorded (ended after `since` ms, when
        given), oldest first, from as many ``GET /timeline`` pages as it takes."""
        requests, after = [], None
        while True:
            query = [f"since={since}"] if since is not None else []
            query += [f"after={after}"] if after is not None else []
            page = json.loads(self.get("/timeline" + ("?" + "&".join(query) if query else "")))
            requests += page["requests"]
            after = page.get("next")
            if after is None:
                return requests

    def wait_for_requests(self, count, timeout=5.0):
        """The timeline once it holds `count` requests. The server records a
        request when its answer ends, which may be just after the client has
        read it all: ask this, not `timeline()`, right after a download.
        TimeoutError when `timeout` passes first."""
        deadline = time.monotonic() + timeout
        while True:
            requests = self.timeline()
            if len(requests) >= count:
                return requests
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server recorded {len(requests)} requests, not {count}, in {timeout} s")
            time.sleep(0.01)  # a poll's interval: the server gives no notice

    @property
    def output(self):
        """What the server printed on stdout so far, line by line."""
        return list(self.process.lines)

    def stop(self):
        """Stops the server (SIGTERM, then SIGKILL): its exit code."""
        return self.process.stop()


class _Reference:
    """One plain server per process, started on first need, for the
    embedded drawings' bytes."""

    def __init__(self):
        self._lock = threading.Lock()
        self._server = None
        self._bytes = {}

    def flag(self, cc):
        with self._lock:
            if cc not in self._bytes:
                if self._server is None:
                    self._server = FlagServer()
                    atexit.register(self.stop)
                self._bytes[cc] = self._server.get(f"/flags/{cc}/{cc}.gif")
            return self._bytes[cc]

    def stop(self):
        with self._lock:
            if self._server is not None:
                self._server.stop()
                self._server = None


_reference = _Reference()


def reference_flag(cc):
    """The embedded drawing of `cc`'s flag, as `flags serve` sends it with no
    fault: the bytes a correct client saves."""
    return _reference.flag(cc.lower())


def stop_reference():
    """Stops the reference server, if one was started."""
    _reference.stop()
