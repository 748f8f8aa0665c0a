//! The pages for people: a gallery of every flag at `/`, and plain
//! directory listings at `/flags/` and `/flags/{cc}/`, like a static file
//! server's. Pages are plain HTML and CSS from the binary, no external
//! resources; they are never delayed and never faulted (the images they
//! show are: they are the flag API).
//!
//! The gallery (70 KB) and the listing of `/flags/` are made once for the
//! codes the server holds ([`Made`]) and shared by every answer: a client
//! that asks for them on 32 HTTP/2 streams it never reads holds 32
//! references, not 32 copies (a copy each was 2.1 MB a connection). Only
//! the host the client named, a few hundred bytes at most, is made for
//! the request.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::config::{ServerConfig, Source};
use crate::countries::{lookup, CountryCode};

/// A page the server knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Index,
    FlagsDir,
    CodeDir(String),
}

/// Which page `path` is, if any.
pub fn route(path: &str) -> Option<Page> {
    match path {
        "/" => Some(Page::Index),
        "/flags" | "/flags/" => Some(Page::FlagsDir),
        _ => {
            let cc = path.strip_prefix("/flags/")?.strip_suffix('/')?;
            (cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_lowercase())).then(|| Page::CodeDir(cc.to_string()))
        }
    }
}

fn listing(title: &str, entries: impl Iterator<Item = String>) -> String {
    let mut page = format!(
        "<!doctype html>\n<meta charset=utf-8>\n<title>Index of {title}</title>\n<h1>Index of {title}</h1>\n<ul>\n"
    );
    for e in entries {
        let _ = writeln!(page, "<li><a href=\"{e}\">{e}</a></li>");
    }
    page.push_str("</ul>\n");
    page
}

/// The longest host shown on the gallery: a DNS name and a port. A
/// longer `Host` (a header may be 16 KB) is shown as `localhost`.
const MAX_HOST: usize = 261;

/// Where the gallery names the host, in its made form.
const HOST_MARK: &str = "\u{0}host\u{0}";

/// The pages made for the codes a server holds, kept while they stay the
/// same (a `--dir` may change under the server).
#[derive(Debug, Default)]
pub struct Made(Mutex<Option<Arc<Shelf>>>);

/// The made pages of one set of codes.
#[derive(Debug)]
struct Shelf {
    codes: Vec<String>,
    /// The gallery before and after its host.
    gallery: (Bytes, Bytes),
    flags_dir: Bytes,
}

impl Made {
    /// The pages of `codes`, made now if they are not the last ones made.
    fn shelf(&self, config: &ServerConfig, codes: &[String]) -> Arc<Shelf> {
        // A std `Mutex`: held while a page is made, never across an `.await`.
        let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match &*last {
            Some(shelf) if shelf.codes == codes => Arc::clone(shelf),
            _ => {
                let page = gallery(config, codes, HOST_MARK);
                let (before, after) = page.split_once(HOST_MARK).expect("the gallery names its host");
                let shelf = Arc::new(Shelf {
                    codes: codes.to_vec(),
                    gallery: (Bytes::copy_from_slice(before.as_bytes()), Bytes::copy_from_slice(after.as_bytes())),
                    flags_dir: listing("/flags/", codes.iter().map(|cc| format!("{cc}/"))).into(),
                });
                *last = Some(Arc::clone(&shelf));
                shelf
            }
        }
    }
}

/// The HTML of `page`, in parts to send one after another, for a server
/// holding `codes` (lower case, sorted) and reached as `host`; `None` if
/// the page does not exist.
pub fn render(page: &Page, config: &ServerConfig, codes: &[String], host: &str, made: &Made) -> Option<Vec<Bytes>> {
    Some(match page {
        Page::Index => {
            let shelf = made.shelf(config, codes);
            let host = if host.len() <= MAX_HOST { esc(host) } else { "localhost".to_string() };
            vec![shelf.gallery.0.clone(), Bytes::from(host), shelf.gallery.1.clone()]
        }
        Page::FlagsDir => vec![made.shelf(config, codes).flags_dir.clone()],
        Page::CodeDir(cc) => {
            codes.binary_search(cc).ok()?;
            let files = [format!("{cc}.gif"), "metadata.json".to_string()];
            vec![listing(&format!("/flags/{cc}/"), files.into_iter()).into()]
        }
    })
}

