//! `bench.svg`: the concurrency sweep drawn with plotters' SVG backend.
//! Left: wall time against concurrency per style, both axes logarithmic,
//! with the ideal (latency) bound dashed. Right: peak RSS per style.

use plotters::prelude::*;

use super::result::{BenchReport, Point};
use super::workload::Workload;

const COLOURS: [RGBColor; 7] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0x7f, 0x7f, 0x7f),
];

/// The SVG document, as text.
pub fn svg(report: &BenchReport) -> Result<String, String> {
    let sweep: Vec<&Point> = report.points.iter().filter(|p| p.workload == Workload::SweepConcurrency).collect();
    let mut tools: Vec<&str> = sweep.iter().map(|p| p.tool.as_str()).collect();
    tools.dedup();
    tools.sort();
    tools.dedup();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (1100, 460)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let (left, right) = root.split_horizontally(620);
        let max_c = sweep.iter().map(|p| p.concurrency).max().unwrap_or(500).max(2) as f64 * 1.5;
        let times = sweep.iter().flat_map(|p| [p.median_s, p.ideal_s]).filter(|t| *t > 0.0);
        let (t_min, t_max) = times.fold((f64::MAX, 0.0f64), |(lo, hi), t| (lo.min(t), hi.max(t)));
        let (t_min, t_max) = if t_max > 0.0 { (t_min / 2.0, t_max * 2.0) } else { (0.001, 10.0) };
        let latency = sweep.first().map_or(0.0, |p| p.latency_s);
        let codes = sweep.first().map_or(0, |p| p.codes);
        let title = format!("{codes} flags, {:.0} ms latency: wall time", latency * 1000.0);
        let mut chart = ChartBuilder::on(&left)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((1f64..max_c).log_scale(), (t_min..t_max).log_scale())
            .map_err(draw_err)?;
        chart.configure_mesh().x_desc("concurrency (-m)").y_desc("seconds (median)").draw().map_err(draw_err)?;
        for (i, tool) in tools.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let series: Vec<(f64, f64)> =
                sweep.iter().filter(|p| p.tool == *tool).map(|p| (p.concurrency as f64, p.median_s)).collect();
            chart
                .draw_series(LineSeries::new(series.clone(), colour.stroke_width(2)))
                .map_err(draw_err)?
                .label(*tool)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
            chart.draw_series(series.iter().map(|&p| Circle::new(p, 3, colour.filled()))).map_err(draw_err)?;
        }
        let mut bound: Vec<(f64, f64)> = sweep.iter().map(|p| (p.concurrency as f64, p.ideal_s)).collect();
        bound.sort_by(|a, b| a.0.total_cmp(&b.0));
        bound.dedup();
        chart
            .draw_series(DashedLineSeries::new(bound, 6, 4, BLACK.stroke_width(1)))
            .map_err(draw_err)?
            .label("ideal: ceil(codes/m) x latency")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(draw_err)?;

        let rss_max = sweep.iter().map(|p| p.peak_rss_kib).max().unwrap_or(1).max(1) as f64 / 1024.0 * 1.2;
        let mut rss = ChartBuilder::on(&right)
            .caption("peak RSS", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((1f64..max_c).log_scale(), 0f64..rss_max)
            .map_err(draw_err)?;
        rss.configure_mesh().x_desc("concurrency (-m)").y_desc("MiB").draw().map_err(draw_err)?;
        for (i, tool) in tools.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let series: Vec<(f64, f64)> = sweep
                .iter()
                .filter(|p| p.tool == *tool)
                .map(|p| (p.concurrency as f64, p.peak_rss_kib as f64 / 1024.0))
                .collect();
            rss.draw_series(LineSeries::new(series.clone(), colour.stroke_width(2))).map_err(draw_err)?;
            rss.draw_series(series.iter().map(|&p| Circle::new(p, 3, colour.filled()))).map_err(draw_err)?;
        }
        root.present().map_err(draw_err)?;
    }
    Ok(out)
}

fn draw_err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}
