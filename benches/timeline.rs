//! What recording the timelines costs: the stamps one code's download
//! takes, and turning a run's 194 timelines into milliseconds and the JSON
//! report's form. Compare with what one flag costs anyway: `flags bench`'s
//! W2 (194 flags, no latency) spends its CPU time on 194 downloads. Run
//! with `cargo bench --bench timeline`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use flags::download::timeline::{in_ms, peak_in_flight};
use flags::download::Timeline;
use flags::http::trace::{Stamp, Trace};

/// One code's recording, as the styles and clients make it: ten stamps.
fn record() -> Timeline {
    let mut t = Timeline { queued: Some(Stamp::now()), ..Timeline::default() };
    t.started = Some(Stamp::now());
    t.trace = Trace { conn: Some(7), reused: true, ..Trace::default() };
    t.trace.sent = Some(Stamp::now());
    t.trace.first_byte = Some(Stamp::now());
    t.trace.body_done = Some(Stamp::now());
    t.released = Some(Stamp::now());
    t.saved = Some(Stamp::now());
    t.done = Some(Stamp::now());
    t.attempts = 1;
    t
}

fn bench(c: &mut Criterion) {
    c.bench_function("record one code's timeline", |b| b.iter(|| black_box(record())));
    let start = Stamp::now();
    let run: Vec<Timeline> = (0..194).map(|_| record()).collect();
    c.bench_function("194 timelines to ms", |b| b.iter(|| black_box(in_ms(start, black_box(&run)))));
    let ms = in_ms(start, &run);
    c.bench_function("194 timelines as JSON (--json)", |b| {
        b.iter(|| black_box(serde_json::to_string(black_box(&ms)).unwrap().len()))
    });
    c.bench_function("the peak in flight of 194", |b| b.iter(|| black_box(peak_in_flight(black_box(&ms)))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
