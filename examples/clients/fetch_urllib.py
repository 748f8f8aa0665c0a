#!/usr/bin/env python3
"""Saves each URL in the working directory under its last path segment,
with nothing but Python's standard library (urllib.request).

usage: fetch_urllib.py [--cacert FILE] URL...
"""
import argparse
import shutil
import ssl
import urllib.request

parser = argparse.ArgumentParser(description='Download files with urllib.')
parser.add_argument('--cacert', help='a CA certificate to trust for https')
parser.add_argument('urls', nargs='+', metavar='URL')
args = parser.parse_args()

context = ssl.create_default_context(cafile=args.cacert)
for url in args.urls:
    name = url.rsplit('/', 1)[-1]
    with urllib.request.urlopen(url, context=context) as resp, open(name, 'wb') as out:
        shutil.copyfileobj(resp, out)
