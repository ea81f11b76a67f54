//! `fitpipe rebuild`: every table again from `<out>/raw`, without a request.

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use fitpipe_export::Dataset;
use fitpipe_ingest::raw;
use fitpipe_transform::fitbit::{self, Context, Units};
use fitpipe_transform::RowSet;

use crate::cli::RebuildArgs;
use crate::commands::ingest::parse_tz;
use crate::output::{hint, stdout};
use crate::tables::{report, write_rows_in};

pub fn run(args: RebuildArgs) -> anyhow::Result<ExitCode> {
    let out = &args.output.out;
    let files = raw::list(out)?;
    if files.is_empty() {
        return Err(hint(
            format!("no raw responses under `{}`", out.join("raw").display()),
            "run `fitpipe ingest` first (or point `--out` at its folder)",
        ));
    }
    let flag_tz = parse_tz(args.timezone.as_deref())?;
    // Each user's zone: the flag, else the newest saved profile response.
    let mut zones: HashMap<String, Tz> = HashMap::new();
    for f in files.iter().filter(|f| f.resource == "profile") {
        let doc = read(&f.path)?;
        if let Some(z) = doc
            .profile
            .as_ref()
            .and_then(|p| p.timezone.as_deref())
            .and_then(|z| z.parse().ok())
        {
            zones.insert(f.user.clone(), z);
        }
    }
    let ds = Dataset::new(out, &args.output.format);
    let _lock = ds.lock(true)?;
    let mut txn = ds.begin()?;
    let mut written = Vec::new();
    let mut rows = RowSet::default();
    let mut size = 0u64;
    // Oldest fetch first, written in chunks: newer responses win, memory stays flat.
    for (i, f) in files.iter().enumerate() {
        let doc = read(&f.path)?;
        let ctx = Context {
            user_id: f.user.as_str().into(),
            tz: flag_tz.or_else(|| zones.get(&f.user).copied()),
            fetched_utc: DateTime::<Utc>::from_timestamp_millis(f.fetched_ms),
            units: Units::Metric,
        };
        rows.extend(
            fitbit::normalise(&doc, &ctx)
                .map_err(|e| hint(format!("`{}`: {e}", f.path.display()), "pass `--timezone`"))?,
        );
        size += std::fs::metadata(&f.path).map(|m| m.len()).unwrap_or(0);
        if size >= 8 << 20 || i + 1 == files.len() {
            written.extend(write_rows_in(&mut txn, &std::mem::take(&mut rows))?);
            size = 0;
        }
    }
    txn.commit()?;
    stdout(&report(&ds, written)?)?;
    eprintln!(
        "rebuilt from {} raw response(s); no request was made",
        files.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn read(path: &std::path::Path) -> anyhow::Result<fitbit::FitbitDocument> {
    let bytes = std::fs::read(path).with_context(|| format!("reading `{}`", path.display()))?;
    fitbit::parse(&bytes).with_context(|| format!("`{}`", path.display()))
}
