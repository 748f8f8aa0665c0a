"""Stand-in for the second edition's flags_threadpool.py: the downloads
on a ThreadPoolExecutor() of the default size, mapped over the codes."""

from concurrent import futures

from flags import get_flag, main, save_flag


def download_one(cc: str) -> str:
    save_flag(get_flag(cc), f'{cc}.gif')
    print(cc, end=' ', flush=True)
    return cc


def download_many(cc_list: list[str]) -> int:
    with futures.ThreadPoolExecutor() as pool:
        done = list(pool.map(download_one, sorted(cc_list)))
    return len(done)


if __name__ == '__main__':
    main(download_many)
