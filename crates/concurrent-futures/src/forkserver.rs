//! The fork server, Python's `forkserver` start method: a small process,
//! started once per pool from the same executable, that forks each worker
//! from itself instead of the pool starting the executable afresh.
//!
//! Starting the executable costs a worker about 2.3 ms of CPU (the dynamic
//! loader's relocations, page faults, the runtime's set-up); a fork of the
//! small, idle fork server costs a fraction of that, and a burst of submits
//! starts hundreds of workers at once.
//!
//! **Why forking is safe here.** A fork copies only the thread that calls
//! it, so a child of a process with other threads can inherit a lock that
//! one of them held (the allocator's, stdio's) and block on it for ever.
//! The fork server never starts a thread: its `main` goes straight from
//! the runtime's start to its loop, which reads requests and forks, and
//! each worker starts its threads only after the fork, in the child.
//!
//! The protocol, on a Unix socket that is the server's stdin: the pool sends
//! one byte with two file descriptors (SCM_RIGHTS), the read end of the new
//! worker's stdin and the write end of its stdout; the server forks, the
//! child makes them its stdin and stdout and serves jobs, and the server
//! answers the child's pid as four bytes (0: the fork failed). The server
//! collects its children itself, as each ends (SIGCHLD) and all of them
//! before it exits, so that their CPU time and peak memory reach the pool's process
//! through `wait4` as a spawned worker's do. It exits when the socket closes
//! and its workers have ended, or with its parent (`PR_SET_PDEATHSIG`); its
//! workers die with it in turn.
//!
//! **What it buys.** On a 2-core machine, with 676 workers started at once
//! (W4 of `flags bench`, three runs a point, two rounds), the runs took
//! 2.2 to 2.9 s against 2.6 to 3.4 s spawned, and used a third less CPU
//! (1.7 to 1.9 s against 2.4 to 2.7 s). With 100 workers (W2) the two were
//! within the machine's noise, 0.25 to 0.9 s each. A fork of the server
//! costs about 1.6 ms (its page tables, then the copy-on-write faults of a
//! child that touches its memory), near what starting the executable
//! costs, and the one server forks one worker at a time, while spawns run
//! side by side on every core. So [`StartMethod::Spawn`] stays the
//! default, and `CONCURRENT_FUTURES_START=forkserver` (or
//! [`ProcessPoolExecutor::with_start_method`]) asks for this one.
//!
//! [`StartMethod::Spawn`]: crate::StartMethod::Spawn
//! [`ProcessPoolExecutor::with_start_method`]: crate::ProcessPoolExecutor::with_start_method

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The hidden first argument that makes the executable a fork server.
pub const FORKSERVER_ARG: &str = "__concurrent-futures-forkserver";

/// The pool's end of a running fork server.
#[derive(Debug)]
pub(crate) struct ForkServer {
    child: Child,
    sock: UnixStream,
    /// Ends the thread that started it when dropped.
    keeper: Option<std::sync::mpsc::Sender<()>>,
}

impl ForkServer {
    /// Starts `program` as a fork server, its parent this process (told in
    /// `parent_env`). It is started from a thread of its own that lives as
    /// long as this handle: the kernel's parent-death signal follows the
    /// thread that started a process, and the pool thread that asks first
    /// may end before the server's last worker does.
    pub(crate) fn start(program: &Path, parent_env: &str) -> io::Result<ForkServer> {
        let (ours, theirs) = UnixStream::pair()?;
        let mut command = Command::new(program);
        command
            .arg(FORKSERVER_ARG)
            .env(parent_env, std::process::id().to_string())
            // Out of the terminal's process group, and so are its workers.
            .process_group(0)
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let (started_tx, started) = std::sync::mpsc::channel();
        let (keeper, done) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new().name("fork-server".into()).spawn(move || {
            let started = command.spawn();
            // The server's end of the socket must not stay open here too.
            drop(command);
            let _ = started_tx.send(started);
            // Until the handle is dropped.
            let _ = done.recv();
        })?;
        let child = started.recv().map_err(|_| io::Error::other("the fork server's thread ended"))??;
        // A fork takes milliseconds: a server that does not answer in
        // seconds is stuck, and the pool starts another.
        ours.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
        Ok(ForkServer { child, sock: ours, keeper: Some(keeper) })
    }

    /// A new worker whose stdin reads from `input` and whose stdout writes
    /// to `output`: its pid.
    pub(crate) fn fork(&mut self, input: &OwnedFd, output: &OwnedFd) -> io::Result<u32> {
        send_fds(&self.sock, &[input.as_raw_fd(), output.as_raw_fd()])?;
        let mut pid = [0u8; 4];
        (&self.sock).read_exact(&mut pid)?;
        match u32::from_le_bytes(pid) {
            0 => Err(io::Error::other("the fork server could not fork")),
            pid => Ok(pid),
        }
    }
}

impl Drop for ForkServer {
    fn drop(&mut self) {
        // The end of its socket ends it.
        let _ = self.sock.shutdown(std::net::Shutdown::Both);
        let _ = self.child.wait();
        self.keeper.take();
    }
}

