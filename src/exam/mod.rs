//! `flags exam`: a report card for any HTTP download client, graded against
//! a catalog of misbehaving servers.
//!
//! Each [`Case`] of the [`catalog`] is a server behaviour written down byte
//! for byte (a [`Script`] of [`Step`]s), and what a correct client ends with
//! (an [`Expect`]). A run puts one case and one client together:
//!
//! 1. [`stage`] serves the case on a port of its own (plain HTTP/1.x, TLS
//!    with a flawed certificate from [`certs`], raw HTTP/2 frames from
//!    [`h2`], a refused port, or an overflowing listen queue), and records
//!    what it saw; each HTTP/1.x connection plays the [`script`]'s steps.
//! 2. [`runner`] runs the [`Client`]'s template in a fresh folder, in a
//!    process group of its own, under a deadline.
//! 3. [`grade`] judges the files left, the exit status, the time, the memory
//!    and what the server saw, and gives a [`Verdict`].
//!
//! The case servers are written by hand on std's sockets, not with hyper:
//! the point of most cases is bytes that a correct HTTP library refuses to
//! send. The report module prints the grid, the JSON and the HTML.

pub mod baseline;
pub mod card;
pub mod case;
pub mod cases;
pub mod certs;
pub mod client;
pub mod grade;
pub mod h2;
pub mod merge;
mod play;
mod record;
pub mod runner;
pub mod script;
pub mod stage;

pub use card::{ExamReport, Run};
pub use case::{Case, CaseInfo, Expect, Family, Kind, Needs, Serve, CREDENTIALS, DEADLINE};
pub use cases::{catalog, select};
pub use client::{Client, ClientError};
pub use grade::Observed;
pub use grade::{Grade, Verdict};
pub use runner::{run, ExamConfig, ExamError, Live};
pub use script::{Ask, Part, Reply, Script, Step};
