//! What an account's quota has spent, kept on disk so a restarted process paces on: a
//! run killed a second after sending 200 requests must not send 240 more in that minute
//! (the quota is the server's, and it does not restart with us).
//!
//! One small append-only text file per account (`<tokens>/../pace/<provider>-<user>.log`,
//! or one for a study's project-wide quota): `r <unix ms>` for a request about to be sent,
//! `b <limit> <remaining> <reset unix ms>` for the rate-limit headers of an answer. Lines
//! are appended before the request goes out (no fsync: a killed process loses nothing the
//! kernel holds; after power loss the minute is over anyway). Readers keep the last
//! minute of requests and the last budget whose reset is still ahead; the file is
//! rewritten with only those once it grows past a few thousand lines.

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};

/// Lines after which the log is rewritten with the recent ones only.
const COMPACT_AFTER: usize = 4096;

/// The rate-limit budget an answer announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announced {
    /// Requests per window.
    pub limit: u32,
    /// Left in the window.
    pub remaining: u32,
    /// When the window resets.
    pub reset_at: DateTime<Utc>,
}

/// An account's pace log.
#[derive(Debug)]
pub struct PaceLog {
    path: PathBuf,
    lines: usize,
}

/// What a pace log says at a moment.
#[derive(Debug, Default)]
pub struct Recent {
    /// Requests sent in the last minute, oldest first.
    pub sent: VecDeque<DateTime<Utc>>,
    /// The last budget announced, while its reset is ahead.
    pub budget: Option<Announced>,
}

impl PaceLog {
    /// The log at `path` and what it says at `now` (an unreadable or damaged log says
    /// nothing: pacing then starts from the headers, as it did before logs).
    pub fn open(path: PathBuf, now: DateTime<Utc>) -> (Self, Recent) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let recent = parse(&text, now);
        let lines = text.lines().count();
        (PaceLog { path, lines }, recent)
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Notes a request about to be sent at `at`; `recent` is what to keep on compaction.
    pub fn sent(&mut self, at: DateTime<Utc>, recent: &Recent) {
        self.append(&format!("r {}\n", at.timestamp_millis()), recent);
    }

    /// Notes a budget an answer announced.
    pub fn budget(&mut self, b: Announced, recent: &Recent) {
        self.append(
            &format!(
                "b {} {} {}\n",
                b.limit,
                b.remaining,
                b.reset_at.timestamp_millis()
            ),
            recent,
        );
    }

    fn append(&mut self, line: &str, recent: &Recent) {
        // Best effort: pacing goes on in memory if the disk refuses.
        if self.lines >= COMPACT_AFTER {
            let _ = self.compact(recent);
        }
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path);
        if let Ok(mut f) = file {
            // One write of one short line: appends from two processes do not interleave.
            if f.write_all(line.as_bytes()).is_ok() {
                self.lines += 1;
            }
        }
    }

    fn compact(&mut self, recent: &Recent) -> std::io::Result<()> {
        let mut text = String::new();
        for t in &recent.sent {
            text.push_str(&format!("r {}\n", t.timestamp_millis()));
        }
        if let Some(b) = recent.budget {
            text.push_str(&format!(
                "b {} {} {}\n",
                b.limit,
                b.remaining,
                b.reset_at.timestamp_millis()
            ));
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
        tmp.write_all(text.as_bytes())?;
        tmp.persist(&self.path).map_err(|e| e.error)?;
        self.lines = text.lines().count();
        Ok(())
    }
}

fn parse(text: &str, now: DateTime<Utc>) -> Recent {
    let mut out = Recent::default();
    let ms = |s: Option<&str>| {
        s.and_then(|v| v.parse::<i64>().ok())
            .and_then(DateTime::from_timestamp_millis)
    };
    let num = |s: Option<&str>| s.and_then(|v| v.parse::<u32>().ok());
    for line in text.lines() {
        let mut f = line.split_ascii_whitespace();
        match f.next() {
            Some("r") => {
                // A time ahead of now (another clock, a damaged line) is not trusted
                // beyond now: it holds a slot for at most a minute.
                if let Some(t) = ms(f.next()) {
                    let t = t.min(now);
                    if now - t < Duration::minutes(1) {
                        out.sent.push_back(t);
                    }
                }
            }
            Some("b") => {
                if let (Some(limit), Some(remaining), Some(reset)) =
                    (num(f.next()), num(f.next()), ms(f.next()))
                {
                    out.budget = Some(Announced {
                        limit,
                        remaining,
                        // Never trusted beyond the hour a budget lasts.
                        reset_at: reset.min(now + Duration::hours(1)),
                    });
                }
            }
            _ => {}
        }
    }
    out.sent.make_contiguous().sort();
    if out.budget.is_some_and(|b| b.reset_at <= now) {
        out.budget = None;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    // What a killed process noted is what the next one paces by: requests of the last
    // minute (not older ones) and a budget whose reset is still ahead.
    #[test]
    fn a_restarted_process_reads_the_last_minute_and_the_live_budget() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pace/google-health-P01.log");
        let (mut log, recent) = PaceLog::open(path.clone(), at(0));
        assert!(recent.sent.is_empty() && recent.budget.is_none());
        for s in [0, 10, 50, 70] {
            log.sent(at(s), &recent);
        }
        log.budget(
            Announced {
                limit: 150,
                remaining: 3,
                reset_at: at(600),
            },
            &recent,
        );
        let (_, r) = PaceLog::open(path.clone(), at(75));
        // 0 and 10 are more than a minute before 75; 50 and 70 are not.
        assert_eq!(r.sent, VecDeque::from(vec![at(50), at(70)]));
        assert_eq!(r.budget.map(|b| b.remaining), Some(3));
        let (_, r) = PaceLog::open(path, at(601));
        assert!(r.sent.is_empty());
        assert_eq!(r.budget, None, "a budget past its reset is spent history");
    }

    // A damaged or hostile log costs pacing knowledge, never a panic or a wait past a
    // minute (a time far ahead is read as now; a reset far ahead as within the hour).
    #[test]
    fn damaged_lines_are_skipped_and_future_times_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.log");
        std::fs::write(
            &path,
            "r x\nr 99999999999999999999\nb 1 2\n\u{0}\u{0}\nr 9000000000000\nb 150 0 9000000000000\n",
        )
        .unwrap();
        let (_, r) = PaceLog::open(path, at(0));
        assert_eq!(r.sent, VecDeque::from(vec![at(0)]));
        assert_eq!(r.budget.unwrap().reset_at, at(3600));
    }

    // The log stays small: past the limit it is rewritten with what still counts.
    #[test]
    fn a_long_log_is_compacted_to_what_still_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.log");
        let (mut log, _) = PaceLog::open(path.clone(), at(0));
        let recent = Recent {
            sent: VecDeque::from(vec![at(5)]),
            budget: None,
        };
        for i in 0..(COMPACT_AFTER + 10) {
            log.sent(at(i as i64 % 3), &recent);
        }
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert!(lines < 20, "{lines} lines");
    }
}
