//! A Takeout or account archive (`.zip` or extracted folder) into the tables, streamed
//! file by file (the library behind `fitpipe import takeout`).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::NaiveDate;
use chrono_tz::Tz;
use fitpipe_transform::fitbit::{Context, Units};
use fitpipe_transform::takeout::{self, Family};

use super::{Import, Imported};
use crate::hint;
use crate::pipeline::parse_tz;

/// The largest archive file fitpipe reads whole: a day of second-by-second heart rate is
/// a few MB, a month of per-minute steps about 3 MB.
const ENTRY_CAP: u64 = 128 << 20;
/// Most an entry may inflate per compressed byte. JSON and CSV compress 5 to 30 times;
/// a zip bomb (zeros) a thousand.
const RATIO_CAP: u64 = 200;
/// Entries smaller than this are not held to the ratio (tiny files compress oddly).
const RATIO_FLOOR: u64 = 1 << 20;

/// One file of the archive.
struct Entry {
    /// Path inside the archive (or below the folder).
    name: String,
    /// Uncompressed size (as declared by a zip archive).
    size: u64,
    /// Compressed size in a zip archive (the size on disk for a folder).
    packed: u64,
    /// Zip entry index, or the file on disk.
    at: Where,
    family: Option<Family>,
}

enum Where {
    Zip(usize),
    Disk(PathBuf),
}

enum Archive {
    Folder,
    /// One handle per core, so entries are inflated in parallel.
    Zip(Vec<std::sync::Mutex<zip::ZipArchive<fs::File>>>),
}

impl Archive {
    fn read(&self, e: &Entry) -> anyhow::Result<Vec<u8>> {
        match (self, &e.at) {
            (Archive::Zip(handles), Where::Zip(i)) => {
                let mut z = handles
                    .iter()
                    .find_map(|h| h.try_lock().ok())
                    .unwrap_or_else(|| handles[0].lock().unwrap_or_else(|p| p.into_inner()));
                let mut f = z
                    .by_index(*i)
                    .map_err(|err| anyhow::anyhow!("corrupt zip entry: {err}"))?;
                // Never more than the declared size (checked against the caps when the
                // archive was listed): an entry that inflates past it is forged.
                let mut buf = Vec::with_capacity(e.size.min(ENTRY_CAP) as usize);
                (&mut f)
                    .take(e.size.min(ENTRY_CAP) + 1)
                    .read_to_end(&mut buf)
                    .map_err(|err| anyhow::anyhow!("corrupt zip entry: {err}"))?;
                if buf.len() as u64 > e.size {
                    anyhow::bail!(
                        "corrupt zip entry: it inflates past its declared {} bytes",
                        e.size
                    );
                }
                Ok(buf)
            }
            (_, Where::Disk(p)) => {
                let mut buf = Vec::new();
                fs::File::open(p)?
                    .take(ENTRY_CAP + 1)
                    .read_to_end(&mut buf)?;
                if buf.len() as u64 > ENTRY_CAP {
                    anyhow::bail!("larger than the {} MiB a file may be", ENTRY_CAP >> 20);
                }
                Ok(buf)
            }
            _ => unreachable!("entries come from their own archive"),
        }
    }
}

/// Orders files by the date in their name, then by name: the steps, distance and calories
/// files of the same days follow each other, so their rows (which share keys) meet in
/// memory and each partition is merged and written once, not once per family.
fn in_date_order(entries: &mut [Entry]) {
    let date = |name: &str| -> Option<NaiveDate> {
        let base = name.rsplit('/').next().unwrap_or(name);
        let stem = base.rsplit_once('.').map_or(base, |(s, _)| s);
        stem.get(stem.len().checked_sub(10)?..)?.parse().ok()
    };
    entries.sort_by_cached_key(|e| (date(&e.name), e.name.clone()));
}

