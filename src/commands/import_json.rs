//! `fitpipe import json`: raw Fitbit Web API responses into the tables.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use fitpipe_export::Dataset;
use fitpipe_transform::fitbit::{self, Context, FitbitDocument, Units};
use fitpipe_transform::{RowSet, TransformError};

use crate::cli::{ImportJson, UnitsArg};
use crate::output::{hint, stdout};
use crate::tables::{summary, write_rows};

struct Input {
    path: PathBuf,
    doc: FitbitDocument,
    modified: Option<DateTime<Utc>>,
}

pub fn run(args: ImportJson) -> anyhow::Result<ExitCode> {
    let files = collect_files(&args.paths)?;
    if files.is_empty() {
        return Err(hint(
            "no `.json` files found in the given folders",
            "pass the response files themselves, or a folder that holds `*.json` files",
        ));
    }
    // Read and parse everything before writing anything: a bad file leaves the tables
    // exactly as they were.
    let mut inputs = Vec::new();
    let mut bad = Vec::new();
    for path in files {
        match read_doc(&path) {
            Ok(doc) => inputs.push(Input {
                modified: fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .ok()
                    .map(DateTime::<Utc>::from),
                path,
                doc,
            }),
            Err(e) => bad.push(format!("`{}`: {e}", path.display())),
        }
    }
    if !bad.is_empty() {
        return Err(hint(
            format!(
                "{} file(s) could not be read; nothing was written:\n  {}",
                bad.len(),
                bad.join("\n  ")
            ),
            "fix or remove these files and run the import again",
        ));
    }

    let profile = inputs
        .iter()
        .find_map(|i| i.doc.profile.as_ref().map(|p| (p, &i.path)));
    let tz = match (
        &args.timezone,
        profile.and_then(|(p, path)| p.timezone.as_ref().map(|t| (t, path))),
    ) {
        (Some(name), _) => Some(parse_tz(name, "--timezone")?),
        (None, Some((name, path))) => Some(parse_tz(
            name,
            &format!("the profile `{}`", path.display()),
        )?),
        (None, None) => None,
    };
    let user_id = args
        .user_id
        .clone()
        .or_else(|| profile.and_then(|(p, _)| p.encoded_id.clone()))
        .unwrap_or_else(|| "-".to_string());
    let units = match args.units {
        UnitsArg::Metric => Units::Metric,
        UnitsArg::Us => Units::Us,
    };

    let mut rows = RowSet::default();
    for input in &inputs {
        for what in &input.doc.ignored {
            eprintln!("note: `{}`: skipped {what}", input.path.display());
        }
        let ctx = Context {
            user_id: user_id.clone(),
            tz,
            fetched_utc: input.modified,
            units,
        };
        let r = fitbit::normalise(&input.doc, &ctx).map_err(|e| match e {
            TransformError::NeedTimezone { .. } => hint(
                format!("`{}`: {e}", input.path.display()),
                "pass `--timezone` with the IANA zone the data was recorded in (e.g. `--timezone Europe/London`), or add the profile response (`/1/user/-/profile.json`) to the inputs",
            ),
            e => anyhow::anyhow!("`{}`: {e}; nothing was written", input.path.display()),
        })?;
        rows.extend(r);
    }

    let ds = Dataset::new(&args.output.out, &args.output.format);
    let _lock = ds.lock(true)?;
    let written = write_rows(&ds, &rows)?;
    if written.is_empty() {
        eprintln!("note: the inputs hold no rows for any table");
    }
    stdout(&summary(&written))?;
    eprintln!(
        "wrote {} input file(s) into `{}`",
        inputs.len(),
        args.output.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn parse_tz(name: &str, from: &str) -> anyhow::Result<Tz> {
    name.parse::<Tz>().map_err(|_| {
        hint(
            format!("unknown time zone `{name}` (from {from})"),
            "use an IANA zone name such as `Europe/London` or `America/New_York`",
        )
    })
}

fn read_doc(path: &Path) -> anyhow::Result<FitbitDocument> {
    let bytes = fs::read(path).context("cannot read the file")?;
    Ok(fitbit::parse(&bytes)?)
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
