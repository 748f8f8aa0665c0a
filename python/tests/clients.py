"""Two small downloaders written with the standard library, as a user
would: one keeps whatever arrived, one keeps only a whole answer."""

import shutil
import ssl
import urllib.request
from pathlib import Path


def _open(url, cafile):
    context = ssl.create_default_context(cafile=cafile) if cafile else None
    return urllib.request.urlopen(url, timeout=5, context=context)


def careless(url, dest, cafile=None):
    """Streams the body into DEST/{name} as it comes: a body cut short
    leaves a partial file (http.client's read(n) just stops early)."""
    target = Path(dest) / url.rsplit("/", 1)[1]
    with _open(url, cafile) as answer, open(target, "wb") as out:
        shutil.copyfileobj(answer, out)


def careful(url, dest, cafile=None):
    """Reads the whole body first (read() raises IncompleteRead on a short
    one), checks it is a GIF, then writes it: nothing is left on a failure."""
    target = Path(dest) / url.rsplit("/", 1)[1]
    with _open(url, cafile) as answer:
        body = answer.read()
    if not body.startswith(b"GIF8"):
        raise ValueError(f"{url}: not a GIF")
    target.write_bytes(body)