/// The fork server's loop, on this process's only thread: for each
/// request, fork; the child runs `worker` (told the server's pid, its
/// parent) and never comes back here. Never returns.
pub(crate) fn serve(worker: impl Fn(i32) -> i32) -> ! {
    // SAFETY: stdin is the Unix socket the pool gave this process.
    let sock = unsafe { UnixStream::from_raw_fd(0) };
    // Workers are collected the moment they end (SA_RESTART: the wait for
    // the next request goes on).
    // SAFETY: sigaction(2) with a handler that only calls waitpid, which is
    // async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_child as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART | libc::SA_NOCLDSTOP;
        libc::sigaction(libc::SIGCHLD, &action, std::ptr::null_mut());
    }
    loop {
        let fds = match recv_fds(&sock) {
            Ok(Some(fds)) if fds.len() == 2 => fds,
            // The pool closed its end (or sent nonsense): done once the
            // workers are, their stdin closed by the pool.
            _ => {
                reap(0);
                std::process::exit(0)
            }
        };
        // SAFETY: getpid has no preconditions.
        let server = unsafe { libc::getpid() };
        // SAFETY: this process has one thread (see the module doc), so the
        // child inherits no lock another thread held.
        match unsafe { libc::fork() } {
            0 => {
                // SAFETY: in the child: SIGCHLD goes back to its default, the
                // received descriptors become stdin and stdout (dup2 closes
                // the socket that was stdin), then the originals are closed.
                unsafe {
                    libc::signal(libc::SIGCHLD, libc::SIG_DFL);
                    libc::dup2(fds[0].as_raw_fd(), 0);
                    libc::dup2(fds[1].as_raw_fd(), 1);
                }
                drop(fds);
                std::process::exit(worker(server));
            }
            pid => {
                drop(fds);
                let answer = if pid > 0 { pid as u32 } else { 0 };
                if (&sock).write_all(&answer.to_le_bytes()).is_err() {
                    std::process::exit(0);
                }
            }
        }
    }
}

/// Collects the workers that have ended; with `flags` 0, waits for all.
fn reap(flags: libc::c_int) {
    let mut status = 0;
    // SAFETY: waitpid(2) on any child of this process, into a local.
    while unsafe { libc::waitpid(-1, &mut status, flags) } > 0 {}
}

/// The SIGCHLD handler: collects every worker that has ended, leaving
/// `errno` as the interrupted code had it.
extern "C" fn on_child(_: libc::c_int) {
    #[cfg(target_os = "linux")]
    // SAFETY: errno is this thread's; read and written back.
    unsafe {
        let saved = *libc::__errno_location();
        reap(libc::WNOHANG);
        *libc::__errno_location() = saved;
    }
    #[cfg(not(target_os = "linux"))]
    reap(libc::WNOHANG);
}

/// The room a message of one byte and up to `fds` descriptors needs: its
/// byte, and a control buffer of `CMSG_SPACE` bytes.
struct Room {
    byte: [u8; 1],
    iov: libc::iovec,
    control: Vec<u8>,
}

impl Room {
    fn new(fds: usize) -> Box<Room> {
        // SAFETY: CMSG_SPACE only computes a size.
        let space = unsafe { libc::CMSG_SPACE((fds * std::mem::size_of::<RawFd>()) as u32) } as usize;
        let iov = libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 1 };
        let mut room = Box::new(Room { byte: [0], iov, control: vec![0u8; space] });
        room.iov.iov_base = room.byte.as_mut_ptr().cast();
        room
    }

    /// A message header pointing into this room (boxed, so it does not move).
    fn header(&mut self) -> libc::msghdr {
        // SAFETY: msghdr is plain data; the pointers set point into `self`.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut self.iov;
        msg.msg_iovlen = 1;
        msg.msg_control = self.control.as_mut_ptr().cast();
        msg.msg_controllen = self.control.len() as _;
        msg
    }
}

/// Sends one byte carrying `fds` over `sock`.
fn send_fds(sock: &UnixStream, fds: &[RawFd]) -> io::Result<()> {
    let bytes = std::mem::size_of_val(fds) as u32;
    let mut room = Room::new(fds.len());
    let msg = room.header();
    // SAFETY: the control buffer has room for one header and `fds`, as
    // CMSG_SPACE said; the data is copied in within it.
    unsafe {
        let header = libc::CMSG_FIRSTHDR(&msg);
        (*header).cmsg_level = libc::SOL_SOCKET;
        (*header).cmsg_type = libc::SCM_RIGHTS;
        (*header).cmsg_len = libc::CMSG_LEN(bytes) as _;
        std::ptr::copy_nonoverlapping(fds.as_ptr().cast::<u8>(), libc::CMSG_DATA(header), bytes as usize);
    }
    // SAFETY: a valid socket and message.
    match unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, 0) } {
        1 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Receives one byte and the descriptors it carries (four at most); `None`
/// at the end of the stream.
fn recv_fds(sock: &UnixStream) -> io::Result<Option<Vec<OwnedFd>>> {
    let mut room = Room::new(4);
    let mut msg = room.header();
    // SAFETY: a valid socket and message; received descriptors are close-on-exec.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
    match n {
        0 => return Ok(None),
        n if n < 0 => return Err(io::Error::last_os_error()),
        _ => {}
    }
    let mut fds = Vec::new();
    // SAFETY: walking the control messages the kernel wrote, within msg.
    unsafe {
        let mut header = libc::CMSG_FIRSTHDR(&msg);
        while !header.is_null() {
            if (*header).cmsg_level == libc::SOL_SOCKET && (*header).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(header);
                let count = ((*header).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / std::mem::size_of::<RawFd>();
                for i in 0..count {
                    let fd = std::ptr::read_unaligned(data.cast::<RawFd>().add(i));
                    fds.push(OwnedFd::from_raw_fd(fd));
                }
            }
            header = libc::CMSG_NXTHDR(&msg, header);
        }
    }
    Ok(Some(fds))
}
