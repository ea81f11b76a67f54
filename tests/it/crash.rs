//! A killed run never loses, hides or half-writes data. Each test stops a real `fitpipe`
//! process at a point of its write protocol (`FITPIPE_TEST_PAUSE_AT`, see
//! crates/export) and kills it with SIGKILL, then checks what readers see right after the
//! kill, after the next command (which recovers first), and after a re-run.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use super::simenv::{table_keys, SimEnv};
use super::{fitpipe, fixtures, s, tree};

/// Runs `cmd` until it pauses at `point`, then kills it with SIGKILL. Returns false if the
/// run ended without reaching the point.
pub(super) fn kill_at(mut cmd: Command, point: &str) -> bool {
    let mut child = cmd
        .env("FITPIPE_TEST_PAUSE_AT", point)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = BufReader::new(child.stderr.take().unwrap());
    let mut paused = false;
    for line in err.lines() {
        let line = line.unwrap_or_default();
        if line.contains("paused at") {
            paused = true;
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    paused
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// What a reader globbing `<table>/*.parquet` and `csv/<table>/*.csv` meets: every such
/// file is whole (a Parquet file opens; no temporary file matches the globs).
pub(super) fn readers_see_whole_files(out: &Path) {
    let mut dirs = vec![out.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if name != ".fitpipe" && name != "raw" {
                    dirs.push(p);
                }
                continue;
            }
            if name.ends_with(".parquet") {
                assert!(!name.starts_with(".tmp"), "{}", p.display());
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                    std::fs::File::open(&p).unwrap(),
                )
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            }
            if name.ends_with(".csv") {
                assert!(!name.starts_with(".tmp"), "{}", p.display());
                let text = std::fs::read_to_string(&p).unwrap();
                assert!(text.ends_with('\n'), "{} is cut short", p.display());
            }
        }
    }
}

/// Intraday heart-rate days in four months of 2021 (four partitions, plus zones).
fn second_input(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for month in 1..=4 {
        let day = format!("2021-{month:02}-10");
        let points: Vec<String> = (0..1440)
            .map(|m| {
                format!(
                    r#"{{"time":"{:02}:{:02}:00","value":{}}}"#,
                    m / 60,
                    m % 60,
                    60 + m % 40
                )
            })
            .collect();
        let body = format!(
            r#"{{"activities-heart":[{{"dateTime":"{day}","value":{{"customHeartRateZones":[],"heartRateZones":[{{"caloriesOut":1.5,"max":97,"min":30,"minutes":1000,"name":"Out of Range"}}],"restingHeartRate":55}}}}],"activities-heart-intraday":{{"dataset":[{}],"datasetInterval":1,"datasetType":"minute"}}}}"#,
            points.join(",")
        );
        std::fs::write(dir.join(format!("heart-{day}.json")), body).unwrap();
    }
}

fn import(out: &Path, input: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fitpipe"));
    c.args([
        "import",
        "json",
        s(input),
        "--timezone",
        "Europe/Berlin",
        "--out",
        s(out),
    ]);
    for (k, _) in std::env::vars() {
        if k.starts_with("FITPIPE_") {
            c.env_remove(k);
        }
    }
    c
}

