//! The report card's fixed parts: its style sheet and the legend of the
//! grades. Kept apart from the page's builder so that each stays short.

/// The style sheet. The grid sits in a box of its own that scrolls both
/// ways, with the clients' row and the cases' column held in place, so
/// that twenty clients stay readable on a laptop's screen.
pub const CSS: &str = "\
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:100em}\
h1{margin:0 0 .3em}h2{margin-top:1.6em}\
code,pre{font:12px/1.35 ui-monospace,monospace}\
pre{white-space:pre-wrap;word-break:break-all;max-height:18em;overflow:auto;background:#f6f6f6;padding:4px 6px;margin:.2em 0}\
table{border-collapse:separate;border-spacing:0}\
td,th{border:1px solid #ddd;padding:2px 5px;vertical-align:top;text-align:left}\
th{background:#f2f2f2}\
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1em 1em;margin:.5em 0}\
dl.meta dt{font-weight:600}dl.meta dd{margin:0}\
.pass{background:#dcf3d9}.fail{background:#f8d0cc}.info{background:#d8ebf8}\
.na{background:#f4f4f4;color:#777}.ungraded{background:#eee;color:#999}.hung{background:#e8b4ad}\
.legend td:first-child{font-weight:600;text-align:center;width:4em}\
.scores td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
.grid{overflow:auto;max-height:85vh;border:1px solid #ccc;max-width:100%}\
.grid table{font-size:12px}\
.grid thead th{position:sticky;top:0;z-index:2;vertical-align:bottom;background:#f2f2f2}\
.grid th.client{padding:4px 2px}\
.grid th.client span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;display:inline-block}\
.grid tbody th{position:sticky;left:0;z-index:1;background:#fafafa;white-space:nowrap;font-weight:normal}\
.grid thead th.corner{left:0;z-index:3}\
.grid tr.family th{background:#e9e9e9;font-weight:600}\
.grid td{padding:0;text-align:center;min-width:3.2em}\
.grid td a{display:block;padding:2px 3px;color:inherit;text-decoration:none}\
.grid td a:hover{outline:2px solid #555}\
.grid small{color:#777}\
section.case{border-top:1px solid #ccc;margin-top:1em;padding-top:.3em}\
section.case:target,details.run:target{outline:3px solid #f0b400;outline-offset:2px}\
details.run{margin:.25em 0;padding:0 .4em;border-left:6px solid #ccc}\
details.run.pass{border-color:#7bc46f}details.run.fail,details.run.hung{border-color:#d9534f}\
details.run.info{border-color:#5aa0d8}\
details.run summary{cursor:pointer}\
details.run>div{background:#fff;padding:.2em .5em .5em;font-size:13px}\
";

/// The legend: what each word in a cell means.
pub const LEGEND: &str = "<table class=\"legend\">\
<tr><td class=\"pass\">PASS</td><td>the client ended as a correct client must: the flag saved, or the failure reported with no file left</td></tr>\
<tr><td class=\"fail\">FAIL</td><td>it did not: the reason says what it left or did (a partial file, exit 0 with no file, a credential sent to another host, too much memory...)</td></tr>\
<tr><td class=\"hung\">hung</td><td>a FAIL: the client was still running at the deadline, and its process group was killed</td></tr>\
<tr><td class=\"info\">INFO</td><td>a legitimate choice (follow a redirect or report it, decode gzip or keep the bytes as sent): the reason says which it made</td></tr>\
<tr><td class=\"na\">N/A</td><td>the case needs what the client does not declare (retries, several files, HTTP/2, a CA file)</td></tr>\
<tr><td class=\"ungraded\">--</td><td>not graded: a control this case rests on failed (the client never ran, never connected, or could not fetch a plain flag), so nothing it did here counts</td></tr>\
</table>\
<p>Protocol cases ask what any correct HTTP client must do; task cases, what a flag downloader must \
(a 204 or an HTML page is no flag). Each cell links to its run's details; each case's name, to the case.</p>";
