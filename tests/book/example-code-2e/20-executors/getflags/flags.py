"""A stand-in, written for flags' tests, in the shape of the second
edition's flags.py (Fluent Python, chapter 20): a BASE_URL constant, a
DEST_DIR the script makes, and get_flag/save_flag/download_many/main that
the other scripts import. It uses the standard library's urllib, so the
tests need no package from PyPI."""

import time
import urllib.request
from pathlib import Path

POP20_CC = 'CN IN US ID BR PK NG BD RU JP MX PH VN ET EG DE IR TR CD FR'.split()

BASE_URL = 'https://www.fluentpython.com/data/flags'
DEST_DIR = Path('downloaded')


def save_flag(img: bytes, filename: str) -> None:
    (DEST_DIR / filename).write_bytes(img)


def get_flag(cc: str) -> bytes:
    url = f'{BASE_URL}/{cc}/{cc}.gif'.lower()
    with urllib.request.urlopen(url, timeout=20) as answer:
        return answer.read()


def download_many(cc_list: list[str]) -> int:
    for cc in sorted(cc_list):
        save_flag(get_flag(cc), f'{cc}.gif')
        print(cc, end=' ', flush=True)
    return len(cc_list)


def main(downloader) -> None:
    DEST_DIR.mkdir(exist_ok=True)
    start = time.perf_counter()
    count = downloader(POP20_CC)
    print(f'\n{count} downloads in {time.perf_counter() - start:.2f}s')


if __name__ == '__main__':
    main(download_many)
