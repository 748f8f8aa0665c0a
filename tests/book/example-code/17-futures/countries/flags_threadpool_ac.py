"""Stand-in for the first edition's flags_threadpool_ac.py: submit and
as_completed over five codes and three workers, each future shown."""

from concurrent import futures

from flags import get_flag, main, save_flag, show


def download_one(cc):
    image = get_flag(cc)
    show(cc)
    save_flag(image, cc.lower() + '.gif')
    return cc


def download_many(cc_list):
    cc_list = cc_list[:5]
    with futures.ThreadPoolExecutor(max_workers=3) as executor:
        to_do = []
        for cc in sorted(cc_list):
            future = executor.submit(download_one, cc)
            to_do.append(future)
            print('Scheduled for {}: {}'.format(cc, future))
        results = []
        for future in futures.as_completed(to_do):
            print('{} result: {!r}'.format(future, future.result()))
            results.append(future.result())
    return len(results)


if __name__ == '__main__':
    main(download_many)
