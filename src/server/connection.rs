//! One accepted connection, served: TLS first when configured, then
//! HTTP/1.1 ([`super::h1`], the server's own) or HTTP/2 (hyper's), each
//! request answered by [`super::routes`] with the connection's [`Peer`],
//! for as long as the connection makes progress ([`super::lifetime`]) and
//! the server runs.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::h1;
use super::handle::{stopping, Stop};
use super::lifetime::{self, Progress, Verdict};
use super::peer::Peer;
use super::routes;

/// The largest request head taken over HTTP/1.1, and the largest header
/// list over HTTP/2; [`routes`] then answers 414 for a long target and 431
/// for too many or too large headers, past which [`h1`] or hyper answers
/// 431 itself.
const MAX_HEAD: usize = 32 << 10;

/// The most HTTP/2 streams a client may have open on one connection. Each
/// stream whose answer cannot be sent (a client that keeps its window at
/// zero) holds about 2.6 KB in hyper's HTTP/2 until the send timeout
/// closes the connection: at 32, 1 000 such connections asking 999 GETs
/// each hold 92 MB (at 100 they held 200 MB). Clients queue the rest, and
/// a stream refused before a client read this limit is sent again.
const MAX_STREAMS: u32 = 32;

/// Serves one accepted connection: TLS first when configured, then
/// HTTP/1.1 or HTTP/2 (chosen by ALPN under TLS, by the client's first
/// bytes in plain text, so h2c with prior knowledge works too), for as long
/// as it makes progress ([`lifetime`]). HTTP/1.1 is the server's own
/// ([`h1`]), HTTP/2 hyper's, boxed, so that the task of an HTTP/1.1
/// connection holds HTTP/1.1's state only.
pub(super) async fn serve_connection(stream: TcpStream, state: Arc<routes::State>, mut stop: watch::Receiver<Stop>) {
    let peer = Peer::of(&stream);
    let timeouts = state.config.timeouts();
    let progress = Progress::new();
    let tls = state.config.tls.as_ref().map(|t| tokio_rustls::TlsAcceptor::from(Arc::clone(&t.config)));
    // The connection as the server's timeline names it.
    let record = state.stats.timeline();
    let conn =
        routes::ConnSeen { id: record.next_conn(), at_ms: record.ms(std::time::Instant::now()), tls: tls.is_some() };
    // What answers each request, in either protocol.
    let answer = |handshake: Option<Duration>| {
        let (state, progress) = (Arc::clone(&state), Arc::clone(&progress));
        let counted = std::sync::atomic::AtomicBool::new(false);
        move |req: hyper::Request<()>| {
            let held = progress.request();
            // A connection counts from its first request that is not
            // `/stats`: watching the counters does not change them.
            if req.uri().path() != "/stats" && !counted.swap(true, std::sync::atomic::Ordering::Relaxed) {
                state.stats.count_connection(req.version() == hyper::Version::HTTP_2, handshake);
            }
            // Boxed: an HTTP/2 stream's task keeps its future's room while
            // its answer waits to be sent, and the answer is all it needs.
            let answer = Box::pin(routes::handle(Arc::clone(&state), peer, conn, req));
            async move { answer.await.map(|resp| resp.map(|body| held.answer(body))) }
        }
    };
    let Some(acceptor) = tls else {
        let h2 = match tokio::time::timeout(timeouts.header, prior_knowledge(&stream, peer)).await {
            Ok(Ok(h2)) => h2,
            // Silent past the header timeout, or gone.
            _ => return,
        };
        return match h2 {
            false => serve_http1(stream, answer(None), &progress, timeouts, &mut stop).await,
            true => Box::pin(serve_http2(stream, answer(None), &progress, timeouts, &mut stop)).await,
        };
    };
    // Boxed: a TLS connection's state is rustls's, several KB, which a
    // plain connection's task need not make room for.
    Box::pin(async {
        let started = std::time::Instant::now();
        let stream = match tokio::time::timeout(timeouts.header, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => stream,
            // A failed or slow handshake is that client's end only.
            _ => return,
        };
        let handshake = Some(started.elapsed());
        match stream.get_ref().1.alpn_protocol() == Some(b"h2") {
            false => serve_http1(stream, answer(handshake), &progress, timeouts, &mut stop).await,
            true => serve_http2(stream, answer(handshake), &progress, timeouts, &mut stop).await,
        }
    })
    .await
}

