#!/usr/bin/env python3
"""Saves each URL in the working directory under its last path segment,
with httpx, one client for all of them.

usage: fetch_httpx.py [--cacert FILE] URL...
"""
import argparse
import ssl

import httpx

parser = argparse.ArgumentParser(description='Download files with httpx.')
parser.add_argument('--cacert', help='a CA certificate to trust for https')
parser.add_argument('urls', nargs='+', metavar='URL')
args = parser.parse_args()

context = ssl.create_default_context(cafile=args.cacert)
with httpx.Client(verify=context) as client:
    for url in args.urls:
        resp = client.get(url)
        resp.raise_for_status()
        with open(url.rsplit('/', 1)[-1], 'wb') as out:
            out.write(resp.content)
