//! Raw Fitbit Web API and Google Health API responses into the tables (the library behind
//! `fitpipe import json`): each file is recognised by its shape.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use fitpipe_transform::fitbit::{self, Context, Units};
use fitpipe_transform::TransformError;

use super::{Import, Imported};
use crate::hint;
use crate::pipeline::parse_tz;

/// Imports the response files named and the `*.json` files below the folders named, all
/// or nothing: a file that is not understood writes nothing.
pub fn import(job: &Import, paths: &[PathBuf], units: Units) -> anyhow::Result<Imported> {
    let files = collect_files(paths)?;
    if files.is_empty() {
        return Err(hint(
            "no `.json` files found in the given folders",
            "pass the response files themselves, or a folder that holds `*.json` files",
        ));
    }
    // Profiles first (small files only): they give the user id and the time zone (a
    // Google identity answer the user id).
    let mut profile = None;
    let mut google_id: Option<String> = None;
    for path in &files {
        let small = fs::metadata(path)
            .map(|m| m.len() < (1 << 20))
            .unwrap_or(false);
        if !small {
            continue;
        }
        let bytes = fs::read(path).with_context(|| format!("reading `{}`", path.display()))?;
        if google_id.is_none() && memchr_str(&bytes, b"\"healthUserId\"") {
            if let Ok(fitpipe_transform::google::Document::Page(p)) =
                fitpipe_transform::google::parse(&bytes)
            {
                google_id = p.health_user_id;
            }
        }
        if memchr_str(&bytes, b"\"encodedId\"") {
            if let Ok(doc) = fitbit::parse(&bytes) {
                if let Some(p) = doc.profile {
                    profile.get_or_insert((p, path.clone()));
                }
            }
        }
    }
    let tz = match (
        &job.timezone,
        profile
            .as_ref()
            .and_then(|(p, path)| p.timezone.as_ref().map(|t| (t, path))),
    ) {
        (Some(name), _) => parse_tz(Some(name)).context("--timezone")?,
        (None, Some((name, path))) => parse_tz(Some(name))
            .with_context(|| format!("the time zone of the profile `{}`", path.display()))?,
        (None, None) => None,
    };
    let user_id = job
        .user_id
        .clone()
        .or_else(|| profile.as_ref().and_then(|(p, _)| p.encoded_id.clone()))
        .or(google_id)
        .unwrap_or_else(|| "-".to_string());

    let ds = crate::tables::dataset(&job.out, job.formats.as_deref());
    let _lock = crate::tables::lock_waiting(&ds, &*job.report)?;
    // One transaction: a bad file anywhere rolls every table back to what it was.
    let mut txn = ds.begin()?;
    let mut out = crate::writer::Writer::new(&mut txn, crate::chunks::buffer_bytes());
    crate::chunks::pipelined(
        &files,
        crate::chunks::file_size,
        crate::chunks::AHEAD_ANSWERS,
        |chunk| normalise_chunk(chunk, &user_id, tz, units, &*job.report),
        |batches| out.rows(batches),
    )?;
    let mut written = out.finish()?;
    written.extend(crate::quality::refresh_all(
        &mut txn,
        &job.out,
        &[(user_id, tz)],
    )?);
    txn.commit()?;
    Ok(Imported {
        written,
        files: files.len(),
        skipped: 0,
    })
}

fn memchr_str(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Reads, parses and normalises files on both cores; every bad file is reported.
fn normalise_chunk(
    files: &[PathBuf],
    user_id: &str,
    tz: Option<Tz>,
    units: Units,
    report: &dyn crate::Report,
) -> anyhow::Result<crate::tables::Batches> {
    let (rows, mut bad) = crate::chunks::process(files, |path: &PathBuf| {
        let modified = fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .map(DateTime::<Utc>::from);
        let ctx = Context {
            user_id: user_id.into(),
            tz,
            fetched_utc: modified,
            units,
        };
        let bytes = fs::read(path)
            .with_context(|| format!("`{}`: cannot read the file", path.display()))?;
        let doc = match fitbit::parse(&bytes) {
            Ok(doc) => doc,
            // Not a Fitbit Web API answer: a saved Google Health API answer, by its shape
            // (a `dataPoints` or rollup page, one point named by its union key, the
            // identity, the devices), else the Fitbit error names the keys.
            Err(e) => match google_rows(&bytes, user_id, tz, modified) {
                Some(rows) => {
                    return rows.map_err(|g| anyhow::anyhow!("`{}`: {g}", path.display()))
                }
                None => return Err(anyhow::anyhow!("`{}`: {e}", path.display())),
            },
        };
        for what in &doc.ignored {
            report.warn(&format!("note: `{}`: skipped {what}", path.display()));
        }
        fitbit::normalise(&doc, &ctx).map(|r| r.batches()).map_err(|e| match e {
            TransformError::NeedTimezone { .. } => hint(
                format!("`{}`: {e}", path.display()),
                "pass `--timezone` with the IANA zone the data was recorded in (e.g. `--timezone Europe/London`), or add the profile response (`/1/user/-/profile.json`) to the inputs",
            ),
            e => anyhow::anyhow!("`{}`: {e}", path.display()),
        })
    });
    match bad.len() {
        0 => Ok(rows),
        1 => {
            let e = bad.remove(0);
            if e.chain().any(|c| c.downcast_ref::<crate::Hint>().is_some()) {
                return Err(e.context("nothing was written"));
            }
            Err(hint(
                format!("nothing was written: {e:#}"),
                "import takes the raw answers of the Fitbit Web API or the Google Health API (as saved under `<out>/raw`, by the tutorial, or by other tools); fix or remove this file and run the import again",
            ))
        }
        n => {
            let h = bad.iter().find_map(|e| {
                e.chain()
                    .find_map(|c| c.downcast_ref::<crate::Hint>())
                    .map(|h| h.hint.clone())
            });
            let list = bad
                .iter()
                .map(|e| format!("{e:#}"))
                .collect::<Vec<_>>()
                .join("\n  ");
            let msg = format!("{n} files could not be read; nothing was written:\n  {list}");
            Err(match h {
                Some(h) => hint(msg, h),
                None => hint(msg, "fix or remove these files and run the import again"),
            })
        }
    }
}

/// The rows of a saved Google Health API answer, or `None` when `bytes` is not one.
fn google_rows(
    bytes: &[u8],
    user_id: &str,
    tz: Option<Tz>,
    fetched: Option<DateTime<Utc>>,
) -> Option<Result<crate::tables::Batches, TransformError>> {
    use fitpipe_transform::google as g;
    let doc = g::parse(bytes).ok()?;
    if matches!(doc, g::Document::Unknown(_)) {
        return None;
    }
    let ctx = g::Context {
        user_id: user_id.into(),
        tz,
        fetched_utc: fetched,
    };
    Some(g::normalise(&doc, &ctx).map(|r| r.batches()))
}

/// The files named, and the `*.json` files below the folders named, sorted.
fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = fs::metadata(p).map_err(|e| {
            hint(
                format!("cannot read `{}`: {e}", p.display()),
                "check the path",
            )
        })?;
        if meta.is_dir() {
            walk(p, &mut out).with_context(|| format!("reading folder `{}`", p.display()))?;
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            out.push(path);
        }
    }
    Ok(())
}
