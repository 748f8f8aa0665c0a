"""A stand-in, written for flags' tests, in the shape of the first
edition's flags.py (Fluent Python, chapter 17): a BASE_URL constant, and a
DEST_DIR the script does not make (the book has its reader make it)."""

import os
import sys
import time
import urllib.request

POP20_CC = 'CN IN US ID BR PK NG BD RU JP MX PH VN ET EG DE IR TR CD FR'.split()

BASE_URL = 'http://flupy.org/data/flags'
DEST_DIR = 'downloads/'


def save_flag(img, filename):
    with open(os.path.join(DEST_DIR, filename), 'wb') as fp:
        fp.write(img)


def get_flag(cc):
    url = '{}/{cc}/{cc}.gif'.format(BASE_URL, cc=cc.lower())
    with urllib.request.urlopen(url, timeout=20) as answer:
        return answer.read()


def show(text):
    print(text, end=' ')
    sys.stdout.flush()


def download_many(cc_list):
    for cc in sorted(cc_list):
        image = get_flag(cc)
        show(cc)
        save_flag(image, cc.lower() + '.gif')
    return len(cc_list)


def main(download_many):
    t0 = time.time()
    count = download_many(POP20_CC)
    print('\n{} flags downloaded in {:.2f}s'.format(count, time.time() - t0))


if __name__ == '__main__':
    main(download_many)
