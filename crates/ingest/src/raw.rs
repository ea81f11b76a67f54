//! The raw landing zone: every response body exactly as received, saved before it is
//! transformed, so tables can be rebuilt without spending rate limit again.
//!
//! Layout: `<out>/raw/<provider>/<user>/<resource>/<start>_<end>[_p<page>].<fetched unix ms>.json.zst`,
//! zstd-compressed (a day of Google heart rate shrinks about 45 times); files of older
//! versions without `.zst` are read as they are.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};

use std::io::{Read, Write};

use crate::store::write_private_with;
use crate::IngestError;

/// One saved response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFile {
    /// Where it is.
    pub path: PathBuf,
    /// Provider name.
    pub provider: String,
    /// User id.
    pub user: String,
    /// Resource key.
    pub resource: String,
    /// When it was fetched (unix ms).
    pub fetched_ms: i64,
    /// The first and last day the request covered and the page number (1 for the first),
    /// from the name, as [`save`] wrote them; `None` for a name that does not say.
    pub window: Option<(NaiveDate, NaiveDate, usize)>,
}

/// The window of a saved answer's name: `<start>_<end>[_p<page>].<ms>.json[.zst]`.
fn window_of(name: &str) -> Option<(NaiveDate, NaiveDate, usize)> {
    let (start, rest) = name.split_once('_')?;
    let end = rest.get(..10)?;
    let page = rest
        .get(10..)?
        .strip_prefix("_p")
        .and_then(|p| p.split('.').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    Some((start.parse().ok()?, end.parse().ok()?, page))
}

/// Saves a response body atomically under a name no earlier response has, and returns
/// its path. `window` is the first and
/// last day the request covered and the page number (pages after the first get a `_pN`
/// suffix).
pub fn save(
    out: &Path,
    provider: &str,
    user: &str,
    resource: &str,
    window: (NaiveDate, NaiveDate, usize),
    at: DateTime<Utc>,
    body: &[u8],
) -> Result<PathBuf, IngestError> {
    let (start, end, page) = window;
    let page = if page > 1 {
        format!("_p{page}")
    } else {
        String::new()
    };
    let dir = out.join("raw").join(provider).join(user).join(resource);
    // Two answers can arrive within one millisecond (Google's identity and settings): the
    // later one is named a millisecond on, so no response overwrites another and replay
    // order stays fetch order.
    let mut ms = at.timestamp_millis();
    let name = |ms: i64| dir.join(format!("{start}_{end}{page}.{ms}.json.zst"));
    let mut path = name(ms);
    while path.exists() || path.with_extension("").exists() {
        ms += 1;
        path = name(ms);
    }
    write_private_with(&path, |w| {
        let mut z = zstd::stream::Encoder::new(w, 3)?;
        // The size inside is recorded in the frame: readers plan their memory by it.
        z.set_pledged_src_size(Some(body.len() as u64))?;
        z.include_contentsize(true)?;
        z.write_all(body)?;
        z.finish()?;
        Ok(())
    })?;
    Ok(path)
}

/// The bytes of JSON a saved response holds: the size in its zstd frame header, or for a
/// frame without one (written before sizes were recorded) 50 times the compressed size (a
/// day of heart rate compresses about 45 times), or a plain file's size.
pub fn content_size(path: &Path) -> u64 {
    let len = std::fs::metadata(path).map_or(0, |m| m.len());
    if path.extension().is_none_or(|x| x != "zst") {
        return len;
    }
    let mut head = [0u8; 18];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    match zstd::zstd_safe::get_frame_content_size(&head[..n]) {
        Ok(Some(size)) => size,
        _ => len.saturating_mul(50),
    }
}

/// A saved response's body, decompressed (`.json.zst`) or as it is (`.json`).
pub fn read(path: &Path) -> Result<Vec<u8>, IngestError> {
    let file = std::fs::File::open(path).map_err(|e| IngestError::io("open", path, e))?;
    let mut reader: Box<dyn Read> = if path.extension().is_some_and(|x| x == "zst") {
        Box::new(
            zstd::stream::Decoder::new(file).map_err(|e| IngestError::io("decompress", path, e))?,
        )
    } else {
        Box::new(std::io::BufReader::new(file))
    };
    let mut out = Vec::new();
    reader
        .read_to_end(&mut out)
        .map_err(|e| IngestError::io("read", path, e))?;
    Ok(out)
}

/// Every saved response under `<out>/raw`, oldest fetch first (so newer data wins when
/// they are replayed in order).
pub fn list(out: &Path) -> Result<Vec<RawFile>, IngestError> {
    let root = out.join("raw");
    let mut files = Vec::new();
    let Ok(providers) = std::fs::read_dir(&root) else {
        return Ok(files);
    };
    for p in providers.flatten() {
        for u in read_dir(&p.path())? {
            for r in read_dir(&u.path())? {
                files.extend(in_folder(
                    &r.path(),
                    &p.file_name().to_string_lossy(),
                    &u.file_name().to_string_lossy(),
                    &r.file_name().to_string_lossy(),
                )?);
            }
        }
    }
    files.sort_by(|a, b| (a.fetched_ms, &a.path).cmp(&(b.fetched_ms, &b.path)));
    Ok(files)
}

/// The saved responses of one resource of one user, oldest fetch first.
pub fn list_resource(
    out: &Path,
    provider: &str,
    user: &str,
    resource: &str,
) -> Result<Vec<RawFile>, IngestError> {
    let dir = out.join("raw").join(provider).join(user).join(resource);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut files = in_folder(&dir, provider, user, resource)?;
    files.sort_by(|a, b| (a.fetched_ms, &a.path).cmp(&(b.fetched_ms, &b.path)));
    Ok(files)
}

fn read_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>, IngestError> {
    Ok(std::fs::read_dir(dir)
        .map_err(|e| IngestError::io("read", dir, e))?
        .flatten()
        .collect())
}

/// The saved responses in one resource folder (names that are not answers skipped).
fn in_folder(
    dir: &Path,
    provider: &str,
    user: &str,
    resource: &str,
) -> Result<Vec<RawFile>, IngestError> {
    let mut files = Vec::new();
    for f in read_dir(dir)? {
        let name = f.file_name().to_string_lossy().into_owned();
        let Some(ms) = name
            .strip_suffix(".zst")
            .unwrap_or(&name)
            .strip_suffix(".json")
            .and_then(|n| n.rsplit('.').next())
            .and_then(|n| n.parse().ok())
        else {
            continue;
        };
        files.push(RawFile {
            path: f.path(),
            provider: provider.to_string(),
            user: user.to_string(),
            resource: resource.to_string(),
            fetched_ms: ms,
            window: window_of(&name),
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {

    // A saved answer records the size of the JSON inside; one without it is estimated
    // high (readers then take smaller chunks, never larger ones).
    #[test]
    fn the_size_inside_is_known_without_inflating() {
        let dir = tempfile::tempdir().unwrap();
        let body = br#"{"dataPoints":[]}"#.repeat(1000);
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let p = save(
            dir.path(),
            "google-health",
            "u",
            "steps",
            (d, d, 1),
            Utc::now(),
            &body,
        )
        .unwrap();
        assert_eq!(content_size(&p), body.len() as u64);
        assert!(std::fs::metadata(&p).unwrap().len() * 10 < body.len() as u64);
        let old = dir.path().join("old.json.zst");
        std::fs::write(&old, zstd::stream::encode_all(&body[..], 3).unwrap()).unwrap();
        let est = content_size(&old);
        assert!(est >= std::fs::metadata(&old).unwrap().len() * 50, "{est}");
        let plain = dir.path().join("plain.json");
        std::fs::write(&plain, &body).unwrap();
        assert_eq!(content_size(&plain), body.len() as u64);
    }

    use super::*;

    // Regression: Google's identity and settings answers landed in the same millisecond
    // under one name, and the second overwrote the first.
    #[test]
    fn answers_of_the_same_millisecond_are_both_kept_in_fetch_order() {
        let dir = tempfile::tempdir().unwrap();
        let at = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        let day: NaiveDate = "2024-01-02".parse().unwrap();
        let a = save(
            dir.path(),
            "p",
            "u",
            "profile",
            (day, day, 1),
            at,
            b"{\"a\":1}",
        )
        .unwrap();
        let b = save(
            dir.path(),
            "p",
            "u",
            "profile",
            (day, day, 1),
            at,
            b"{\"b\":2}",
        )
        .unwrap();
        assert_ne!(a, b);
        assert_eq!(read(&a).unwrap(), b"{\"a\":1}");
        assert_eq!(read(&b).unwrap(), b"{\"b\":2}");
        let listed: Vec<PathBuf> = list(dir.path())
            .unwrap()
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(listed, vec![a.clone(), b]);
        let all = list(dir.path()).unwrap();
        assert_eq!(all[0].window, Some((day, day, 1)));
        let c = save(dir.path(), "p", "u", "sleep", (day, day, 3), at, b"{}").unwrap();
        let w = list(dir.path())
            .unwrap()
            .into_iter()
            .find(|f| f.path == c)
            .unwrap();
        assert_eq!(w.window, Some((day, day, 3)));
    }
}
