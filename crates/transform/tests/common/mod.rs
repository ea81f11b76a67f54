//! Helpers shared by the transform tests.
#![allow(dead_code)]

use std::path::PathBuf;

use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use fitpipe_transform::fitbit::{self, Context, Units};
use fitpipe_transform::RowSet;

/// The package folder, as `cargo test` gives it at run time (not the one a reused test
/// binary was built in, which may be another checkout's).
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), PathBuf::from)
}

pub fn ctx(tz: &str) -> Context {
    Context {
        user_id: "U1".into(),
        tz: Some(tz.parse::<Tz>().unwrap()),
        fetched_utc: Some(
            DateTime::parse_from_rfc3339("2024-01-02T03:04:05Z")
                .unwrap()
                .with_timezone(&Utc),
        ),
        units: Units::Metric,
    }
}

pub fn rows(bytes: &[u8], tz: &str) -> RowSet {
    let doc = fitbit::parse(bytes).unwrap();
    fitbit::normalise(&doc, &ctx(tz)).unwrap()
}

/// Every table with rows, as aligned text (at most `limit` rows each).
pub fn pretty(rows: &RowSet, limit: usize) -> String {
    let mut out = String::new();
    for (spec, batch) in rows.batches() {
        let n = batch.num_rows();
        let shown = batch.slice(0, n.min(limit));
        out.push_str(&format!(
            "{} ({} rows{})\n",
            spec.name,
            n,
            if n > limit { ", first shown" } else { "" }
        ));
        out.push_str(&table_text(&shown));
        out.push('\n');
    }
    out
}

/// A batch as an aligned text table (`+---+` rules, `| a |` cells, left-aligned, nulls
/// blank): the layout of arrow's `pretty_format_batches`, without the `prettyprint`
/// feature, whose second build of arrow-cast cost every `cargo test` after a `cargo build`.
pub fn table_text(batch: &RecordBatch) -> String {
    let opts = FormatOptions::default();
    let schema = batch.schema();
    let mut cells: Vec<Vec<String>> = vec![schema
        .fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect()];
    let fmts: Vec<ArrayFormatter> = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
        .collect();
    for i in 0..batch.num_rows() {
        cells.push(fmts.iter().map(|f| f.value(i).to_string()).collect());
    }
    let widths: Vec<usize> = (0..fmts.len())
        .map(|c| {
            cells
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let rule: String = widths
        .iter()
        .fold(String::from("+"), |s, w| s + &"-".repeat(w + 2) + "+");
    let line = |row: &[String]| {
        row.iter()
            .zip(&widths)
            .fold(String::from("|"), |s, (v, w)| {
                s + " " + v + &" ".repeat(w - v.chars().count()) + " |"
            })
    };
    let mut out = vec![rule.clone(), line(&cells[0]), rule.clone()];
    out.extend(cells[1..].iter().map(|r| line(r)));
    out.push(rule);
    out.join("\n")
}

/// ../shared/reference/samples/fitbit-web-api, or None (with a notice) where absent.
pub fn samples_dir() -> Option<PathBuf> {
    let d = manifest_dir().join("../../../shared/reference/samples/fitbit-web-api");
    if d.is_dir() {
        Some(d)
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} is absent, and CI=true: the reference samples must be there",
            d.display()
        );
        eprintln!(
            "notice: {} is absent; sample conformance tests skipped",
            d.display()
        );
        None
    }
}