#[test]
fn an_import_killed_anywhere_is_all_or_nothing_and_a_rerun_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    let r = fitpipe(&[
        "import",
        "json",
        s(&fixtures()),
        "--timezone",
        "Europe/Berlin",
        "--out",
        s(&base),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let input = dir.path().join("b");
    second_input(&input);
    let reference = dir.path().join("reference");
    copy_dir(&base, &reference);
    assert!(import(&reference, &input).status().unwrap().success());
    let tables = |out: &Path| tree(&out.join("csv"));
    let (before, after) = (tables(&base), tables(&reference));
    assert_ne!(before, after);
    // Before the commit point the run is invisible and rolled back; after it, the next
    // command finishes it.
    for (point, committed) in [
        ("staged:1", false),
        ("staged:5", false),
        ("journal:1", true),
        ("moved:1", true),
        ("moved:7", true),
    ] {
        let out = dir.path().join(point.replace(':', "-"));
        copy_dir(&base, &out);
        assert!(
            kill_at(import(&out, &input), point),
            "{point} was never reached"
        );
        readers_see_whole_files(&out);
        if !point.starts_with("moved") {
            assert_eq!(tables(&out), before, "{point}: a killed run is invisible");
        }
        // The next command (here: re-importing what was there before) recovers first.
        let r = fitpipe(&[
            "import",
            "json",
            s(&fixtures()),
            "--timezone",
            "Europe/Berlin",
            "--out",
            s(&out),
        ]);
        assert_eq!(r.code, 0, "{point}: {}", r.stderr);
        let recovered = tables(&out);
        assert_eq!(recovered == after, committed, "{point}");
        assert_eq!(recovered == before, !committed, "{point}");
        assert!(!out.join(".fitpipe/txn").exists());
        // A re-run completes the data.
        assert!(import(&out, &input).status().unwrap().success());
        assert_eq!(
            tables(&out),
            after,
            "{point}: the re-run completes the data"
        );
    }
}

#[test]
fn an_ingest_killed_mid_run_resumes_to_the_same_dataset() {
    let full = SimEnv::auto();
    full.authorise();
    let args = [
        "ingest",
        "--from",
        "2026-09-01",
        "--intraday",
        "heart",
        "--quiet",
    ];
    assert_eq!(full.run(&args).code, 0);
    for point in ["staged:3", "journal:2", "moved:2"] {
        let env = SimEnv::auto();
        env.authorise();
        let mut cmd = env.cmd(&args);
        cmd.stdin(Stdio::null());
        assert!(kill_at(cmd, point), "{point} was never reached");
        readers_see_whole_files(&env.out());
        let r = env.run(&["ingest", "--intraday", "heart", "--quiet"]);
        assert_eq!(r.code, 0, "{point}: {}", r.stderr);
        for (table, key) in [
            ("daily_activity", &["user_id", "date"][..]),
            ("heart_rate_intraday", &["user_id", "time_utc"][..]),
            ("sleep_sessions", &["user_id", "log_id"][..]),
        ] {
            let got = table_keys(&env.out(), table, key);
            assert_eq!(got, table_keys(&full.out(), table, key), "{point}: {table}");
        }
    }
}

// Regression: a killed `import takeout` left backups that the next `import json` restored
// over the rows an `ingest` had written in between: 82,917 intraday rows gone.
#[test]
fn a_killed_import_never_takes_rows_written_after_it() {
    let env = SimEnv::auto();
    env.authorise();
    let out = env.out();
    let input = env.dir.path().join("b");
    second_input(&input);
    assert!(kill_at(import(&out, &input), "staged:2"));
    let r = env.run(&[
        "ingest",
        "--from",
        "2026-10-01",
        "--intraday",
        "heart",
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ingested = table_keys(&out, "heart_rate_intraday", &["user_id", "time_utc"]);
    assert!(ingested.0 > 10_000, "{ingested:?}");
    let r = fitpipe(&[
        "import",
        "json",
        s(&fixtures()),
        "--timezone",
        "Europe/Berlin",
        "--out",
        s(&out),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let after = table_keys(&out, "heart_rate_intraday", &["user_id", "time_utc"]);
    // The fixtures add their own intraday rows; none of the ingest's is lost.
    assert!(
        after.0 >= ingested.0 && after.1 == 0,
        "{ingested:?} {after:?}"
    );
}

/// A Takeout folder of heart rate every minute from 30 Jan to 2 Mar 2020 (UTC), one
/// file a day: its months are streamed into their files as the days are read.
fn takeout_months(root: &Path) {
    let g = root.join("Takeout/Fitbit/Global Export Data");
    std::fs::create_dir_all(&g).unwrap();
    std::fs::create_dir_all(root.join("Takeout/Fitbit/Your Profile")).unwrap();
    std::fs::write(
        root.join("Takeout/Fitbit/Your Profile/Profile.csv"),
        "id,timezone\nX,UTC\n",
    )
    .unwrap();
    let first = chrono::NaiveDate::from_ymd_opt(2020, 1, 30).unwrap();
    for d in 0..33 {
        let day = first + chrono::Days::new(d);
        let records: Vec<String> = (0..1440)
            .map(|m| {
                let at = day.and_hms_opt(m / 60, m % 60, 0).unwrap();
                format!(
                    "{{\n  \"dateTime\" : \"{}\",\n  \"value\" : {{\n    \"bpm\" : {},\n    \"confidence\" : 2\n  }}\n}}",
                    at.format("%m/%d/%y %H:%M:%S"),
                    50 + (m + d as u32) % 90
                )
            })
            .collect();
        std::fs::write(
            g.join(format!("heart_rate-{day}.json")),
            format!("[{}]", records.join(",")),
        )
        .unwrap();
    }
}

#[test]
fn a_takeout_import_killed_while_a_month_is_streamed_leaves_nothing_and_a_rerun_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("archive");
    takeout_months(&input);
    let import = |out: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fitpipe"));
        c.args([
            "import",
            "takeout",
            s(&input),
            "--out",
            s(out),
            "--format",
            "parquet",
        ]);
        for (k, _) in std::env::vars() {
            if k.starts_with("FITPIPE_") {
                c.env_remove(k);
            }
        }
        c
    };
    let reference = dir.path().join("reference");
    assert!(import(&reference).status().unwrap().success());
    let tables = |out: &Path| tree(&out.join("heart_rate_intraday"));
    let after = tables(&reference);
    assert_eq!(after.len(), 3, "January, February and March files");
    // staged:1 is January finished while February's file is open and half written;
    // staged:2 is February finished with March's open.
    for point in ["staged:1", "staged:2"] {
        let out = dir.path().join(point.replace(':', "-"));
        assert!(kill_at(import(&out), point), "{point} was never reached");
        readers_see_whole_files(&out);
        assert!(
            tables(&out).is_empty(),
            "{point}: nothing of a killed import is visible"
        );
        // The next run recovers (drops the uncommitted staging) and imports it all.
        assert!(import(&out).status().unwrap().success());
        assert!(!out.join(".fitpipe/txn").exists(), "{point}");
        assert_eq!(
            tables(&out),
            after,
            "{point}: the re-run completes the data"
        );
    }
}
