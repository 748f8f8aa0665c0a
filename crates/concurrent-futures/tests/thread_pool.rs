//! The futures executor: map order, states, results, callbacks, shutdown.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::sleep;
use std::time::Duration;

use concurrent_futures::{FutureError, FutureState, ReturnWhen, ThreadPoolExecutor, as_completed, wait};

#[test]
fn map_yields_in_input_order_even_when_completion_is_not() {
    let ex = ThreadPoolExecutor::new(4);
    // Later items finish first.
    let out: Vec<u64> = ex
        .map(
            |ms: u64| {
                sleep(Duration::from_millis(ms));
                ms
            },
            vec![80, 60, 40, 20, 0],
        )
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, [80, 60, 40, 20, 0]);
}

#[test]
fn display_shows_the_state_like_pythons_repr() {
    let ex = ThreadPoolExecutor::new(1);
    let gate = Arc::new(Barrier::new(2));
    let g = gate.clone();
    let running = ex.submit(move || {
        g.wait();
        "done".to_string()
    });
    let pending = ex.submit(|| 7u32);
    let text = running.to_string();
    assert!(text.starts_with("<Future at 0x") && text.ends_with(" state=running>"), "{text}");
    assert!(pending.to_string().ends_with(" state=pending>"), "{pending}");
    gate.wait();
    assert_eq!(running.result(None).unwrap(), "done");
    assert!(running.to_string().ends_with(" state=finished returned String>"), "{running}");
    pending.result(None).unwrap();
    assert!(pending.to_string().ends_with(" state=finished returned u32>"));
}

#[test]
fn three_workers_five_jobs_three_running_two_pending() {
    let ex = ThreadPoolExecutor::new(3);
    let gate = Arc::new(Barrier::new(6));
    let futures: Vec<_> = (0..5)
        .map(|i| {
            let g = gate.clone();
            ex.submit(move || {
                if i < 3 {
                    g.wait();
                }
                i
            })
        })
        .collect();
    let states: Vec<FutureState> = futures.iter().map(|f| f.state()).collect();
    use FutureState::*;
    assert_eq!(states, [Running, Running, Running, Pending, Pending]);
    // The barrier needs six: the three running jobs, this thread and two helpers.
    let g2 = gate.clone();
    let g3 = gate.clone();
    std::thread::spawn(move || g2.wait());
    std::thread::spawn(move || g3.wait());
    gate.wait();
    let mut got: Vec<i32> =
        as_completed(&futures, Some(Duration::from_secs(10))).map(|f| f.unwrap().result(None).unwrap()).collect();
    got.sort();
    assert_eq!(got, [0, 1, 2, 3, 4]);
}

#[test]
fn result_times_out_then_succeeds() {
    let ex = ThreadPoolExecutor::new(1);
    let f = ex.submit(|| {
        sleep(Duration::from_millis(200));
        1
    });
    assert_eq!(f.result(Some(Duration::from_millis(10))), Err(FutureError::Timeout));
    assert_eq!(f.result(Some(Duration::from_secs(10))), Ok(1));
    assert_eq!(f.result(None), Ok(1));
}

#[test]
fn cancel_works_only_while_pending() {
    let ex = ThreadPoolExecutor::new(1);
    let gate = Arc::new(Barrier::new(2));
    let g = gate.clone();
    let first = ex.submit(move || {
        g.wait();
    });
    let second = ex.submit(|| ());
    assert!(!first.cancel());
    assert!(second.cancel());
    assert!(second.cancelled() && second.done());
    gate.wait();
    first.result(None).unwrap();
    assert!(!first.cancel());
    assert_eq!(second.result(None), Err(FutureError::Cancelled));
}

#[test]
fn a_panic_comes_back_with_its_message_and_the_pool_lives_on() {
    let ex = ThreadPoolExecutor::new(1);
    let f = ex.submit(|| -> u8 { panic!("bad flag") });
    assert_eq!(f.result(None), Err(FutureError::Panicked("bad flag".into())));
    assert!(f.to_string().ends_with("state=finished raised Panicked>"));
    assert_eq!(ex.submit(|| 5).result(None), Ok(5));
}

#[test]
fn callbacks_run_exactly_once_even_when_added_late() {
    let ex = ThreadPoolExecutor::new(2);
    let calls = Arc::new(AtomicUsize::new(0));
    let f = ex.submit(|| {
        sleep(Duration::from_millis(50));
        3
    });
    let c = calls.clone();
    f.add_done_callback(move |f| {
        assert!(f.done());
        c.fetch_add(1, Ordering::SeqCst);
    });
    f.result(None).unwrap();
    let c = calls.clone();
    f.add_done_callback(move |_| {
        c.fetch_add(10, Ordering::SeqCst);
    });
    drop(ex);
    assert_eq!(calls.load(Ordering::SeqCst), 11);
}

