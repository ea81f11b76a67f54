//! `fitpipe import takeout`: an extracted archive folder into the tables.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use fitpipe_export::Dataset;
use fitpipe_transform::fitbit::{Context, Units};
use fitpipe_transform::takeout::{self, Family};
use fitpipe_transform::TransformError;

use crate::cli::ImportTakeout;
use crate::commands::ingest::{merge_written, parse_tz};
use crate::output::{hint, stdout};
use crate::tables::{layout, summary, write_rows_in};

pub fn run(args: ImportTakeout) -> anyhow::Result<ExitCode> {
    let root = &args.path;
    let meta = fs::metadata(root).map_err(|e| {
        hint(
            format!("cannot read `{}`: {e}", root.display()),
            "pass the folder the archive was extracted to",
        )
    })?;
    if !meta.is_dir() {
        return Err(hint(
            format!("`{}` is not a folder", root.display()),
            "extract the archive (`unzip takeout-*.zip -d takeout`) and pass the folder; reading zip files directly is not built yet",
        ));
    }
    let mut all = Vec::new();
    walk(root, &mut all).with_context(|| format!("reading `{}`", root.display()))?;
    all.sort();
    let mut files: Vec<(Family, PathBuf)> = Vec::new();
    let mut unknown = Vec::new();
    let mut csv = 0usize;
    let mut profile_csv = None;
    for p in all {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name == "Profile.csv" {
            profile_csv = Some(p.clone());
        }
        match Family::of(&name) {
            Some(f) => files.push((f, p)),
            None if name.ends_with(".json") => unknown.push(p),
            None if name.ends_with(".csv") => csv += 1,
            None => {}
        }
    }
    let tz = match (
        &args.timezone,
        profile_csv.as_deref().and_then(profile_timezone),
    ) {
        (Some(t), _) => parse_tz(Some(t))?,
        (None, Some(t)) => Some(
            parse_tz(Some(&t))
                .context("the time zone in `Profile.csv`")?
                .expect("given"),
        ),
        (None, None) => None,
    };
    if tz.is_none() && files.iter().any(|(f, _)| f.needs_timezone()) {
        return Err(hint(
            "the archive's times of day need the user's time zone, and it has no `Your Profile/Profile.csv`",
            "pass `--timezone` with the IANA zone the data was recorded in, e.g. `--timezone Europe/London`",
        ));
    }
    let user: String = args.user_id.clone().unwrap_or_else(|| "-".into());
    for p in &unknown {
        eprintln!("skipped `{}`: not a file family fitpipe reads", p.display());
    }
    if csv > 0 {
        eprintln!("note: {csv} CSV file(s) not read (the Google CSV folders are not supported yet; their JSON twins are)");
    }
    let ds = Dataset::new(&args.output.out, &args.output.format);
    let _lock = ds.lock(true)?;
    let mut txn = ds.begin()?;
    let mut written = Vec::new();
    let mut damaged = 0usize;
    let paths: Vec<PathBuf> = files.iter().map(|(_, p)| p.clone()).collect();
    crate::chunks::for_each_chunk(&paths, |chunk| {
        let (rows, bad) = crate::chunks::process(chunk, |path| {
            let family = Family::of(&path.file_name().unwrap_or_default().to_string_lossy())
                .expect("classified above");
            let bytes = fs::read(path).map_err(|e| anyhow::anyhow!("`{}`: {e}", path.display()))?;
            let ctx = Context {
                user_id: user.as_str().into(),
                tz,
                fetched_utc: None,
                units: Units::Metric,
            };
            takeout::normalise(family, &bytes, &ctx)
                .map_err(|e: TransformError| anyhow::anyhow!("`{}`: {e}", path.display()))
        });
        for e in &bad {
            eprintln!("skipped {e:#}");
        }
        damaged += bad.len();
        written.extend(write_rows_in(&mut txn, &rows)?);
        Ok(())
    })?;
    txn.commit()?;
    let mut merged = merge_written(written);
    for w in merged.iter_mut() {
        if let Some(spec) = fitpipe_transform::ALL_TABLES
            .iter()
            .find(|t| t.name == w.table)
        {
            w.rows_total = ds.row_count(&layout(spec))?;
        }
    }
    stdout(&summary(&merged))?;
    let skipped = damaged + unknown.len();
    eprintln!(
        "imported {} archive file(s) into `{}`",
        files.len() - damaged,
        args.output.out.display()
    );
    if skipped > 0 {
        return Err(hint(
            format!("{skipped} file(s) were skipped (listed above); everything else was imported"),
            "damaged files cannot be read; re-export the archive to recover them",
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// The `timezone` column of `Profile.csv` (one row).
fn profile_timezone(path: &Path) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let header = split_csv(lines.next()?);
    let row = split_csv(lines.next()?);
    let i = header
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case("timezone"))?;
    row.get(i)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// One CSV line into fields, honouring double quotes.
fn split_csv(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                out.last_mut().expect("one field").push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => out.last_mut().expect("one field").push(c),
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}
