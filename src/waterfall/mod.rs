//! Waterfalls: a run's timelines drawn one row per code, as a browser's
//! network panel draws a page load. Sequential requests make a staircase;
//! concurrent ones overlap. Three drawings, all returned as text (the
//! binary writes or prints them):
//!
//! - [`svg`]: bars coloured by phase under a curve of the requests in
//!   flight, with the times in each row's tooltip (`<title>`). At hundreds
//!   of codes the rows shrink to a pixel or two and the curve carries the
//!   picture.
//! - [`html`]: a page with one or more SVGs side by side.
//! - [`terminal`]: Unicode blocks within 80 columns.
//!
//! Drawn by hand rather than with plotters: a waterfall is rectangles and
//! one step line, and plotters' SVG backend has no way to give each row
//! the tooltip that makes the picture readable.
//!
//! Two more forms list the requests rather than draw them, for other
//! tools to show: [`trace`] (Trace Event JSON, for Perfetto and
//! `chrome://tracing`) and [`har`] (HAR 1.2, for a browser's network
//! panel), both from the [`exchange`] model that a client's run and the
//! server's record become. [`Format`] picks the form from a file's name,
//! for every writer.
//!
//! [`served_rows`] turns the server's own record of its requests
//! ([`crate::served`]) into rows, so that the server's view of a
//! client is drawn by the same code, in the same colours, as a client's.

mod draw;
pub(crate) mod exchange;
mod format;
pub(crate) mod har;
mod served;
pub(crate) mod trace;

pub use draw::{escape, html, html_with, key_js, panel, svg, terminal, Ending, Row};
pub use format::Format;
pub use served::{served_file, served_rows};
