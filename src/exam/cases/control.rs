//! control/*: what every client must do before it is graded at all. A
//! client that cannot download a plain flag here never ran, never
//! connected or cannot be told where to save; whatever it did in the
//! other cases proves nothing, so the runner does not grade them. The TLS
//! and HTTP/2 controls gate the cases over TLS and HTTP/2 in the same way.
//! `control/again` is the plain control once more, run among the cases
//! rather than before them.

use super::kit::{case, ok, H2, TLS};
use crate::exam::case::{Case, Expect, Kind, Serve};
use crate::exam::certs::Cert;
use crate::exam::h2::Flaw;

pub(super) fn cases() -> Vec<Case> {
    vec![
        case("control/http1", Kind::Protocol, Expect::Saved, Serve::Plain(ok),
            "HTTP/1.1 over plain TCP: a correct answer",
            "The control: a client that downloads a flag saves it. A client that fails here is not graded."),
        case("control/again", Kind::Protocol, Expect::Saved, Serve::Plain(ok),
            "HTTP/1.1 over plain TCP: a correct answer, again, at a moment among the cases",
            "The control once more, run among the cases in an order nobody can foresee: a client that passes the first controls and then refuses every answer is caught here, and not graded."),
        case("control/tls", Kind::Protocol, Expect::Saved, Serve::Tls(Cert::Valid, ok),
            "TLS with a certificate for 127.0.0.1 from the exam's CA ({cacert}), a correct answer",
            "The control of the TLS cases: a client that trusts {cacert} saves the flag. One that fails here is not graded on them.")
            .needing(TLS),
        case("control/http2", Kind::Protocol, Expect::Saved, Serve::H2(Flaw::None),
            "HTTP/2 with prior knowledge: a correct answer",
            "The control of the HTTP/2 cases: a client that speaks HTTP/2 saves the flag. One that fails here is not graded on them.")
            .needing(H2),
    ]
}