const STYLE: &str = "\
body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;background:#f4f5f7;color:#1d2430}\
header{background:#1f3a5f;color:#fff;padding:18px 28px}\
header h1{margin:0 0 6px;font-size:24px}header p{margin:4px 0}\
header code{background:rgba(255,255,255,.16);padding:1px 6px;border-radius:4px}\
header a{color:#cfe3ff}\
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:14px;padding:18px 28px}\
figure{margin:0;background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.14);padding:10px;text-align:center}\
figure a.pic{display:flex;align-items:center;justify-content:center;height:96px}\
figure img{display:block;max-width:100%;max-height:96px;width:auto;height:auto;border:1px solid #c5cbd3}\
figcaption{margin-top:6px;font-size:13px}.cc{font-weight:700;margin-right:4px}\
figcaption a{color:#55657a;font-size:12px}#live{display:flex;flex-wrap:wrap;align-items:flex-end;gap:6px 18px;margin-top:10px;font-variant-numeric:tabular-nums}#live b{font-size:20px}#live small{opacity:.8}#spark{display:flex;align-items:flex-end;gap:1px;height:28px;width:240px}#spark i{flex:1;background:#8fc1ff;min-height:1px}";

/// The live strip: polls `/stats` twice a second and shows the requests
/// in flight, the peak, requests per second and the answers by status,
/// with the last minute as bars. The body's `data-*` attributes keep what
/// it saw, for a test to read.
const LIVE: &str = "\
const $ = id => document.getElementById(id);\n\
const seen = {updates: 0, most: 0};\n\
async function poll() {\n\
  try {\n\
    const s = await (await fetch('/stats', {cache: 'no-store'})).json();\n\
    const now = s.in_flight;\n\
    const done = s.per_second.slice(0, -1);\n\
    const rate = done.length ? done[done.length - 1].requests : 0;\n\
    $('now').textContent = now; $('peak').textContent = s.peak_in_flight; $('rate').textContent = rate;\n\
    $('total').textContent = s.requests;\n\
    const answers = Object.entries(s.by_status).map(([k, v]) => k + ': ' + v);\n\
    if (s.unanswered) answers.push('left before an answer: ' + s.unanswered);\n\
    $('statuses').textContent = answers.join(', ') || 'none yet';\n\
    const top = Math.max(1, ...done.map(d => d.requests));\n\
    $('spark').innerHTML = done.map(d => '<i style=\"height:' + Math.round(100 * d.requests / top) + '%\"></i>').join('');\n\
    seen.updates += 1; seen.most = Math.max(seen.most, now);\n\
    Object.assign(document.body.dataset, {updates: seen.updates, mostInFlight: seen.most, requests: s.requests,\n\
      ok: s.by_status['200'] || 0, notFound: s.by_status['404'] || 0});\n\
  } catch (e) { $('statuses').textContent = 'server unreachable'; }\n\
}\n\
poll(); setInterval(poll, 500);\n";

