#!/usr/bin/env python3
"""Saves each URL in the working directory under its last path segment,
with aiohttp, every download at once in one session.

usage: fetch_aiohttp.py [--cacert FILE] URL...
"""
import argparse
import asyncio
import ssl

import aiohttp


async def fetch(session, url):
    async with session.get(url) as resp:
        resp.raise_for_status()
        body = await resp.read()
    with open(url.rsplit('/', 1)[-1], 'wb') as out:
        out.write(body)


async def main(urls, cacert):
    connector = aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=cacert))
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(fetch(session, url) for url in urls))


parser = argparse.ArgumentParser(description='Download files with aiohttp.')
parser.add_argument('--cacert', help='a CA certificate to trust for https')
parser.add_argument('urls', nargs='+', metavar='URL')
args = parser.parse_args()
asyncio.run(main(args.urls, args.cacert))
