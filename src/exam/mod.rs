//! `flags exam`: a report card for any HTTP download client, graded against
//! a catalog of misbehaving servers. The rules are in `docs/exam.md`.
//!
//! Each [`Case`] of the [`catalog`] is a server behaviour written down byte
//! for byte (a [`Script`] of [`Step`]s), and what a correct client ends with
//! (an [`Expect`]). The `runner` runs the controls first (a plain flag,
//! and over TLS and HTTP/2 where the client can), then every case for the
//! clients that passed the controls it rests on. A run puts one case and one
//! client together (`trial.rs`):
//!
//! 1. `stage` serves the case on a port of its own (plain HTTP/1.x, TLS
//!    with a flawed certificate from `certs`, raw HTTP/2 frames from
//!    `h2`, a refused port, or an overflowing listen queue), with flags
//!    marked for this run ([`script::Stamp`]), and records what it saw; each
//!    HTTP/1.x connection plays the [`script`]'s steps.
//! 2. The [`Client`]'s template runs in a fresh folder with a `TMPDIR` and
//!    a `HOME` of its own, under a `watch` (a cgroup, or its session
//!    polled) that sees every process it starts, and a deadline.
//! 3. `judge` says what each file left holds; `grade` holds the files,
//!    the exit status, the memory, the processes left and what the server
//!    saw against the case, and gives a [`Verdict`].
//!
//! The results are a [`card::ExamReport`], which the report module prints
//! as a grid, JSON or HTML.
//!
//! A run made outside the exam (`outside`: a case served by
//! `flags serve --scenario`, a client someone else ran) is graded by the
//! same `grade`, for what can be known of it (`flags exam verdict`).
//!
//! The case servers are written by hand on std's sockets, not with hyper:
//! the point of most cases is bytes that a correct HTTP library refuses to
//! send.

pub(crate) mod baseline;
pub(crate) mod card;
pub(crate) mod case;
pub(crate) mod cases;
pub(crate) mod certs;
pub(crate) mod client;
pub(crate) mod grade;
pub(crate) mod h2;
pub(crate) mod judge;
pub(crate) mod merge;
pub(crate) mod outside;
mod play;
mod record;
pub(crate) mod runner;
pub mod script;
pub(crate) mod stage;
mod trial;
pub(crate) mod watch;

pub use card::{CaseRun, ExamReport};
pub use case::{Case, CaseInfo, Expect, Family, Kind, Needs, Serve, CREDENTIALS, DEADLINE};
pub use cases::{catalog, select, SelectError};
pub use client::{Client, ClientError};
pub use grade::Observed;
pub use grade::{Grade, Verdict};
pub use runner::{run, ExamConfig, ExamError, ExamObserver};
pub use script::{Ask, Piece, Reply, Script, Step};
