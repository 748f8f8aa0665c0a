"""Stand-in for the second edition's flags_threadpool_futures.py: five
codes submitted to three workers, each future shown when it is scheduled
and again, finished, as it completes."""

from concurrent import futures

from flags import main
from flags_threadpool import download_one


def download_many(cc_list: list[str]) -> int:
    cc_list = cc_list[:5]
    count = 0
    with futures.ThreadPoolExecutor(max_workers=3) as pool:
        pending = []
        for cc in sorted(cc_list):
            future = pool.submit(download_one, cc)
            pending.append(future)
            print(f'Scheduled for {cc}: {future}')
        for future in futures.as_completed(pending):
            print(f'{future} result: {future.result()!r}')
            count += 1
    return count


if __name__ == '__main__':
    main(download_many)
