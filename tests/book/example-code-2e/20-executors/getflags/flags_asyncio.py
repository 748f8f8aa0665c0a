"""Stand-in for the second edition's flags_asyncio.py. Like the book's, it
takes BASE_URL with `from flags import ...`, so a copy must change it in
flags.py itself. Its HTTP/1.1 is asyncio's streams, one connection per
flag, so that it needs nothing outside the standard library."""

import asyncio
from urllib.parse import urlsplit

from flags import BASE_URL, main, save_flag


async def get_flag(cc: str) -> bytes:
    url = urlsplit(f'{BASE_URL}/{cc}/{cc}.gif'.lower())
    reader, writer = await asyncio.open_connection(url.hostname, url.port or 80)
    writer.write(f'GET {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n\r\n'.encode())
    answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b'\r\n\r\n')
    if not head.startswith(b'HTTP/1.1 200'):
        raise RuntimeError(head.split(b'\r\n')[0].decode())
    return body


async def download_one(cc: str) -> str:
    save_flag(await get_flag(cc), f'{cc}.gif')
    print(cc, end=' ', flush=True)
    return cc


async def supervisor(cc_list: list[str]) -> int:
    done = await asyncio.gather(*(download_one(cc) for cc in sorted(cc_list)))
    return len(done)


def download_many(cc_list: list[str]) -> int:
    return asyncio.run(supervisor(cc_list))


if __name__ == '__main__':
    main(download_many)
