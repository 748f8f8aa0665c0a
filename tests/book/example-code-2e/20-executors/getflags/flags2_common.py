"""Stand-in for the second edition's flags2_common.py: the flags2 scripts'
command line (codes or letters, -a, -e, -l, -m, -s LABEL, -v), their
SERVERS by label, and the reports before and after."""

import argparse
import string
import sys
import time
from collections import Counter
from enum import Enum
from pathlib import Path

DownloadStatus = Enum('DownloadStatus', 'OK NOT_FOUND ERROR')

POP20_CC = 'CN IN US ID BR PK NG BD RU JP MX PH VN ET EG DE IR TR CD FR'.split()

SERVERS = {
    'REMOTE': 'https://www.fluentpython.com/data/flags',
    'LOCAL':  'http://localhost:8000/flags',
    'DELAY':  'http://localhost:8001/flags',
    'ERROR':  'http://localhost:8002/flags',
}
DEFAULT_SERVER = 'LOCAL'

DEST_DIR = Path('downloaded')
COUNTRY_CODES_FILE = Path('country_codes.txt')


def save_flag(img: bytes, filename: str) -> None:
    (DEST_DIR / filename).write_bytes(img)


def expand(every: bool, every_known: bool, args: list[str], limit: int) -> list[str]:
    letters = string.ascii_uppercase
    codes: set[str] = set()
    if every:
        codes.update(a + b for a in letters for b in letters)
    elif every_known:
        codes.update(COUNTRY_CODES_FILE.read_text().split())
    for arg in (a.upper() for a in args):
        if len(arg) == 1 and arg in letters:
            codes.update(arg + b for b in letters)
        elif len(arg) == 2 and arg.isalpha():
            codes.add(arg)
        else:
            sys.exit(f'*** Usage error: {arg!r} is not A to Z or AA to ZZ')
    return sorted(codes)[:limit]


def main(download_many, default_concur_req: int, max_concur_req: int) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('cc', nargs='*')
    parser.add_argument('-a', '--all', action='store_true')
    parser.add_argument('-e', '--every', action='store_true')
    parser.add_argument('-l', '--limit', type=int, default=sys.maxsize)
    parser.add_argument('-m', '--max_req', type=int, default=default_concur_req)
    parser.add_argument('-s', '--server', default=DEFAULT_SERVER)
    parser.add_argument('-v', '--verbose', action='store_true')
    args = parser.parse_args()
    cc_list = expand(args.every, args.all, args.cc, args.limit) or sorted(POP20_CC)[:args.limit]
    actual = min(args.max_req, max_concur_req, len(cc_list))
    base_url = SERVERS[args.server.upper()]
    print(f'{args.server.upper()} site: {base_url}')
    print(f'Searching for {len(cc_list)} flags: from {cc_list[0]} to {cc_list[-1]}')
    print(f'{actual} concurrent connections will be used.')
    DEST_DIR.mkdir(exist_ok=True)
    start = time.perf_counter()
    counter = download_many(cc_list, base_url, args.verbose, actual)
    print('-' * 20)
    print(f'{counter[DownloadStatus.OK]:3} flags downloaded.')
    if counter[DownloadStatus.NOT_FOUND]:
        print(f'{counter[DownloadStatus.NOT_FOUND]:3} not found.')
    if counter[DownloadStatus.ERROR]:
        print(f'{counter[DownloadStatus.ERROR]:3} errors.')
    print(f'Elapsed time: {time.perf_counter() - start:.2f}s')
