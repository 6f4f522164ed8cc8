//! `--bench`: each record timed both ways, the Go program's then ours, one
//! record after the other (so a busy moment of the machine weighs on both),
//! by the same method as the Go program's `nsPerRender`: a parse and an
//! execute repeated for about `sample` a sample, the median of five samples
//! (one for a render slower than 100 ms).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

pub fn ns_per_render(sample: Duration, mut render: impl FnMut()) -> f64 {
    let start = Instant::now();
    render();
    let once = start.elapsed();
    if once > Duration::from_millis(100) {
        return once.as_nanos() as f64;
    }
    let iters = if once.is_zero() || sample <= once {
        1
    } else {
        (sample.as_nanos() / once.as_nanos()) as u32
    };
    let mut samples: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                render();
            }
            start.elapsed().as_nanos() as f64 / f64::from(iters)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// One record's times.
pub struct Timing {
    pub label: String,
    pub go_ns: f64,
    pub rust_ns: f64,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[at]
}

fn sorted(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v
}

fn human(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// The summary, as Markdown for docs/benchmarks.md.
pub fn summary(timings: &[Timing]) -> String {
    let mut out = String::new();
    if timings.is_empty() {
        return "no record was timed\n".into();
    }
    let go = sorted(timings.iter().map(|t| t.go_ns));
    let rust = sorted(timings.iter().map(|t| t.rust_ns));
    // Go's time over ours: above 1, ours is faster.
    let speedup = sorted(timings.iter().map(|t| t.go_ns / t.rust_ns));
    let geo = (speedup.iter().map(|r| r.ln()).sum::<f64>() / speedup.len() as f64).exp();
    let _ = writeln!(
        out,
        "{} renders (parse + execute), each timed both ways:\n",
        timings.len()
    );
    let _ = writeln!(out, "| | p10 | median | p90 | sum (the corpus once) |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    for (name, v) in [
        ("Go text/template + sprig", &go),
        ("go-text-template (Rust)", &rust),
    ] {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} |",
            human(quantile(v, 0.1)),
            human(quantile(v, 0.5)),
            human(quantile(v, 0.9)),
            human(v.iter().sum())
        );
    }
    let _ = writeln!(
        out,
        "\nGo's time over ours, per render: p10 {:.2}x, median {:.2}x, p90 {:.2}x, geometric mean {:.2}x, \
         whole corpus {:.2}x; ours slower on {} of {}.",
        quantile(&speedup, 0.1),
        quantile(&speedup, 0.5),
        quantile(&speedup, 0.9),
        geo,
        go.iter().sum::<f64>() / rust.iter().sum::<f64>(),
        speedup.iter().filter(|r| **r < 1.0).count(),
        speedup.len()
    );
    let mut worst: Vec<&Timing> = timings.iter().collect();
    worst.sort_by(|a, b| (a.go_ns / a.rust_ns).total_cmp(&(b.go_ns / b.rust_ns)));
    let _ = writeln!(out, "\nOurs slowest against Go:\n");
    let _ = writeln!(out, "| record | Go | ours | Go/ours |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for t in worst.iter().take(8) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.2}x |",
            t.label,
            human(t.go_ns),
            human(t.rust_ns),
            t.go_ns / t.rust_ns
        );
    }
    out
}
