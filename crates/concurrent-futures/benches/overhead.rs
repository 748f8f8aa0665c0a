//! Overhead of the futures executor: submit + result for 100 000 no-op
//! tasks, next to `rayon::spawn` + a channel and `std::thread::scope` doing
//! the same work. Run with `cargo bench --bench executor`; divide the time
//! per iteration by 100 000 for the cost per task.

use std::hint::black_box;
use std::sync::mpsc;

use concurrent_futures::ThreadPoolExecutor;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const TASKS: u64 = 100_000;

fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("100k no-op tasks");
    group.throughput(Throughput::Elements(TASKS));
    group.sample_size(10);

    let pool = ThreadPoolExecutor::new(workers());
    group.bench_function("ThreadPoolExecutor submit+result", |b| {
        b.iter(|| {
            let futures: Vec<_> = (0..TASKS).map(|i| pool.submit(move || black_box(i))).collect();
            futures.iter().map(|f| f.result(None).unwrap()).sum::<u64>()
        })
    });

    group.bench_function("ThreadPoolExecutor map", |b| {
        b.iter(|| pool.map(|i: u64| black_box(i), 0..TASKS).map(Result::unwrap).sum::<u64>())
    });

    let rayon_pool = rayon::ThreadPoolBuilder::new().num_threads(workers()).build().unwrap();
    group.bench_function("rayon::spawn + channel", |b| {
        b.iter(|| {
            let (tx, rx) = mpsc::channel();
            for i in 0..TASKS {
                let tx = tx.clone();
                rayon_pool.spawn(move || tx.send(black_box(i)).unwrap());
            }
            drop(tx);
            rx.iter().sum::<u64>()
        })
    });

    group.bench_function("std::thread::scope, one chunk per core", |b| {
        b.iter(|| {
            let n = workers() as u64;
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..n)
                    .map(|w| s.spawn(move || (w..TASKS).step_by(n as usize).map(black_box).sum::<u64>()))
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
