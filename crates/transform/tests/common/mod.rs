//! Helpers shared by the transform tests.
#![allow(dead_code)]

use std::path::PathBuf;

use arrow::util::pretty::pretty_format_batches;
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
        out.push_str(&pretty_format_batches(&[shown]).unwrap().to_string());
        out.push('\n');
    }
    out
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
