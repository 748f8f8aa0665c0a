//! `bench.svg`, drawn with plotters' SVG backend. Top left: the
//! concurrency sweep, wall time against `-m` per style, both axes
//! logarithmic, with the ideal (latency) bound dashed. Top right: peak RSS
//! per style over the same sweep, also logarithmic. Below: W1 to W6, each
//! tool's median as a bar with a whisker from its fastest to its slowest
//! run, peers included, on a logarithmic time axis.
//!
//! Every logarithmic axis is ticked at 1, 2 and 5 x 10^n, and a legend
//! lists only the tools the panel has data for. A tool keeps its colour in
//! every panel.

use plotters::prelude::*;

use super::result::{BenchReport, Point};
use super::workload::Workload;

/// One colour a tool, for the 15 tools a full bench with `--peers`
/// measures and a few more: past ten, two tools shared a colour (python3
/// threads drew in flags sequential's).
const COLOURS: [RGBColor; 16] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0x17, 0xbe, 0xcf),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x00, 0x33, 0x66),
    RGBColor(0x8b, 0x00, 0x00),
    RGBColor(0x00, 0x64, 0x00),
    RGBColor(0xb8, 0x86, 0x0b),
    RGBColor(0x4b, 0x00, 0x82),
    RGBColor(0x00, 0x80, 0x80),
];

/// Every tool in the report, in a fixed order, so each keeps one colour.
fn all_tools(report: &BenchReport) -> Vec<String> {
    let mut tools: Vec<String> = Vec::new();
    for p in &report.points {
        if !tools.contains(&p.tool) {
            tools.push(p.tool.clone());
        }
    }
    tools
}

fn colour_of(tools: &[String], tool: &str) -> RGBColor {
    COLOURS[tools.iter().position(|t| t == tool).unwrap_or(0) % COLOURS.len()]
}

/// 1, 2, 5 x 10^n from `lo` to `hi`.
pub fn one_two_five(lo: f64, hi: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    let mut power = 10f64.powf(lo.max(f64::MIN_POSITIVE).log10().floor());
    while power <= hi {
        for m in [1.0, 2.0, 5.0] {
            // Rounded, so 2 x 0.01 is 0.02 and not 0.020000000000000004.
            let t = (m * power * 1e12).round() / 1e12;
            if t >= lo * 0.999 && t <= hi * 1.001 {
                ticks.push(t);
            }
        }
        power *= 10.0;
    }
    ticks
}