fn list(root: &Path, report: &dyn crate::Report) -> anyhow::Result<(Archive, Vec<Entry>)> {
    let meta = fs::metadata(root).map_err(|e| {
        hint(
            format!("cannot read `{}`: {e}", root.display()),
            "pass the archive (`.zip`) or the folder it was extracted to",
        )
    })?;
    let entry = |name: String, size, at| {
        let base = name.rsplit('/').next().unwrap_or(&name).to_string();
        Entry {
            family: Family::of(&base),
            name,
            size,
            packed: size,
            at,
        }
    };
    if meta.is_dir() {
        let mut paths = Vec::new();
        walk(root, &mut paths, report).with_context(|| format!("reading `{}`", root.display()))?;
        paths.sort();
        let mut entries: Vec<Entry> = paths
            .into_iter()
            .map(|p| {
                let name = p
                    .strip_prefix(root)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .replace('\\', "/");
                let size = fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                entry(name, size, Where::Disk(p))
            })
            .collect();
        in_date_order(&mut entries);
        return Ok((Archive::Folder, entries));
    }
    let file = fs::File::open(root).with_context(|| format!("opening `{}`", root.display()))?;
    let z = zip::ZipArchive::new(file).map_err(|e| {
        hint(
            format!("`{}` is not a readable zip archive: {e}", root.display()),
            "pass a Takeout `.zip` or the folder it was extracted to",
        )
    })?;
    let mut entries = Vec::new();
    for i in 0..z.len() {
        // Names and sizes come from the central directory; no entry is read yet.
        // A name that cannot be decoded is reported like any other damaged entry.
        let name = match z.name_for_index(i) {
            Some(Ok(n)) => n.to_string(),
            _ => format!("<entry {i}>"),
        };
        if !name.ends_with('/') {
            entries.push(entry(name, 0, Where::Zip(i)));
        }
    }
    let mut z = z;
    for e in entries.iter_mut() {
        if let Where::Zip(i) = e.at {
            (e.size, e.packed) = z
                .by_index_raw(i)
                .map(|f| (f.size(), f.compressed_size()))
                .unwrap_or((0, 0));
        }
    }
    refuse_bombs(root, &entries)?;
    in_date_order(&mut entries);
    let mut handles = vec![std::sync::Mutex::new(z)];
    // A second handle (its own file position) for the second core.
    if let Ok(z2) = fs::File::open(root)
        .map_err(anyhow::Error::from)
        .and_then(|f| Ok(zip::ZipArchive::new(f)?))
    {
        handles.push(std::sync::Mutex::new(z2));
    }
    Ok((Archive::Zip(handles), entries))
}

/// Refuses an archive whose declared sizes no real export has: an entry larger than the
/// cap, or one that would inflate more than [`RATIO_CAP`] times (a zip bomb). Nothing is
/// read or written before this check.
fn refuse_bombs(root: &Path, entries: &[Entry]) -> anyhow::Result<()> {
    // The archive as a whole: all it declares against what it weighs.
    let declared: u64 = entries.iter().map(|e| e.size).fold(0, u64::saturating_add);
    let packed: u64 = entries
        .iter()
        .map(|e| e.packed)
        .fold(0, u64::saturating_add);
    if declared >= RATIO_FLOOR && declared / packed.max(1) > RATIO_CAP {
        return Err(hint(
            format!(
                "`{}` declares {declared} bytes from {packed} compressed: it would inflate over {RATIO_CAP} times, as a zip bomb does; nothing was imported",
                root.display()
            ),
            "export the archive again from Google Takeout, or extract the files you trust into a folder and import that",
        ));
    }
    for e in entries {
        let bomb = e.size >= RATIO_FLOOR && e.size / e.packed.max(1) > RATIO_CAP;
        if e.size > ENTRY_CAP || bomb {
            return Err(hint(
                format!(
                    "`{}`: the entry `{}` declares {} bytes from {} compressed ({}): this is not a Takeout export, and nothing was imported",
                    root.display(),
                    e.name,
                    e.size,
                    e.packed,
                    if bomb {
                        format!("it would inflate over {RATIO_CAP} times, as a zip bomb does")
                    } else {
                        format!("over the {} MiB a file may be", ENTRY_CAP >> 20)
                    }
                ),
                "export the archive again from Google Takeout, or extract the files you trust into a folder and import that",
            ));
        }
    }
    Ok(())
}

