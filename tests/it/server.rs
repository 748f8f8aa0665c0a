//! The flag server over real HTTP on loopback.

use std::time::{Duration, Instant};

use flags::countries::catalog;
use flags::http::{BlockingClient, FetchError};
use flags::server::Delay;

use super::util::{served_image, server, server_with};

fn client() -> BlockingClient {
    BlockingClient::new(Duration::from_secs(10), 4)
}

fn get_raw(url: &str) -> ureq::http::Response<ureq::Body> {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    agent.get(url).call().unwrap()
}

#[test]
fn serves_every_catalog_flag_with_its_size_and_dimensions() {
    let srv = server();
    let c = client();
    for country in catalog() {
        let url = format!("{}/{cc}/{cc}.gif", srv.base_url(), cc = country.cc.to_lowercase());
        let body = c.get(&url).unwrap();
        assert_eq!(body.len(), country.gif_bytes, "{}", country.cc);
        let dec = gif::DecodeOptions::new().read_info(&body[..]).unwrap();
        assert_eq!((dec.width(), dec.height()), (country.width, country.height), "{}", country.cc);
    }
}

#[test]
fn brazil_has_the_headers_a_client_expects() {
    let srv = server();
    let resp = get_raw(&format!("{}/br/br.gif", srv.base_url()));
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/gif");
    assert_eq!(resp.headers()["content-length"], "11623");
    let resp = get_raw(&format!("{}/br/metadata.json", srv.base_url()));
    assert_eq!(resp.headers()["content-type"], "application/json");
}

#[test]
fn metadata_has_the_books_fields() {
    let srv = server();
    let body = client().get(&format!("{}/us/metadata.json", srv.base_url())).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["iso_cc"], "US");
    assert_eq!(v["country"], "United States of America");
    assert_eq!(v["tld_cc"], ".us");
    assert_eq!(v["gec_cc"], "US");
}

#[test]
fn unknown_codes_and_paths_are_404() {
    let srv = server();
    let c = client();
    for path in ["/zz/zz.gif", "/zz/metadata.json", "/br/us.gif", "/BR/BR.gif", "/br", "/br/br.gif/x"] {
        assert_eq!(c.get(&format!("{}{path}", srv.base_url())), Err(FetchError::NotFound), "{path}");
    }
}

#[test]
fn other_methods_are_405() {
    let srv = server();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let resp = agent.delete(&format!("{}/br/br.gif", srv.base_url())).call().unwrap();
    assert_eq!(resp.status(), 405);
}

#[test]
fn delay_holds_each_response_but_not_a_thread() {
    let srv = server_with(Delay::fixed(0.3), 0.0);
    let c = client();
    let t0 = Instant::now();
    c.get(&format!("{}/br/br.gif", srv.base_url())).unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(300));
    // 100 delayed requests at once finish in about one delay, not 100 of them.
    let t0 = Instant::now();
    let handles: Vec<_> = (0..100)
        .map(|_| {
            let (c, url) = (c.clone(), format!("{}/br/br.gif", srv.base_url()));
            std::thread::spawn(move || c.get(&url).map(|b| b.len()))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), Ok(11_623));
    }
    assert!(t0.elapsed() < Duration::from_secs(10), "took {:?}", t0.elapsed());
    assert!(srv.stats().peak_in_flight() > 20, "peak {}", srv.stats().peak_in_flight());
}

#[test]
fn error_rate_answers_that_share_with_418() {
    let srv = server_with(Delay::NONE, 0.25);
    let c = client();
    let codes: Vec<String> = catalog().iter().map(|c| c.cc.to_lowercase()).collect();
    let mut teapots = 0;
    for cc in &codes {
        match c.get(&format!("{}/{cc}/{cc}.gif", srv.base_url())) {
            Ok(body) => assert_eq!(body, served_image(cc)),
            Err(FetchError::Http { status: 418, reason, .. }) => {
                assert_eq!(reason, "I'm a Teapot");
                teapots += 1;
            }
            Err(e) => panic!("{cc}: {e}"),
        }
    }
    // 25% of 194 is 48.5; a fair coin stays well inside 25..75.
    assert!((25..=75).contains(&teapots), "{teapots} teapots");
}

#[test]
fn a_seed_reproduces_the_same_errors() {
    let run = || {
        let srv = server_with(Delay::NONE, 0.5);
        let c = client();
        (0..40)
            .map(|i| {
                let cc = &catalog()[i].cc.to_lowercase();
                c.get(&format!("{}/{cc}/{cc}.gif", srv.base_url())).is_ok()
            })
            .collect::<Vec<bool>>()
    };
    let first = run();
    assert_eq!(first, run());
    assert!(first.contains(&true) && first.contains(&false));
}

#[test]
fn dir_mode_serves_files_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("br")).unwrap();
    std::fs::write(dir.path().join("br/br.gif"), b"GIF89a real bytes").unwrap();
    std::fs::write(dir.path().join("br/metadata.json"), br#"{"country": "Brazil"}"#).unwrap();
    let config = flags::server::ServerConfig {
        source: flags::server::Source::Dir(dir.path().to_path_buf()),
        ..Default::default()
    };
    let srv = flags::server::spawn(config, "127.0.0.1:0".parse().unwrap()).unwrap();
    let c = client();
    assert_eq!(c.get(&format!("{}/br/br.gif", srv.base_url())).unwrap(), b"GIF89a real bytes");
    assert_eq!(c.get(&format!("{}/br/metadata.json", srv.base_url())).unwrap(), br#"{"country": "Brazil"}"#);
    assert_eq!(c.get(&format!("{}/us/us.gif", srv.base_url())), Err(FetchError::NotFound));
}
