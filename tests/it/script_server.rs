//! A hostile server for the client's tests: raw TCP, no HTTP library, and
//! a script that decides, for every request, what bytes go back and what
//! happens to the connection. Every request it reads is recorded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request the server read.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The request target, e.g. `/flags/br/br.gif`.
    pub path: String,
    /// The whole head, as text.
    pub head: String,
    /// Which request on its connection it was (0, 1, ...).
    pub nth: usize,
}

impl Seen {
    /// The two-letter code in the path, lower case.
    pub fn cc(&self) -> String {
        self.path.trim_start_matches("/flags/").chars().take(2).collect()
    }

    /// True for an image request.
    pub fn is_gif(&self) -> bool {
        self.path.ends_with(".gif")
    }
}

/// What the connection does after the script wrote its answer.
pub enum After {
    /// Read the next request.
    KeepAlive,
    /// Close (FIN).
    Close,
    /// Close with a reset.
    Reset,
    /// Hold the connection open, silent, for this long, then close.
    Hold(Duration),
}

type Script = dyn Fn(&Seen, &mut TcpStream) -> After + Send + Sync;

/// A scripted server on 127.0.0.1, port 0. Dropping it stops it.
pub struct ScriptServer {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl ScriptServer {
    /// Starts a server that answers every request with `script`.
    pub fn start(script: impl Fn(&Seen, &mut TcpStream) -> After + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<Script> = Arc::new(script);
        let (log, halt) = (Arc::clone(&seen), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (script, log, halt) = (Arc::clone(&script), Arc::clone(&log), Arc::clone(&halt));
                std::thread::spawn(move || serve(stream, &*script, &log, &halt));
            }
        });
        ScriptServer { addr, seen, stop }
    }

    /// The base URL: `http://127.0.0.1:PORT/flags`.
    pub fn base(&self) -> String {
        format!("http://{}/flags", self.addr)
    }

    /// Every request read so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// How many requests for `path` were read.
    pub fn count(&self, path: &str) -> usize {
        self.seen().iter().filter(|s| s.path == path).count()
    }
}

impl Drop for ScriptServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(mut stream: TcpStream, script: &Script, log: &Mutex<Vec<Seen>>, halt: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let mut pending = Vec::new();
    for nth in 0.. {
        let head = loop {
            if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                let head: Vec<u8> = pending.drain(..end + 4).collect();
                break String::from_utf8_lossy(&head).into_owned();
            }
            let mut buf = [0u8; 4096];
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
            }
        };
        if halt.load(Ordering::SeqCst) {
            return;
        }
        let path = head.split(' ').nth(1).unwrap_or("").to_string();
        let seen = Seen { path, head, nth };
        log.lock().unwrap().push(seen.clone());
        match script(&seen, &mut stream) {
            After::KeepAlive => continue,
            After::Close => return,
            After::Reset => {
                let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
                return;
            }
            After::Hold(d) => {
                std::thread::sleep(d);
                return;
            }
        }
    }
}

/// Writes a whole answer: status line, fields, blank line, body.
pub fn answer(stream: &mut TcpStream, status: &str, fields: &[(&str, String)], body: &[u8]) {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in fields {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    let _ = stream.write_all(&bytes);
}

/// A small complete GIF (1x1) that differs per code (in any case).
pub fn tiny_gif(cc: &str) -> Vec<u8> {
    let cc = cc.to_ascii_lowercase();
    let mut gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00".to_vec();
    // A comment extension carrying the code, then the trailer.
    gif.extend_from_slice(&[0x21, 0xFE, 2]);
    gif.extend_from_slice(cc.as_bytes());
    gif.extend_from_slice(&[0x00, 0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B]);
    gif
}

/// The fields of a good image answer of `len` bytes.
pub fn gif_fields(len: usize) -> Vec<(&'static str, String)> {
    vec![("Content-Type", "image/gif".into()), ("Content-Length", len.to_string())]
}