/// A tick's label: `0.02`, `0.5`, `2`, `500`.
fn tick_label(v: &f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Bounds of a log axis holding `values`, with room around them.
fn log_bounds(values: impl Iterator<Item = f64>, fallback: (f64, f64)) -> (f64, f64) {
    let (lo, hi) = values.filter(|v| *v > 0.0).fold((f64::MAX, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if hi > 0.0 {
        (lo / 1.6, hi * 1.6)
    } else {
        fallback
    }
}

/// The SVG document, as text.
pub fn svg(report: &BenchReport) -> Result<String, ChartError> {
    let tools = all_tools(report);
    let sweep: Vec<&Point> = report.points.iter().filter(|p| p.workload == Workload::SweepConcurrency).collect();
    // A series of one point is sequential at -m 1, where every style stands:
    // it would hide under the others' first point, so it is not drawn.
    let sweep_tools: Vec<&String> =
        tools.iter().filter(|t| sweep.iter().filter(|p| &p.tool == *t).count() >= 2).collect();
    let bars: Vec<&Point> = report.points.iter().filter(|p| !p.workload.is_sweep()).collect();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (1100, 920)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let (top, bottom) = root.split_vertically(460);
        let (left, right) = top.split_horizontally(620);
        sweep_panel(&left, &sweep, &sweep_tools, &tools)?;
        rss_panel(&right, &sweep, &sweep_tools, &tools)?;
        workloads_panel(&bottom, &bars, &tools)?;
        root.present().map_err(draw_err)?;
    }
    Ok(out)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn sweep_panel(area: &Area<'_>, sweep: &[&Point], shown: &[&String], tools: &[String]) -> Result<(), ChartError> {
    let max_c = sweep.iter().map(|p| p.concurrency).max().unwrap_or(500).max(2) as f64 * 1.5;
    let (t_min, t_max) =
        log_bounds(sweep.iter().flat_map(|p| [p.median_s, p.ideal_s]).filter(|t| *t > 0.0), (0.001, 10.0));
    let latency = sweep.first().map_or(0.0, |p| p.latency_s);
    let codes = sweep.first().map_or(0, |p| p.codes);
    let title = match sweep.is_empty() {
        true => "concurrency sweep: not measured".to_string(),
        false => format!("{codes} flags, {:.0} ms latency: wall time", latency * 1000.0),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (1f64..max_c).log_scale().with_key_points(one_two_five(1.0, max_c)),
            (t_min..t_max).log_scale().with_key_points(one_two_five(t_min, t_max)),
        )
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .x_desc("concurrency (-m)")
        .y_desc("seconds (median)")
        .x_label_formatter(&tick_label)
        .y_label_formatter(&tick_label)
        .draw()
        .map_err(draw_err)?;
    for tool in shown {
        let colour = colour_of(tools, tool);
        let series: Vec<(f64, f64)> =
            sweep.iter().filter(|p| &p.tool == *tool).map(|p| (p.concurrency as f64, p.median_s)).collect();
        chart
            .draw_series(LineSeries::new(series.clone(), colour.stroke_width(2)))
            .map_err(draw_err)?
            .label(tool.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
        chart.draw_series(series.iter().map(|&p| Circle::new(p, 3, colour.filled()))).map_err(draw_err)?;
    }
    // No bound is drawn under a random delay (`--delay`): none is known.
    let mut bound: Vec<(f64, f64)> =
        sweep.iter().filter(|p| p.delay.is_none()).map(|p| (p.concurrency as f64, p.ideal_s)).collect();
    bound.sort_by(|a, b| a.0.total_cmp(&b.0));
    bound.dedup();
    if !bound.is_empty() {
        chart
            .draw_series(DashedLineSeries::new(bound, 6, 4, BLACK.stroke_width(1)))
            .map_err(draw_err)?
            .label("ideal: ceil(codes/m) x latency")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    }
    if !shown.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(draw_err)?;
    }
    Ok(())
}

fn rss_panel(area: &Area<'_>, sweep: &[&Point], shown: &[&String], tools: &[String]) -> Result<(), ChartError> {
    let max_c = sweep.iter().map(|p| p.concurrency).max().unwrap_or(500).max(2) as f64 * 1.5;
    let mib = |p: &Point| p.peak_rss_kib as f64 / 1024.0;
    let (lo, hi) = log_bounds(sweep.iter().map(|p| mib(p)), (1.0, 100.0));
    let mut rss = ChartBuilder::on(area)
        .caption("peak RSS", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(
            (1f64..max_c).log_scale().with_key_points(one_two_five(1.0, max_c)),
            (lo..hi).log_scale().with_key_points(one_two_five(lo, hi)),
        )
        .map_err(draw_err)?;
    rss.configure_mesh()
        .x_desc("concurrency (-m)")
        .y_desc("MiB")
        .x_label_formatter(&tick_label)
        .y_label_formatter(&tick_label)
        .draw()
        .map_err(draw_err)?;
    for tool in shown {
        let colour = colour_of(tools, tool);
        let series: Vec<(f64, f64)> =
            sweep.iter().filter(|p| &p.tool == *tool).map(|p| (p.concurrency as f64, mib(p))).collect();
        rss.draw_series(LineSeries::new(series.clone(), colour.stroke_width(2))).map_err(draw_err)?;
        rss.draw_series(series.iter().map(|&p| Circle::new(p, 3, colour.filled()))).map_err(draw_err)?;
    }
    Ok(())
}

/// The longest tool name the bars' key shows whole.
const KEY_NAME: usize = 32;

/// W1 to W6: a group of bars per workload, one per tool that ran it, and
/// their key in a column of its own on the right, where no bar goes.
fn workloads_panel(whole: &Area<'_>, bars: &[&Point], tools: &[String]) -> Result<(), ChartError> {
    let area = &bars_key(whole, bars, tools)?;
    let mut workloads: Vec<Workload> = bars.iter().map(|p| p.workload).collect();
    workloads.sort();
    workloads.dedup();
    // x: each workload's bars side by side, a gap between workloads.
    let mut slots: Vec<(f64, &Point)> = Vec::new();
    let mut centres: Vec<(f64, Workload)> = Vec::new();
    let mut x = 0.0;
    for w in &workloads {
        let first = x;
        for p in bars.iter().filter(|p| p.workload == *w) {
            slots.push((x + 0.5, p));
            x += 1.0;
        }
        centres.push(((first + x) / 2.0, *w));
        x += 1.0;
    }
    let width = x.max(1.0);
    let (lo, hi) = log_bounds(bars.iter().flat_map(|p| [p.min_s, p.max_s]), (0.01, 10.0));
    let mut chart = ChartBuilder::on(area)
        .caption("W1-W6: median wall time, whiskers from fastest to slowest run", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..width, (lo..hi).log_scale().with_key_points(one_two_five(lo, hi)))
        .map_err(draw_err)?;
    let labels = centres.clone();
    let name = move |v: &f64| {
        labels.iter().find(|(c, _)| (c - v).abs() < 1e-6).map_or(String::new(), |(_, w)| w.id().to_string())
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("seconds")
        .y_label_formatter(&tick_label)
        .draw()
        .map_err(draw_err)?;
    // Workload names above their groups.
    for (c, _) in &centres {
        let text = name(c);
        chart
            .draw_series(std::iter::once(Text::new(
                text,
                (*c - 0.3, hi / 1.15),
                ("sans-serif", 14).into_font().color(&BLACK),
            )))
            .map_err(draw_err)?;
    }
    for (x, p) in &slots {
        let colour = colour_of(tools, &p.tool);
        let bar = Rectangle::new([(x - 0.42, lo), (x + 0.42, p.median_s.max(lo))], colour.mix(0.8).filled());
        chart.draw_series(std::iter::once(bar)).map_err(draw_err)?;
        let whisker = [
            PathElement::new(vec![(*x, p.min_s), (*x, p.max_s)], BLACK.stroke_width(1)),
            PathElement::new(vec![(x - 0.2, p.min_s), (x + 0.2, p.min_s)], BLACK.stroke_width(1)),
            PathElement::new(vec![(x - 0.2, p.max_s), (x + 0.2, p.max_s)], BLACK.stroke_width(1)),
        ];
        chart.draw_series(whisker).map_err(draw_err)?;
    }
    Ok(())
}

/// Draws the key of the bars' tools, in the order they first appear, in a
/// column on the right of `whole` as wide as its longest name; returns
/// the rest of `whole`, for the bars.
fn bars_key<'a>(whole: &Area<'a>, bars: &[&Point], tools: &[String]) -> Result<Area<'a>, ChartError> {
    let mut shown: Vec<&str> = Vec::new();
    for p in bars {
        if !shown.contains(&p.tool.as_str()) {
            shown.push(&p.tool);
        }
    }
    // A name longer than KEY_NAME (a `--peer`'s, say) is cut, so the bars
    // keep their room.
    let name = |tool: &str| match tool.chars().count() > KEY_NAME {
        true => format!("{}…", tool.chars().take(KEY_NAME - 1).collect::<String>()),
        false => tool.to_string(),
    };
    let key_width = shown.iter().map(|t| name(t).chars().count()).max().unwrap_or(0) as u32 * 7 + 40;
    let (width_px, _) = whole.dim_in_pixel();
    let (area, key) = whole.split_horizontally(width_px.saturating_sub(key_width));
    for (i, tool) in shown.iter().enumerate() {
        let (x, y) = (8, 48 + i as i32 * 18);
        let colour = colour_of(tools, tool);
        key.draw(&Rectangle::new([(x, y), (x + 12, y + 10)], colour.filled())).map_err(draw_err)?;
        key.draw(&Text::new(name(tool), (x + 18, y), ("sans-serif", 13).into_font().color(&BLACK)))
            .map_err(draw_err)?;
    }
    Ok(area)
}

/// Why the chart could not be drawn: the drawing library's error, kept as
/// the cause.
pub type ChartError = Box<dyn std::error::Error + Send + Sync>;

fn draw_err<E: std::error::Error + Send + Sync + 'static>(e: E) -> ChartError {
    Box::new(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(workload: Workload, tool: &str, concurrency: usize, median_s: f64) -> Point {
        Point {
            workload,
            tool: tool.into(),
            codes: 194,
            concurrency,
            latency_s: 0.02,
            delay: None,
            error_rate: 0.0,
            ideal_s: 0.02,
            work_ms: None,
            self_timed_s: None,
            workers: None,
            median_s,
            min_s: median_s * 0.9,
            max_s: median_s * 1.2,
            ratio_to_ideal: None,
            speedup_vs_sequential: None,
            peak_rss_kib: 8 << 10,
            cpu_s: 0.1,
            saved: 194,
            failed_runs: 0,
            connections: None,
            tls_handshakes: None,
            tls_handshake_ms: None,
            requests: None,
            peak_in_flight: None,
        }
    }

    fn report(points: Vec<Point>) -> BenchReport {
        BenchReport { version: "0".into(), cores: 2, runs: 1, quick: true, external_server: None, points }
    }

    #[test]
    fn the_legends_name_only_what_is_drawn() {
        let sweep = Workload::SweepConcurrency;
        let drawn = svg(&report(vec![
            point(sweep, "flags sequential", 1, 4.0),
            point(sweep, "flags async", 1, 4.0),
            point(sweep, "flags async", 10, 0.4),
            point(sweep, "flags async", 100, 0.05),
        ]))
        .unwrap();
        assert!(drawn.contains("flags async"));
        assert!(!drawn.contains("flags sequential"), "a one-point series is not drawn, nor named");
        let bars =
            svg(&report(vec![point(Workload::W2, "curl", 100, 0.1), point(Workload::W2, "flags async", 100, 0.08)]))
                .unwrap();
        assert!(bars.contains("\ncurl\n") && bars.contains("\nW2\n"), "{bars}");
        assert!(bars.contains("concurrency sweep: not measured"));
    }

    #[test]
    fn the_key_of_the_bars_is_beside_them_never_over_them() {
        let tools = ["flags sequential", "flags async", "python3 threads", "python3 processes", "curl"];
        let points = [Workload::W1, Workload::W2, Workload::W6]
            .into_iter()
            .flat_map(|w| tools.iter().map(move |t| point(w, t, 20, 1.0)))
            .collect();
        let drawn = svg(&report(points)).unwrap();
        let doc = roxmltree::Document::parse(&drawn).unwrap();
        let number =
            |n: &roxmltree::Node<'_, '_>, a: &str| n.attribute(a).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        // The bars: the rectangles drawn see-through, as only bars are.
        let bars_end = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "rect" && n.attribute("opacity") == Some("0.8"))
            .map(|n| number(&n, "x") + number(&n, "width"))
            .fold(0.0, f64::max);
        assert!(bars_end > 0.0, "no bar found: {drawn}");
        for tool in tools {
            let key = doc
                .descendants()
                .find(|n| n.tag_name().name() == "text" && n.text().map(str::trim) == Some(tool))
                .unwrap();
            assert!(
                number(&key, "x") > bars_end,
                "{tool}'s key at x {} over the bars (to {bars_end})",
                number(&key, "x")
            );
        }
    }

    #[test]
    fn a_full_bench_draws_every_tool_in_a_colour_of_its_own() {
        let tools: Vec<String> = (0..15).map(|i| format!("tool {i}")).collect();
        let colours: std::collections::BTreeSet<(u8, u8, u8)> =
            tools.iter().map(|t| colour_of(&tools, t)).map(|RGBColor(r, g, b)| (r, g, b)).collect();
        assert_eq!(colours.len(), tools.len());
    }

    #[test]
    fn log_ticks_are_one_two_five() {
        assert_eq!(one_two_five(0.015, 3.0), [0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0]);
        assert_eq!(one_two_five(1.0, 750.0), [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0]);
        assert_eq!(tick_label(&0.02), "0.02");
        assert_eq!(tick_label(&500.0), "500");
    }
}
