"""A client written to be wrong, for the exam's tests: it sends one GET,
reads until the server closes (or is silent for 3 s), saves whatever
follows the first blank line to OUT, and exits 0 whatever happened.

Usage: naive.py URL OUT
"""
import socket
import sys
import urllib.parse

url, out = sys.argv[1], sys.argv[2]
parts = urllib.parse.urlsplit(url)
data = b""
try:
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=3) as s:
        s.sendall(f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode())
        while len(data) < 50_000_000:
            piece = s.recv(65536)
            if not piece:
                break
            data += piece
except OSError:
    pass
head, _, body = data.partition(b"\r\n\r\n")
with open(out, "wb") as f:
    f.write(body)