#[test]
fn wait_first_completed_returns_early() {
    let ex = ThreadPoolExecutor::new(2);
    let (release, hold) = std::sync::mpsc::channel::<()>();
    let fast = ex.submit(|| 1);
    let slow = ex.submit(move || {
        let _ = hold.recv();
        2
    });
    // Should `wait` wait for every future, the slow one is let go at last,
    // so that it returns with both done, and the asserts below fail.
    let watchdog = {
        let release = release.clone();
        std::thread::spawn(move || {
            sleep(Duration::from_secs(10));
            let _ = release.send(());
        })
    };
    let (done, not_done) = wait(&[fast.clone(), slow.clone()], None, ReturnWhen::FirstCompleted);
    assert!(done.iter().any(|f| f.ptr_eq(&fast)));
    assert_eq!(not_done.len(), 1, "it returned before the slow one was done");
    assert!(not_done[0].ptr_eq(&slow) && !slow.done());
    let _ = release.send(());
    let (done, not_done) = wait(&[fast, slow], None, ReturnWhen::AllCompleted);
    assert_eq!((done.len(), not_done.len()), (2, 0));
    drop(watchdog);
}

#[test]
fn never_more_than_max_workers_run_and_none_leak() {
    let ex = ThreadPoolExecutor::new(3);
    let now = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let futures: Vec<_> = (0..30)
        .map(|_| {
            let (now, peak) = (now.clone(), peak.clone());
            ex.submit(move || {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                sleep(Duration::from_millis(5));
                now.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    for f in &futures {
        f.result(None).unwrap();
    }
    assert_eq!(peak.load(Ordering::SeqCst), 3);
    assert!(ex.live_threads() <= 3);
    ex.shutdown(true);
    assert_eq!(ex.live_threads(), 0);
}

#[test]
fn submit_after_shutdown_is_an_error_not_a_hang() {
    let ex = ThreadPoolExecutor::new(2);
    ex.shutdown(true);
    assert_eq!(ex.submit(|| 1).result(Some(Duration::from_secs(1))), Err(FutureError::Shutdown));
    assert!(ex.try_submit(|| 1).is_err());
}

#[test]
fn as_completed_times_out() {
    let ex = ThreadPoolExecutor::new(1);
    let slow = ex.submit(|| sleep(Duration::from_millis(300)));
    let got: Vec<_> = as_completed(&[slow], Some(Duration::from_millis(20))).collect();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].as_ref().err(), Some(&FutureError::Timeout));
}

#[test]
fn a_burst_of_submits_claims_idle_workers_and_starts_new_ones() {
    let ex = ThreadPoolExecutor::new(4);
    // One worker, now idle: its job done, it counts itself idle as it
    // waits for the next.
    ex.submit(|| ()).result(None).unwrap();
    let t0 = std::time::Instant::now();
    while ex.idle_workers() < 1 {
        assert!(t0.elapsed() < Duration::from_secs(10), "the worker never waited for a job");
        sleep(Duration::from_millis(1));
    }
    // Four jobs that can only finish together: had they queued behind the
    // one idle worker, none would.
    let gate = Arc::new(Barrier::new(4));
    let futures: Vec<_> = (0..4)
        .map(|_| {
            let g = gate.clone();
            ex.submit(move || {
                g.wait();
            })
        })
        .collect();
    let (done, not_done) = wait(&futures, Some(Duration::from_secs(10)), ReturnWhen::AllCompleted);
    assert_eq!((done.len(), not_done.len()), (4, 0));
}

#[test]
fn first_exception_does_not_stop_at_a_cancelled_future() {
    let ex = ThreadPoolExecutor::new(1);
    let gate = Arc::new(Barrier::new(2));
    let g = gate.clone();
    let blocker = ex.submit(move || {
        g.wait();
    });
    let cancelled = ex.submit(|| ());
    assert!(cancelled.cancel());
    let releaser = std::thread::spawn(move || {
        sleep(Duration::from_millis(200));
        gate.wait();
    });
    let (done, not_done) = wait(&[blocker.clone(), cancelled.clone()], None, ReturnWhen::FirstException);
    // No exception: it returns when all are done, as ALL_COMPLETED (one
    // that returned at once on the cancelled future would leave the
    // blocker not done).
    assert_eq!((done.len(), not_done.len()), (2, 0));
    releaser.join().unwrap();
}

#[test]
fn a_panicking_callback_on_a_done_future_does_not_reach_the_caller() {
    let ex = ThreadPoolExecutor::new(1);
    let f = ex.submit(|| 1);
    f.result(None).unwrap();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    f.add_done_callback(|_| panic!("a bad callback"));
    std::panic::set_hook(hook);
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    f.add_done_callback(move |_| {
        r.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(ran.load(Ordering::SeqCst), 1, "later callbacks still run");
}

#[test]
fn job_panics_are_not_printed() {
    if std::env::var_os("POOL_PANIC_CHILD").is_some() {
        let ex = ThreadPoolExecutor::new(1);
        let f = ex.submit(|| -> u32 { panic!("the job's own panic") });
        assert_eq!(f.result(None), Err(FutureError::Panicked("the job's own panic".into())));
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["job_panics_are_not_printed", "--exact", "--nocapture", "--test-threads", "1"])
        .env("POOL_PANIC_CHILD", "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("the job's own panic") && !stderr.contains("backtrace"), "{stderr}");
}
