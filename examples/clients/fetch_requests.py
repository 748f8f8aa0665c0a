#!/usr/bin/env python3
"""Saves each URL in the working directory under its last path segment,
with requests, one session for all of them.

usage: fetch_requests.py [--cacert FILE] URL...
"""
import argparse

import requests

parser = argparse.ArgumentParser(description='Download files with requests.')
parser.add_argument('--cacert', help='a CA certificate to trust for https')
parser.add_argument('urls', nargs='+', metavar='URL')
args = parser.parse_args()

with requests.Session() as session:
    for url in args.urls:
        # verify per request: a session's own verify loses to REQUESTS_CA_BUNDLE.
        resp = session.get(url, verify=args.cacert)
        resp.raise_for_status()
        with open(url.rsplit('/', 1)[-1], 'wb') as out:
            out.write(resp.content)
