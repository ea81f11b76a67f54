//! The demo's tables, byte for byte: a snapshot of every table file the demo writes for a
//! fixed window, from both APIs, taken before the library left the binary (issue #25), so a
//! move or a refactor that changes one byte of an existing table fails here.
//!
//! Only where the writer is deterministic: the profile's `updated_utc` is the time of the
//! run, so the profile is compared as CSV with that column cut (its Parquet file not at all).
//! After a deliberate change of a table, rewrite the snapshot with
//! `FITPIPE_BLESS=1 cargo test --test tests golden` and say why in the commit.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{fitpipe, s};

const SNAPSHOT: &str = "tests/fixtures/demo-tables.sha256";

/// `relative path -> sha256` of every table file under `out` (not raw answers, state,
/// locks or the demo's tokens).
fn table_hashes(out: &Path, prefix: &str, into: &mut BTreeMap<String, String>) {
    for (rel, bytes) in super::study::files(out) {
        let skip = rel.starts_with("raw/")
            || rel.starts_with(".")
            || rel.ends_with(".lock")
            || rel == "profile/data.parquet";
        if skip {
            continue;
        }
        let mut bytes = bytes;
        if rel == "csv/profile/data.csv" {
            bytes = without_column(&bytes, "updated_utc");
        }
        let hex: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        into.insert(format!("{prefix}/{rel}"), hex);
    }
}

/// The CSV text with one column cut (the profile holds no quoted commas).
fn without_column(csv: &[u8], name: &str) -> Vec<u8> {
    let text = String::from_utf8(csv.to_vec()).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header
        .iter()
        .position(|h| *h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    let cut = |l: &str| {
        let mut f: Vec<&str> = l.split(',').collect();
        f.remove(at);
        f.join(",")
    };
    let mut out = cut(&header.join(","));
    for l in lines {
        out.push('\n');
        out.push_str(&cut(l));
    }
    out.into_bytes()
}

#[test]
fn the_demo_tables_are_unchanged_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let mut now = BTreeMap::new();
    for (provider, intraday) in [
        ("fitbit-web-api", "heart,steps"),
        ("google-health", "heart,steps"),
    ] {
        let out = dir.path().join(provider);
        let r = fitpipe(&[
            "ingest",
            "--demo",
            "--provider",
            provider,
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-10",
            "--intraday",
            intraday,
            "--format",
            "parquet,csv",
            "--quiet",
            "--out",
            s(&out),
        ]);
        assert_eq!(r.code, 0, "{provider}: {}", r.stderr);
        table_hashes(&out, provider, &mut now);
    }
    assert!(now.len() >= 16, "{now:?}");
    let path = super::repo().join(SNAPSHOT);
    let text: String = now.iter().map(|(k, v)| format!("{v}  {k}\n")).collect();
    if std::env::var_os("FITPIPE_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
        eprintln!("wrote {}", path.display());
        return;
    }
    let was = std::fs::read_to_string(&path).unwrap();
    let mut diff = Vec::new();
    let was: BTreeMap<&str, &str> = was
        .lines()
        .filter_map(|l| l.split_once("  ").map(|(h, k)| (k, h)))
        .collect();
    for (k, h) in &was {
        match now.get(*k) {
            None => diff.push(format!("missing now: {k}")),
            Some(n) if n != h => diff.push(format!("changed: {k}")),
            _ => {}
        }
    }
    // A new table is not a change of an existing one: named, not failed.
    for k in now.keys().filter(|k| !was.contains_key(k.as_str())) {
        eprintln!("note: a table file the snapshot does not hold yet: {k}");
    }
    assert!(
        diff.is_empty(),
        "the demo's tables changed:\n{}",
        diff.join("\n")
    );
}

/// Rows in every Parquet file below `dir` (from the files' metadata).
fn parquet_rows(dir: &Path) -> i64 {
    use parquet::file::reader::FileReader;
    if !dir.is_dir() {
        return 0;
    }
    super::study::files(dir)
        .into_keys()
        .filter(|k| k.ends_with(".parquet"))
        .map(|k| {
            let f = std::fs::File::open(dir.join(k)).unwrap();
            parquet::file::reader::SerializedFileReader::new(f)
                .unwrap()
                .metadata()
                .file_metadata()
                .num_rows()
        })
        .sum()
}

// `--resources all --intraday all` against the simulator's Google Health API fills every
// table the catalog names for it, and the exercise sessions are exactly the simulated
// person's workouts (the simulator's people model as the oracle, not the client).
#[test]
fn all_google_types_fill_every_catalog_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("all");
    let r = fitpipe(&[
        "ingest",
        "--demo",
        "--provider",
        "google-health",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-14",
        "--resources",
        "all",
        "--intraday",
        "all",
        "--quiet",
        "--out",
        s(&out),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for t in fitpipe_catalog::CATALOG
        .iter()
        .filter(|t| t.google.is_some())
    {
        for table in t.tables {
            // Fitbit-only parts of a shared row (heart-rate zones) are not Google's.
            if *table == "heart_rate_zones" {
                continue;
            }
            assert!(
                parquet_rows(&out.join(table)) > 0,
                "{} filled no `{table}`",
                t.name
            );
        }
    }
    let p = &fitpipe_sim::people::people(1, 1)[0];
    let far = chrono::NaiveDate::from_ymd_opt(2027, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let want: usize = (1..=14)
        .map(|d| {
            p.workouts(chrono::NaiveDate::from_ymd_opt(2026, 10, d).unwrap(), far)
                .len()
        })
        .sum();
    assert!(want > 0);
    assert_eq!(parquet_rows(&out.join("exercise_sessions")), want as i64);
}
