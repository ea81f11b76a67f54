//! A bounded mutation fuzzer over every parser: the Fitbit Web API and Google Health
//! readers and each Takeout file family. Seeds are the project's fixtures and the real
//! samples in ../shared/reference (when present); each round flips, deletes, duplicates
//! and splices bytes and cuts the input short, deterministically (a fixed seed), and the
//! parsers must answer with rows or an error, never a panic. `FUZZ_ROUNDS` sets the rounds
//! per seed (CI runs the default).

mod common;

use std::path::{Path, PathBuf};

use fitpipe_transform::fitbit::{self, Context, Units};
use fitpipe_transform::{google, takeout};

/// splitmix64.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that JSON and CSV parsers branch on.
const INTERESTING: &[&[u8]] = &[
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"-1",
    b"1e999",
    b"NaN",
    b"\"\"",
    b"\\u0000",
    b"\n",
    b"\r\n",
    b"99:99:99",
    b"2020-02-30",
    b"13/45/20 25:61:61",
    b"\xef\xbb\xbf",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"0.0000001",
];

fn mutate(seed: &[u8], r: &mut Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + r.below(4) {
        if b.is_empty() {
            b.extend_from_slice(INTERESTING[r.below(INTERESTING.len())]);
            continue;
        }
        let i = r.below(b.len());
        match r.below(6) {
            0 => b[i] ^= 1 << r.below(8),
            1 => {
                let n = r.below(16).min(b.len() - i);
                b.drain(i..i + n);
            }
            2 => {
                let n = r.below(32).min(b.len() - i);
                let chunk = b[i..i + n].to_vec();
                let at = r.below(b.len());
                b.splice(at..at, chunk);
            }
            3 => {
                let tok = INTERESTING[r.below(INTERESTING.len())];
                b.splice(i..i, tok.iter().copied());
            }
            4 => b.truncate(i),
            _ => {
                // Replace a number-looking run with another.
                let end = (i..b.len())
                    .find(|j| !b[*j].is_ascii_digit())
                    .unwrap_or(b.len());
                let tok = INTERESTING[r.below(INTERESTING.len())];
                b.splice(i..end, tok.iter().copied());
            }
        }
    }
    b
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json" || x == "csv") {
            out.push(p);
        }
    }
}

fn seeds(sub: &str) -> Vec<(String, Vec<u8>)> {
    let root = common::manifest_dir();
    let mut paths = Vec::new();
    files(&root.join("tests/fixtures"), &mut paths);
    let shared = root.join("../../../shared/reference/samples").join(sub);
    if shared.is_dir() {
        files(&shared, &mut paths);
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} is absent, and CI=true: the reference samples must be there",
            shared.display()
        );
        eprintln!(
            "notice: {} is absent; fuzzing the fixtures only",
            shared.display()
        );
    }
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            // Samples are kept small; the few large ones would only slow the rounds.
            let b = std::fs::read(&p).ok().filter(|b| b.len() < 200_000)?;
            Some((name, b))
        })
        .collect()
}

fn rounds() -> usize {
    std::env::var("FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

fn ctx() -> Context {
    Context {
        user_id: "u".into(),
        tz: Some("America/New_York".parse().unwrap()),
        fetched_utc: None,
        units: Units::Metric,
    }
}

#[test]
fn fitbit_parser_never_panics_on_mutated_answers() {
    let mut r = Rng(1);
    let mut inputs = 0;
    for (_, seed) in seeds("fitbit-web-api") {
        for _ in 0..rounds() {
            let b = mutate(&seed, &mut r);
            if let Ok(doc) = fitbit::parse(&b) {
                let _ = fitbit::normalise(&doc, &ctx());
            }
            inputs += 1;
        }
    }
    assert!(inputs > 1000, "{inputs}");
}

#[test]
fn google_parser_never_panics_on_mutated_answers() {
    let mut r = Rng(2);
    let gctx = google::Context {
        user_id: "u".into(),
        tz: Some("America/New_York".parse().unwrap()),
        fetched_utc: None,
    };
    let mut inputs = 0;
    for (_, seed) in seeds("google-health") {
        for _ in 0..rounds() {
            let b = mutate(&seed, &mut r);
            if let Ok(doc) = google::parse(&b) {
                let _ = google::normalise(&doc, &gctx);
            }
            inputs += 1;
        }
    }
    assert!(inputs > 100, "{inputs}");
}

#[test]
fn takeout_readers_never_panic_on_mutated_files() {
    let mut r = Rng(3);
    let mut inputs = 0;
    for (name, seed) in seeds("takeout") {
        // Samples carry a prefix (`export2018_`); the family is in the rest of the name.
        let base = name.split_once('_').map_or(name.as_str(), |(_, b)| b);
        let families: Vec<takeout::Family> = takeout::Family::of(base)
            .or_else(|| takeout::Family::of(&name))
            .into_iter()
            .collect();
        // Unrecognised seeds still feed the JSON families.
        let families = if families.is_empty() {
            vec![takeout::Family::HeartRate, takeout::Family::Sleep]
        } else {
            families
        };
        for _ in 0..rounds() {
            let b = mutate(&seed, &mut r);
            for f in &families {
                let _ = takeout::normalise(*f, &b, &ctx());
                let _ = takeout::normalise_batches(*f, &b, &ctx());
            }
            inputs += 1;
        }
    }
    assert!(inputs > 100, "{inputs}");
}
