//! Every table again from `<out>/raw`, without a request (the library behind `fitpipe
//! rebuild`). Raw answers are read and normalised on all cores, a few chunks ahead of the
//! writer, oldest first; memory holds a few chunks whatever the size of the raw zone.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use fitpipe_ingest::provider::{Provider, Replaces};
use fitpipe_ingest::raw;
use fitpipe_transform::RowSet;

use fitpipe_export::{Format, Written};

use crate::output::hint;
use crate::pipeline::{before_the_account, normalise, source_of};
use crate::tables::{write_rows_in, Refetched};

/// What a rebuild did.
#[derive(Debug)]
pub struct Rebuilt {
    /// What each table write did.
    pub written: Vec<Written>,
    /// Raw answers read.
    pub files: usize,
}

/// Rebuilds the tables of the dataset at `out` from its raw answers. `tz` overrides each
/// user's zone (else the newest saved profile's).
pub fn rebuild(
    out: &Path,
    formats: Option<&[Format]>,
    flag_tz: Option<Tz>,
) -> anyhow::Result<Rebuilt> {
    let files = raw::list(out)?;
    if files.is_empty() {
        return Err(hint(
            format!("no raw responses under `{}`", out.join("raw").display()),
            "run `fitpipe ingest` first (or point `--out` at its folder)",
        ));
    }
    // Each user's zone: the flag, else the newest saved profile (or settings) response.
    let mut zones: HashMap<String, Tz> = HashMap::new();
    let mut members: HashMap<String, NaiveDate> = HashMap::new();
    for f in files.iter().filter(|f| f.resource == "profile") {
        let rows = rows_of(f, None)?;
        if let Some(m) = rows.profile.iter().find_map(|p| p.member_since) {
            members.insert(f.user.clone(), m);
        }
        if let Some(z) = rows
            .profile
            .iter()
            .find_map(|p| p.timezone.as_deref())
            .and_then(|z| z.parse().ok())
        {
            zones.insert(f.user.clone(), z);
        }
    }
    let ds = crate::tables::dataset(out, formats);
    let _lock = crate::tables::lock_waiting(&ds)?;
    let mut txn = ds.begin()?;
    let mut written = Vec::new();
    let mut rows = RowSet::default();
    let mut refetched: Vec<Refetched> = Vec::new();
    let mut size = 0u64;
    // Oldest fetch first, written in chunks: newer responses win, memory stays flat. A
    // response that replaces its window (sleep by date range, an intraday day) is applied
    // as the ingest applied it: a chunk is written before a second answer for the same
    // days, or an answer of another user, joins it.
    let zone_of = |f: &raw::RawFile| flag_tz.or_else(|| zones.get(&f.user).copied());
    crate::chunks::pipelined(
        &files,
        // Chunks by the JSON inside (a raw zone compresses about 45 times).
        |f| raw::content_size(&f.path),
        crate::chunks::AHEAD_ANSWERS,
        // Read, inflate and normalise a chunk on all cores...
        |chunk| {
            crate::chunks::par_map(chunk, |f| rows_of(f, zone_of(f)))
                .into_iter()
                .zip(chunk)
                .map(|(r, f)| r.map(|r| (f.clone(), r)))
                .collect::<anyhow::Result<Vec<_>>>()
        },
        // ...while the previous one is merged and written, in fetch order.
        |parsed| {
            for (f, mut r) in parsed {
                let f = &f;
                let window = replaced_window(f, zone_of(f));
                let clash = window.as_ref().is_some_and(|(w, page)| {
                    refetched.iter().any(|r| {
                        (r.user != w.user || r.source != w.source)
                            || (r.kind == w.kind
                                && r.first <= w.last
                                && w.first <= r.last
                                && (*page == 1 || !same_answer(r, w)))
                    })
                });
                // A full buffer is written only between answers: the pages of one
                // answer replace their window together, so a write between them would
                // drop the pages written before it.
                let between_answers = window.as_ref().is_none_or(|(_, page)| *page == 1);
                if clash || (size >= crate::chunks::buffer_bytes() as u64 && between_answers) {
                    written.extend(write_rows_in(
                        &mut txn,
                        &std::mem::take(&mut rows),
                        &std::mem::take(&mut refetched),
                    )?);
                    size = 0;
                }
                before_the_account(&mut r, members.get(&f.user).copied());
                rows.extend(r);
                if let Some((w, _)) = window {
                    if !refetched.iter().any(|r| same_answer(r, &w)) {
                        refetched.push(w);
                    }
                }
                size += raw::content_size(&f.path);
            }
            Ok(())
        },
    )?;
    written.extend(write_rows_in(&mut txn, &rows, &refetched)?);
    txn.commit()?;
    Ok(Rebuilt {
        written,
        files: files.len(),
    })
}

/// The window a saved response replaces, from its resource and the window its name
/// records (the pages of one answer share a window), with the page number.
fn replaced_window(f: &raw::RawFile, tz: Option<Tz>) -> Option<(Refetched, usize)> {
    let provider = Provider::parse(&f.provider)?;
    let kind = provider.resource_by_key(&f.resource)?.replaces();
    if kind == Replaces::Nothing {
        return None;
    }
    let (first, last, page) = f.window?;
    let w = Refetched {
        kind,
        user: f.user.clone(),
        source: source_of(provider.name()),
        first,
        last,
        tz: tz.unwrap_or(Tz::UTC),
    };
    Some((w, page))
}

/// Whether two windows are the same answer's (its pages).
fn same_answer(a: &Refetched, b: &Refetched) -> bool {
    a.kind == b.kind && a.first == b.first && a.last == b.last && a.user == b.user
}

/// The rows of one saved response, by its provider's rules.
fn rows_of(f: &raw::RawFile, tz: Option<Tz>) -> anyhow::Result<RowSet> {
    let Some(provider) = Provider::parse(&f.provider) else {
        return Err(hint(
            format!(
                "`{}`: unknown provider folder `{}`",
                f.path.display(),
                f.provider
            ),
            "raw responses live under `raw/fitbit-web-api/` or `raw/google-health/`",
        ));
    };
    let bytes = raw::read(&f.path).with_context(|| format!("reading `{}`", f.path.display()))?;
    normalise(
        provider,
        &bytes,
        &f.user,
        tz,
        DateTime::<Utc>::from_timestamp_millis(f.fetched_ms),
    )
    .map_err(|e| hint(format!("`{}`: {e}", f.path.display()), "pass `--timezone`"))
}
