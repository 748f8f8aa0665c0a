"""Stand-in for the second edition's flags2_threadpool.py: flags2's
command line, a thread pool of -m workers, a 404 counted as not found."""

import urllib.error
import urllib.request
from collections import Counter
from concurrent import futures

from flags2_common import DownloadStatus, main, save_flag

DEFAULT_CONCUR_REQ = 30
MAX_CONCUR_REQ = 1000


def download_one(cc: str, base_url: str, verbose: bool) -> DownloadStatus:
    try:
        with urllib.request.urlopen(f'{base_url}/{cc}/{cc}.gif'.lower(), timeout=20) as answer:
            save_flag(answer.read(), f'{cc}.gif')
        status = DownloadStatus.OK
    except urllib.error.HTTPError as e:
        status = DownloadStatus.NOT_FOUND if e.code == 404 else DownloadStatus.ERROR
    if verbose:
        print(cc, status.name)
    return status


def download_many(cc_list, base_url, verbose, concur_req) -> Counter:
    counter: Counter = Counter()
    with futures.ThreadPoolExecutor(max_workers=concur_req) as pool:
        jobs = [pool.submit(download_one, cc, base_url, verbose) for cc in sorted(cc_list)]
        for job in futures.as_completed(jobs):
            counter[job.result()] += 1
    return counter


if __name__ == '__main__':
    main(download_many, DEFAULT_CONCUR_REQ, MAX_CONCUR_REQ)
