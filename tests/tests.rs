//! The integration tests: one binary, one module per area, a shared helper
//! that starts the project's own server on 127.0.0.1:0.

mod it;
