"""A client written to be wrong, for the exam's tests: it follows every
redirect, sending the Authorization made from the first URL's user and
password to whatever host the redirect names, and saves the last body.

Usage: leaky.py URL OUT
"""
import base64
import http.client
import sys
import urllib.parse

url, out = sys.argv[1], sys.argv[2]
first = urllib.parse.urlsplit(url)
auth = "Basic " + base64.b64encode(f"{first.username}:{first.password}".encode()).decode()
for _ in range(5):
    p = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(p.hostname, p.port, timeout=3)
    conn.request("GET", p.path, headers={"Authorization": auth})
    answer = conn.getresponse()
    if answer.status in (301, 302, 303, 307, 308):
        url = urllib.parse.urljoin(url, answer.getheader("Location"))
        continue
    with open(out, "wb") as f:
        f.write(answer.read())
    break
