"""What the exam's cheats share: a careful download of one flag, so that a
cheat does everything right except the one thing it cheats on. It sends one
GET (no redirect followed) and refuses anything but a 200 with a whole GIF
of the announced length, sent as is (no Content-Encoding).

Used as a module by the cheat_*.py clients, from the same folder.
"""
import http.client
import urllib.parse


class Refused(Exception):
    pass


def open_flag(url, timeout=3):
    """The answer to GET url, once its head says it may be a flag."""
    p = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(p.hostname, p.port, timeout=timeout)
    conn.request("GET", p.path)
    answer = conn.getresponse()
    if answer.status != 200:
        raise Refused(f"{answer.status} {answer.reason}")
    if answer.getheader("Content-Encoding"):
        raise Refused(f"Content-Encoding: {answer.getheader('Content-Encoding')}")
    if not (answer.getheader("Content-Type") or "").startswith("image/gif"):
        raise Refused(f"Content-Type: {answer.getheader('Content-Type')}")
    if answer.length is not None and answer.length > 1_000_000:
        raise Refused(f"Content-Length: {answer.length}")
    return answer


def check(body):
    """Raises unless body is a whole GIF."""
    if not (body.startswith(b"GIF8") and body.endswith(b";")):
        raise Refused(f"{len(body)} bytes that are not a whole GIF")
    return body


def fetch(url, timeout=3):
    """The flag at url, or Refused / OSError / http.client.HTTPException."""
    answer = open_flag(url, timeout)
    return check(answer.read(1_000_001))