/// The live waterfall: polls `/timeline?after=SEQ` twice a second (page
/// after page while `next` says more are waiting) and
/// draws the last 150 requests the server answered, whatever client sent
/// them (but this page's own images), a row each, grouped by connection, in the colour key of the
/// client's waterfalls ([`crate::waterfall::key_js`]), under the curve of
/// requests in flight. The body's `data-waterfall-*` attributes keep what
/// it drew.
const WATERFALL: &str = r##"
const wf = {seen: 0, rows: [], own: 0};
function drawWaterfall() {
  const rows = wf.rows.slice(-150).sort((a, b) => a.conn - b.conn || a.head_ms - b.head_ms);
  if (!rows.length) return;
  const t0 = Math.min(...rows.map(r => r.conn_ms)), t1 = Math.max(...rows.map(r => r.done_ms || r.head_ms));
  const W = 960, L = 40, top = 50, h = Math.max(2, Math.min(8, 300 / rows.length));
  const x = ms => L + (ms - t0) / Math.max(1, t1 - t0) * (W - L - 10);
  const edges = rows.flatMap(r => [[r.head_ms, 1], [r.done_ms || r.head_ms, -1]]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0, peak = 1;
  const steps = edges.map(([t, d]) => { now += d; peak = Math.max(peak, now); return [t, now]; });
  let path = 'M' + x(t0) + ',' + (top - 4);
  for (const [t, n] of steps) path += ' H' + x(t) + ' V' + (top - 4 - n / peak * 36);
  let svg = '<path d="' + path + ' H' + x(t1) + ' V' + (top - 4) + ' Z" fill="#c6dbef" stroke="#3173b5"/>' +
    '<text x="' + L + '" y="10" font-size="11">in flight (peak ' + peak + '), ' + rows.length +
    ' requests over ' + ((t1 - t0) / 1000).toFixed(2) + ' s</text>';
  let failed = 0, missing = 0, last = 0;
  rows.forEach((r, i) => {
    const y = top + i * h;
    const bad = r.status === null || r.status === 0 || (r.status >= 400 && r.status !== 404) || r.left_early;
    const lost = r.status === 404;
    failed += bad; missing += lost;
    const bar = (from, to, c) => {
      if (from == null || to == null) return;
      svg += '<rect x="' + x(from) + '" y="' + y + '" width="' + Math.max(0.5, x(to) - x(from)) +
        '" height="' + Math.max(1, h - 1) + '" fill="' + c + '"/>';
    };
    const band = bad ? KEY.failedBand : lost ? KEY.notFoundBand : null;
    if (band) svg += '<rect x="' + L + '" y="' + y + '" width="' + (W - L - 10) + '" height="' + h + '" fill="' + band + '"/>';
    if (r.conn !== last) bar(r.conn_ms, r.head_ms, KEY.wait);
    last = r.conn;
    const end = r.done_ms || r.head_ms;
    bar(r.head_ms, r.first_byte_ms ?? end, bad ? KEY.failed : lost ? KEY.notFound : KEY.server);
    bar(r.first_byte_ms, r.last_byte_ms ?? (r.first_byte_ms != null ? end : null), bad ? KEY.failed : lost ? KEY.notFound : KEY.receive);
  });
  const el = $('wf');
  el.setAttribute('viewBox', '0 0 ' + W + ' ' + (top + rows.length * h + 4));
  el.innerHTML = svg;
  $('wfkey').textContent = 'grey: from the accept to the first request; blue: the server holds the answer; green: it leaves; ' +
    failed + ' failed (red), ' + missing + ' not found (brown); this page\'s own ' + wf.own + ' requests not shown';
  Object.assign(document.body.dataset, {waterfallRows: rows.length, waterfallFailed: failed, waterfallNotFound: missing, waterfallPeak: peak, waterfallOwn: wf.own});
}
async function pollTimeline() {
  try {
    // A page holds at most 1 000 requests; `next` says more are waiting.
    for (let pages = 0; pages < 20; pages++) {
      const d = await (await fetch('/timeline?after=' + wf.seen, {cache: 'no-store'})).json();
      for (const r of d.requests) {
        wf.seen = Math.max(wf.seen, r.seq);
        if (r.page) wf.own += 1; else wf.rows.push(r);
      }
      if (d.next === null) break;
      wf.seen = Math.max(wf.seen, d.next);
    }
    wf.rows = wf.rows.slice(-150);
    drawWaterfall();
    document.body.dataset.waterfallOwn = wf.own;
  } catch (e) { $('wfkey').textContent = 'server unreachable'; }
}
pollTimeline(); setInterval(pollTimeline, 500);
"##;

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The gallery: what the server is doing, how to download from it, and
/// every flag with its code, name and links.
fn gallery(config: &ServerConfig, codes: &[String], host: &str) -> String {
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    let base = format!("{scheme}://{}/flags", esc(host));
    let what = match &config.source {
        Source::Catalog => "the embedded flags (drawn by the server at the originals' sizes)".to_string(),
        Source::Dir(d) => format!("the flags in <code>{}</code>", esc(&d.display().to_string())),
    };
    let label = config.label.map_or(String::new(), |l| format!(" Playing the book's <b>{l}</b> server."));
    let mut page = format!(
        "<!doctype html>\n<html lang=en>\n<meta charset=utf-8>\n\
         <meta name=viewport content=\"width=device-width,initial-scale=1\">\n\
         <title>flags server: {n} flags</title>\n<link rel=icon href=\"data:,\">\n<style>{STYLE}</style>\n<header>\n<h1>flags server</h1>\n\
         <p>Serving {n} flags: {what}.{label}</p>\n\
         <p>Delay {delay}, error rate {rate:.0}%, faults {faults}. The delay, errors and faults apply to the \
         flag API (<code>/flags/{{cc}}/{{cc}}.gif</code>, <code>metadata.json</code>), not to this page.</p>\n\
         <p>Download them: <code>flags get -s {base} -a</code> &middot; browse <a href=\"/flags/\">/flags/</a></p>\n\
         <p id=loaded>Loading {n} flags&hellip;</p>\n\
         <div id=live title=\"from /stats, twice a second\"><span><small>in flight</small><br><b id=now>0</b></span>\
         <span><small>peak</small><br><b id=peak>0</b></span><span><small title=\"this page's own images left out\">requests/s</small><br><b id=rate>0</b></span>\
         <span><small>last minute</small><br><span id=spark></span></span>\
         <span><small>requests</small><br><b id=total>0</b> <small id=statuses></small></span></div>\n\
         <details open><summary>Requests as the server sees them (the last 150, from <code>/timeline</code>)</summary>\
         <svg id=wf xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 960 60\" width=\"100%\" style=\"background:#fff;border-radius:6px;max-width:960px\"></svg>\
         <p id=wfkey>waiting for requests</p></details>\n\
         </header>\n<main>\n",
        n = codes.len(),
        delay = config.delay,
        rate = config.error_rate * 100.0,
        faults = config.faults,
    );
    for cc in codes {
        let upper = cc.to_ascii_uppercase();
        let country = CountryCode::new(cc).ok().and_then(lookup);
        let name = country.map_or(String::new(), |c| esc(&c.name));
        let size = country.map_or(String::new(), |c| format!(" width={} height={}", c.width, c.height));
        let _ = writeln!(
            page,
            "<figure id=cc-{cc}><a class=pic href=\"/flags/{cc}/{cc}.gif\"><img src=\"/flags/{cc}/{cc}.gif\" alt=\"Flag of {alt}\"{size}></a>\
             <figcaption><span class=cc>{upper}</span><span class=name>{name}</span><br>\
             <a href=\"/flags/{cc}/metadata.json\">metadata.json</a></figcaption></figure>",
            alt = if name.is_empty() { upper.clone() } else { name.clone() },
        );
    }
    page.push_str(
        "</main>\n<script>\naddEventListener('load', () => {\n\
         const imgs = [...document.images];\n\
         const shown = imgs.filter(i => i.complete && i.naturalWidth > 0).length;\n\
         document.getElementById('loaded').textContent = shown + ' of ' + imgs.length + ' flags shown';\n\
         document.body.dataset.shown = shown;\n});\n",
    );
    page.push_str(LIVE);
    let _ = writeln!(page, "const KEY = {};", crate::waterfall::key_js());
    page.push_str(WATERFALL);
    page.push_str("</script>\n</html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gallery_is_small_and_names_every_flag() {
        let codes: Vec<String> = crate::countries::catalog().iter().map(|c| c.cc.to_ascii_lowercase()).collect();
        let page = gallery(&ServerConfig::default(), &codes, "127.0.0.1:8000");
        assert!(page.len() < 100 * 1024, "{} bytes", page.len());
        assert_eq!(page.matches("<figure").count(), 194);
        assert!(page.contains("<span class=name>Côte d'Ivoire</span>"));
        assert!(page.contains("flags get -s http://127.0.0.1:8000/flags -a"));
        assert!(!page.contains("src=\"http") && !page.contains("href=\"http"), "no external resources");
    }

    #[test]
    fn the_gallery_is_made_once_and_names_the_host_asked_for() {
        let codes: Vec<String> = crate::countries::catalog().iter().map(|c| c.cc.to_ascii_lowercase()).collect();
        let (config, made) = (ServerConfig::default(), Made::default());
        let whole = |parts: Vec<Bytes>| parts.concat();
        let one = render(&Page::Index, &config, &codes, "127.0.0.1:8000", &made).unwrap();
        assert_eq!(whole(one.clone()), gallery(&config, &codes, "127.0.0.1:8000").into_bytes());
        let two = render(&Page::Index, &config, &codes, "a<b", &made).unwrap();
        assert_eq!(one[0].as_ptr(), two[0].as_ptr(), "shared, not made again");
        assert_eq!(&two[1][..], b"a&lt;b");
        let long = "h".repeat(MAX_HOST + 1);
        assert_eq!(&render(&Page::Index, &config, &codes, &long, &made).unwrap()[1][..], b"localhost");
        let fewer = render(&Page::FlagsDir, &config, &codes[1..], "x", &made).unwrap();
        assert!(
            !String::from_utf8_lossy(&fewer[0]).contains(&format!("\"{}/\"", codes[0])),
            "made again for new codes"
        );
    }

    #[test]
    fn listings_route() {
        assert_eq!(route("/flags/"), Some(Page::FlagsDir));
        assert_eq!(route("/flags/br/"), Some(Page::CodeDir("br".into())));
        assert_eq!(route("/flags/br"), None);
    }
}
