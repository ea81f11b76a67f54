//! The serde floor for Takeout heart-rate files: parse every `heart_rate-*.json` of a
//! folder into typed records and nothing else, on 1 core and on all cores. Run by
//! `scripts/bench-takeout-heart`: `BENCH_DIR=<folder> cargo bench --bench takeout_floor`.
//! Prints `floor-1<TAB>seconds` and `floor-all<TAB>seconds` (medians of 3).

use std::time::Instant;

use serde::Deserialize;

#[derive(Deserialize)]
#[allow(dead_code)]
struct Record<'a> {
    #[serde(rename = "dateTime", borrow)]
    date_time: &'a str,
    value: Value,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Value {
    bpm: f64,
    confidence: Option<f64>,
}

fn parse(files: &[Vec<u8>]) -> usize {
    files
        .iter()
        .map(|b| serde_json::from_slice::<Vec<Record>>(b).unwrap().len())
        .sum()
}

fn median3(mut f: impl FnMut() -> usize) -> f64 {
    let mut t: Vec<f64> = (0..3)
        .map(|_| {
            let s = Instant::now();
            std::hint::black_box(f());
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[1]
}

fn main() {
    let dir = std::env::var("BENCH_DIR").expect("BENCH_DIR: a folder of heart_rate-*.json");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("heart_rate-"))
        .collect();
    paths.sort();
    let files: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    println!("floor-1\t{:.4}", median3(|| parse(&files)));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = files.len().div_ceil(cores);
    println!(
        "floor-all\t{:.4}",
        median3(|| std::thread::scope(|s| {
            let hs: Vec<_> = files
                .chunks(per)
                .map(|c| s.spawn(move || parse(c)))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        }))
    );
}