/// Imports the archive (or folder) at `path`; weight files are read only when their unit
/// is given (`weight`). Damaged and unknown files are skipped and counted.
pub fn import(job: &Import, path: &Path, weight: Option<Units>) -> anyhow::Result<Imported> {
    let report = &*job.report;
    let (archive, entries) = list(path, report)?;
    let (unknown, csv) = unread(&entries, report);
    let tz = zone(job, &archive, &entries)?;
    let units = weight.unwrap_or(Units::Metric);
    let files = readable(&entries, weight.is_some(), report);
    if tz.is_none()
        && files
            .iter()
            .any(|e| e.family.is_some_and(Family::needs_timezone))
    {
        let profile = entries.iter().find(|e| e.name.ends_with("Profile.csv"));
        return Err(hint(
            match profile {
                Some(p) => format!(
                    "the archive's times of day need the user's time zone, and `{}` has no `timezone` column with a value",
                    p.name
                ),
                None => "the archive's times of day need the user's time zone, and it has no `Your Profile/Profile.csv`".to_string(),
            },
            "pass `--timezone` with the IANA zone the data was recorded in, e.g. `--timezone Europe/London`",
        ));
    }
    if csv > 0 {
        report.note(&format!(
            "note: {csv} other CSV file(s) not read (streams without a table yet)"
        ));
    }
    let user: String = job.user_id.clone().unwrap_or_else(|| "-".into());
    let total: u64 = files.iter().map(|e| e.size).sum();
    report.input(total);

    let ds = crate::tables::dataset(&job.out, job.formats.as_deref());
    let _lock = crate::tables::lock_waiting(&ds, report)?;
    let mut txn = ds.begin()?;
    // Files are in date order (`in_date_order`): a month is written once its last file
    // is read.
    let mut out = crate::writer::Writer::new(&mut txn, crate::chunks::buffer_bytes()).in_order();
    let mut damaged = 0usize;
    crate::chunks::pipelined(
        &files,
        |e| e.size,
        crate::chunks::AHEAD_TAKEOUT,
        |chunk| {
            // Reading (inflating), parsing and normalising use both cores, up to
            // AHEAD_TAKEOUT chunks ahead of the writer.
            let (rows, bad) = crate::chunks::process(chunk, |e| {
                let bytes = archive
                    .read(e)
                    .map_err(|err| anyhow::anyhow!("`{}`: {err}", e.name))?;
                let bytes = &bytes;
                let ctx = Context {
                    user_id: user.as_str().into(),
                    tz,
                    fetched_utc: None,
                    units,
                };
                takeout::normalise_batches(e.family.expect("only known families"), bytes, &ctx)
                    .map_err(|err| anyhow::anyhow!("`{}`: {err}", e.name))
            });
            Ok((rows, bad, chunk.iter().map(|e| e.size).sum::<u64>()))
        },
        |(rows, bad, size)| {
            for err in &bad {
                report.warn(&format!("skipped {err:#}"));
            }
            damaged += bad.len();
            out.rows(rows)?;
            report.input_read(size);
            Ok(())
        },
    )?;
    let mut written = out.finish()?;
    written.extend(crate::quality::refresh_all(
        &mut txn,
        &job.out,
        &[(user.clone(), tz)],
    )?);
    txn.commit()?;
    report.finish();
    Ok(Imported {
        written,
        files: files.len() - damaged,
        skipped: damaged + unknown,
    })
}

/// The files of families fitpipe reads; weight files only with their unit (`weight`),
/// else noted.
fn readable<'e>(entries: &'e [Entry], weight: bool, report: &dyn crate::Report) -> Vec<&'e Entry> {
    let weights = entries
        .iter()
        .filter(|e| e.family == Some(Family::Weight))
        .count();
    if weights > 0 && !weight {
        report.note(&format!("note: {weights} weight file(s) not read: pass `--weight-unit kg` or `--weight-unit lb` (the archive keeps the account's unit without naming it)"));
    }
    entries
        .iter()
        .filter(|e| e.family.is_some() && (e.family != Some(Family::Weight) || weight))
        .collect()
}

/// Notes the JSON files of no family fitpipe reads; counts them and the CSV streams that
/// have no table yet.
fn unread(entries: &[Entry], report: &dyn crate::Report) -> (usize, usize) {
    let (mut unknown, mut csv) = (0, 0);
    for e in entries.iter().filter(|e| e.family.is_none()) {
        if e.name.ends_with(".json") {
            report.note(&format!(
                "skipped `{}`: not a file family fitpipe reads",
                e.name
            ));
            unknown += 1;
        } else if e.name.ends_with(".csv") && !e.name.ends_with("Profile.csv") {
            csv += 1;
        }
    }
    (unknown, csv)
}

/// The archive's time zone: the flag, else `Profile.csv`'s.
fn zone(job: &Import, archive: &Archive, entries: &[Entry]) -> anyhow::Result<Option<Tz>> {
    let profile = entries.iter().find(|e| e.name.ends_with("Profile.csv"));
    let profile_tz = match profile {
        Some(e) => archive
            .read(e)
            .ok()
            .and_then(|b| profile_timezone(&String::from_utf8_lossy(&b))),
        None => None,
    };
    Ok(match (&job.timezone, profile_tz) {
        (Some(t), _) => parse_tz(Some(t))?,
        (None, Some(t)) => parse_tz(Some(&t)).context("the time zone in `Profile.csv`")?,
        (None, None) => None,
    })
}

/// The `timezone` column of `Profile.csv` (one row), read with the `csv` crate: free-text
/// fields (`about me`) may hold quoted commas, quotes and line breaks; a BOM is dropped.
fn profile_timezone(text: &str) -> Option<String> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let i = r
        .headers()
        .ok()?
        .iter()
        .position(|h| h.eq_ignore_ascii_case("timezone"))?;
    let row = r.records().next()?.ok()?;
    row.get(i).map(str::to_string).filter(|v| !v.is_empty())
}

/// The files below `dir`. Links to folders are not followed (a link to a parent would
/// loop); links to files are read as files.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, report: &dyn crate::Report) -> std::io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        let kind = e.file_type()?;
        if kind.is_dir() {
            walk(&p, out, report)?;
        } else if kind.is_symlink() && p.is_dir() {
            report.warn(&format!("skipped `{}`: a link to a folder", p.display()));
        } else {
            out.push(p);
        }
    }
    Ok(())
}
