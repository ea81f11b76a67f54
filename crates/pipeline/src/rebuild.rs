//! Every table again from `<out>/raw`, without a request (the library behind `fitpipe
//! rebuild`). Raw answers are read and normalised on all cores, a few chunks ahead of the
//! writer, oldest first; memory holds a few chunks whatever the size of the raw zone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use fitpipe_ingest::provider::{Provider, Replaces};
use fitpipe_ingest::raw;
use fitpipe_transform::RowSet;

use fitpipe_export::{Format, Written};

use crate::hint;
use crate::pipeline::{before_the_account, normalise, source_of};
use crate::writer::{Refetched, Writer};

/// What a rebuild did.
#[derive(Debug)]
pub struct Rebuilt {
    /// What each table write did.
    pub written: Vec<Written>,
    /// Raw answers read.
    pub files: usize,
    /// Damaged raw answers moved aside (`<out>/raw-quarantine/`), with why.
    pub quarantined: Vec<Quarantined>,
}

/// A raw answer that cannot be read, moved out of `raw/` so later rebuilds go on.
#[derive(Debug, Clone)]
pub struct Quarantined {
    /// Where it lies now.
    pub path: PathBuf,
    /// What is wrong with it.
    pub why: String,
}

/// Rebuilds the tables of the dataset at `out` from its raw answers. `tz` overrides each
/// user's zone (else the newest saved profile's).
pub fn rebuild(
    out: &Path,
    formats: Option<&[Format]>,
    flag_tz: Option<Tz>,
    report: &dyn crate::Report,
) -> anyhow::Result<Rebuilt> {
    let files = raw::list(out)?;
    if files.is_empty() {
        return Err(hint(
            format!("no raw responses under `{}`", out.join("raw").display()),
            "run `fitpipe ingest` first (or point `--out` at its folder)",
        ));
    }
    // Each user's zone: the flag, else the newest saved profile (or settings) response.
    let mut quarantined = Vec::new();
    let (zones, members) = accounts(out, &files, &mut quarantined)?;
    // Profiles moved aside above are not read again.
    let files: Vec<_> = files.into_iter().filter(|f| f.path.exists()).collect();
    let ds = crate::tables::dataset(out, formats);
    let _lock = crate::tables::lock_waiting(&ds, report)?;
    let mut txn = ds.begin()?;
    let mut writer = Writer::new(&mut txn, crate::chunks::buffer_bytes());
    // Oldest fetch first, written in chunks: newer responses win, memory stays flat. A
    // response that replaces its window (sleep by date range, an intraday day) is applied
    // as the ingest applied it (the writer writes what waits before a second answer for
    // the same days, or an answer of another user, joins it).
    let zone_of = |f: &raw::RawFile| flag_tz.or_else(|| zones.get(&f.user).copied());
    crate::chunks::pipelined(
        &files,
        // Chunks by the JSON inside (a raw zone compresses about 45 times).
        |f| raw::content_size(&f.path),
        crate::chunks::AHEAD_ANSWERS,
        // Read, inflate and normalise a chunk on all cores...
        |chunk| {
            crate::chunks::par_map(chunk, |f| rows_of(out, f, zone_of(f)))
                .into_iter()
                .zip(chunk)
                .map(|(r, f)| r.map(|r| (f.clone(), r)))
                .collect::<anyhow::Result<Vec<_>>>()
        },
        // ...while the previous one is merged and written, in fetch order.
        |parsed| {
            for (f, r) in parsed {
                let mut r = match r {
                    Ok(r) => r,
                    Err(q) => {
                        quarantined.push(q);
                        continue;
                    }
                };
                before_the_account(&mut r, members.get(&f.user).copied());
                writer.answer(
                    r,
                    replaced_window(&f, zone_of(&f)),
                    raw::content_size(&f.path),
                )?;
            }
            Ok(())
        },
    )?;
    let mut written = writer.finish()?;
    // Which days can be trusted, from the tables just written (and the sync state).
    let users: std::collections::BTreeSet<&str> = files.iter().map(|f| f.user.as_str()).collect();
    let users: Vec<(String, Option<Tz>)> = users
        .into_iter()
        .map(|u| (u.to_string(), flag_tz.or_else(|| zones.get(u).copied())))
        .collect();
    written.extend(crate::quality::refresh_all(&mut txn, out, &users)?);
    txn.commit()?;
    Ok(Rebuilt {
        written,
        files: files.len(),
        quarantined,
    })
}

/// Each user's zone and first day, from the saved profile (or settings) responses, the
/// newest winning; a damaged one is moved aside.
#[allow(clippy::type_complexity)]
fn accounts(
    out: &Path,
    files: &[raw::RawFile],
    quarantined: &mut Vec<Quarantined>,
) -> anyhow::Result<(HashMap<String, Tz>, HashMap<String, NaiveDate>)> {
    let mut zones: HashMap<String, Tz> = HashMap::new();
    let mut members: HashMap<String, NaiveDate> = HashMap::new();
    for f in files.iter().filter(|f| f.resource == "profile") {
        let rows = match rows_of(out, f, None)? {
            Ok(rows) => rows,
            Err(q) => {
                quarantined.push(q);
                continue;
            }
        };
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
    Ok((zones, members))
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

/// The rows of one saved response, by its provider's rules.
/// A raw answer's rows; a damaged answer (it cannot be inflated, or is not an answer
/// fitpipe reads) is moved to `<out>/raw-quarantine/`, a note beside it, and returned as
/// such. Only a missing time zone fails the rebuild (the flag fixes it).
fn rows_of(
    out: &Path,
    f: &raw::RawFile,
    tz: Option<Tz>,
) -> anyhow::Result<Result<RowSet, Quarantined>> {
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
    let bytes = match raw::read(&f.path) {
        Ok(b) => b,
        Err(e) => return quarantine(out, f, &e.to_string()).map(Err),
    };
    use fitpipe_transform::TransformError as E;
    match normalise(
        provider,
        &bytes,
        &f.user,
        tz,
        DateTime::<Utc>::from_timestamp_millis(f.fetched_ms),
    ) {
        Ok(rows) => Ok(Ok(rows)),
        Err(e @ (E::NeedTimezone { .. } | E::UnknownTimezone(_))) => Err(hint(
            format!("`{}`: {e}", f.path.display()),
            "pass `--timezone`",
        )),
        Err(e) => quarantine(out, f, &e.to_string()).map(Err),
    }
}

/// Moves a damaged raw answer to `<out>/raw-quarantine/<same place>` with a `.why.txt`.
fn quarantine(out: &Path, f: &raw::RawFile, why: &str) -> anyhow::Result<Quarantined> {
    let raw = out.join("raw");
    let rel = f.path.strip_prefix(&raw).unwrap_or(&f.path);
    let to = out.join("raw-quarantine").join(rel);
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    }
    std::fs::rename(&f.path, &to)
        .with_context(|| format!("moving `{}` aside", f.path.display()))?;
    let mut note = to.clone().into_os_string();
    note.push(".why.txt");
    std::fs::write(&note, format!("{why}\n"))
        .with_context(|| format!("writing `{}`", to.display()))?;
    Ok(Quarantined {
        path: to,
        why: why.to_string(),
    })
}