/// HTTP/1.1 on `io`, the server's own ([`h1`]).
async fn serve_http1<IO, A, F>(
    io: IO,
    answer: A,
    progress: &Progress,
    timeouts: lifetime::Timeouts,
    stop: &mut watch::Receiver<Stop>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    A: FnMut(hyper::Request<()>) -> F,
    F: std::future::Future<Output = io::Result<hyper::Response<lifetime::Tracked>>>,
{
    let closing = h1::Closing::default();
    let conn = h1::serve(io, &closing, MAX_HEAD, answer);
    supervise(conn, |_| closing.begin(), progress, timeouts, stop).await;
}

/// HTTP/2 on `io`, hyper's.
async fn serve_http2<IO, A, F>(
    io: IO,
    answer: A,
    progress: &Progress,
    timeouts: lifetime::Timeouts,
    stop: &mut watch::Receiver<Stop>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    A: Fn(hyper::Request<()>) -> F + Send + 'static,
    F: std::future::Future<Output = io::Result<hyper::Response<lifetime::Tracked>>> + Send + 'static,
{
    // The request's body is never read (only GET and HEAD are answered):
    // dropped now, so that a held request keeps none of hyper's buffers.
    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| answer(req.map(|_| ())));
    let conn = http2().serve_connection(TokioIo::new(io), service);
    supervise(conn, |c| c.graceful_shutdown(), progress, timeouts, stop).await;
}

/// hyper's HTTP/2 connection as the server runs it.
fn http2() -> hyper::server::conn::http2::Builder<TokioExecutor> {
    let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS)
        .max_header_list_size(MAX_HEAD as u32)
        .max_send_buf_size(64 << 10);
    builder
}

/// What a plain-text client speaks: `true` when its first bytes are
/// HTTP/2's connection preface (h2c with prior knowledge), `false` as soon
/// as they cannot be. Peeks, so the connection reads the bytes again. A client that
/// has sent only part of the preface is peeked at again after 1 ms, then
/// 2, 4, ... up to 50 ms (a peek sees the same bytes until more come, so
/// it cannot wait for them), until the caller's header timeout; one that
/// has closed its end meanwhile is handed to HTTP/1.1, which reads the end.
async fn prior_knowledge(stream: &TcpStream, peer: Peer) -> io::Result<bool> {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let mut seen = [0u8; PREFACE.len()];
    let mut pause = Duration::from_millis(1);
    loop {
        let n = stream.peek(&mut seen).await?;
        if n == 0 || seen[..n] != PREFACE[..n] {
            // A client that closed at once, or HTTP/1.1: [`h1`]'s to answer.
            return Ok(false);
        }
        if n == PREFACE.len() {
            return Ok(true);
        }
        if peer.gone() {
            return Ok(false);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Drives `conn` for as long as its [`Progress`] allows: closed (dropped)
/// when the verdict says so, let go politely (`shut`: GOAWAY, or close
/// when idle) when idle or when the server stops, and then given until
/// the send timeout to finish.
async fn supervise<F: std::future::Future>(
    conn: F,
    shut: impl Fn(std::pin::Pin<&mut F>),
    progress: &Progress,
    timeouts: lifetime::Timeouts,
    stop: &mut watch::Receiver<Stop>,
) {
    tokio::pin!(conn);
    let mut shutting = false;
    let mut let_go_by = None;
    loop {
        let wait = match progress.verdict(timeouts) {
            Verdict::Close(_) => return,
            Verdict::GoAway(_) if !shutting => {
                shut(conn.as_mut());
                shutting = true;
                let_go_by = Some(tokio::time::Instant::now() + timeouts.send);
                continue;
            }
            Verdict::GoAway(_) => timeouts.send,
            Verdict::Wait(wait) => wait,
        };
        let wait = match let_go_by {
            Some(by) if tokio::time::Instant::now() >= by => return,
            Some(by) => wait.min(by - tokio::time::Instant::now()),
            None => wait,
        };
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = tokio::time::sleep(wait) => {}
            _ = progress.wake.notified() => {}
            _ = stopping(stop), if !shutting => {
                shut(conn.as_mut());
                shutting = true;
            }
        }
    }
}
