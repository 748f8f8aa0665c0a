//! Waterfalls: a run's timelines drawn one row per code, as a browser's
//! network panel draws a page load. Sequential requests make a staircase;
//! concurrent ones overlap. Three forms, all returned as text (the binary
//! writes or prints them):
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
//! [`served_rows`] turns the server's own record of its requests
//! ([`crate::server::timeline`]) into rows, so that the server's view of a
//! client is drawn by the same code, in the same colours, as a client's.

mod draw;
mod served;

pub use draw::{escape, format_ms, html, html_with, key_js, svg, svg_on, terminal, ticks, Ending, Row};
pub use served::{served_file, served_rows};
