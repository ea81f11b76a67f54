use std::fs;

use super::*;

fn csv(out: &Path, table: &str) -> String {
    let mut files: Vec<_> = fs::read_dir(out.join("csv").join(table))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("")
}

#[test]
fn importing_the_same_files_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    let fx = fixtures();
    let args = [
        "import",
        "json",
        s(&fx),
        "--timezone",
        "America/New_York",
        "--out",
        s(&out),
    ];
    let first = fitpipe(&args);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(first.stdout.contains("sleep_stages"), "{}", first.stdout);
    let before = tree(&out);
    assert!(before.keys().any(|k| k.starts_with("heart_rate_intraday")));
    let again = fitpipe(&args);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let after = tree(&out);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (k, v) in &before {
        if k.extension().is_some_and(|e| e == "csv") {
            assert_eq!(v, &after[k], "{} changed on re-import", k.display());
        }
    }
}

#[test]
fn steps_then_calories_fill_one_row_per_day() {
    let Some(samples) = samples() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    for f in [
        "activities-steps-range.json",
        "activities-calories-range.json",
    ] {
        let r = fitpipe(&[
            "import",
            "json",
            s(&samples.join(f)),
            "--out",
            s(out),
            "--user-id",
            "ME",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let text = csv(out, "daily_activity");
    let lines: Vec<_> = text.lines().filter(|l| !l.starts_with("user_id")).collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert!(
        text.contains("ME,fitbit-web-api,2018-12-26,2504,,,,2143.0,"),
        "{text}"
    );
    assert!(
        text.contains("ME,fitbit-web-api,2019-01-01,1698,,,,2098.0,"),
        "{text}"
    );
}

#[test]
fn profile_among_inputs_gives_user_and_time_zone() {
    let Some(samples) = samples() else { return };
    let dir = tempfile::tempdir().unwrap();
    let r = fitpipe(&[
        "import",
        "json",
        s(&samples.join("profile.json")),
        s(&samples.join("heart-intraday-1sec.json")),
        "--out",
        s(dir.path()),
        "--format",
        "csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Europe/London in January is UTC+0; user id is the profile's encodedId.
    let hr = csv(dir.path(), "heart_rate_intraday");
    assert!(
        hr.contains("XXXXXX,fitbit-web-api,2019-01-01T00:00:15Z,2019-01-01T00:00:15,67.0,,1"),
        "{hr}"
    );
    assert!(
        !dir.path().join("heart_rate_intraday").exists(),
        "--format csv wrote no parquet"
    );
}

fn assert_refused(extra: &[&str], file: &str, body: &str, needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    let ok = fitpipe(&[
        "import",
        "json",
        s(&fixtures()),
        "--timezone",
        "America/New_York",
        "--out",
        s(&out),
    ]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let before = tree(&out);
    let bad = dir.path().join(file);
    fs::write(&bad, body).unwrap();
    let fx = fixtures();
    let mut args = vec!["import", "json", s(&fx), s(&bad), "--out", s(&out)];
    args.extend_from_slice(extra);
    let r = fitpipe(&args);
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(needle),
        "stderr lacks {needle:?}: {}",
        r.stderr
    );
    if !extra.contains(&"--timezone") || needle.contains(file) {
        assert!(
            r.stderr.contains(file),
            "stderr does not name {file}: {}",
            r.stderr
        );
    }
    assert_eq!(
        tree(&out),
        before,
        "tables on disk changed after a refused import"
    );
}

#[test]
fn invalid_json_is_refused_and_nothing_changes() {
    assert_refused(
        &["--timezone", "America/New_York"],
        "cut.json",
        r#"{"activities-steps": [{"dateTime": "2020-01-01", "va"#,
        "invalid JSON",
    );
}

#[test]
fn unknown_document_shape_is_refused() {
    assert_refused(
        &["--timezone", "America/New_York"],
        "other.json",
        r#"{"foods": []}"#,
        "unknown document shape (top-level keys: foods)",
    );
}

#[test]
fn a_string_where_a_number_belongs_is_refused_with_its_path() {
    assert_refused(
        &["--timezone", "America/New_York"],
        "steps.json",
        r#"{"activities-steps": [{"dateTime": "2020-01-01", "value": "12"}, {"dateTime": "2020-01-02", "value": "many"}]}"#,
        "activities-steps[1].value",
    );
}

#[test]
fn fractional_steps_are_refused() {
    assert_refused(
        &["--timezone", "America/New_York"],
        "steps.json",
        r#"{"activities-steps": [{"dateTime": "2020-01-01", "value": "12.5"}]}"#,
        "expected a whole number",
    );
}

#[test]
fn unknown_time_zone_is_refused() {
    assert_refused(
        &["--timezone", "Mars/Olympus_Mons"],
        "ok.json",
        r#"{"activities-steps": []}"#,
        "unknown time zone `Mars/Olympus_Mons`",
    );
}

#[test]
fn times_of_day_without_a_time_zone_ask_for_one() {
    let dir = tempfile::tempdir().unwrap();
    let r = fitpipe(&[
        "import",
        "json",
        s(&fixtures().join("sleep-stages-and-nap.json")),
        "--out",
        s(dir.path()),
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("sleep-stages-and-nap.json")
            && r.stderr.contains("hint: pass `--timezone`"),
        "{}",
        r.stderr
    );
    assert!(
        tree(dir.path())
            .keys()
            .all(|k| k.ends_with(".fitpipe.lock") || k.as_os_str().is_empty()),
        "nothing written"
    );
}

#[test]
fn missing_path_and_bad_flags_exit_1() {
    let r = fitpipe(&["import", "json", "/nonexistent/fitbit.json"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("/nonexistent/fitbit.json"),
        "{}",
        r.stderr
    );
    let r = fitpipe(&["import", "json", s(&fixtures()), "--format", "xlsx"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("unknown format `xlsx`"), "{}", r.stderr);
}

#[test]
fn a_bad_file_after_written_chunks_rolls_every_table_back() {
    // Regression: imports stream in chunks; a bad file in a later chunk must still leave
    // the tables exactly as they were.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    let fx = fixtures();
    let ok = fitpipe(&[
        "import",
        "json",
        s(&fx.join("tutorial-log-steps.json")),
        "--out",
        s(&out),
    ]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let before = tree(&out);
    let inputs = dir.path().join("in");
    fs::create_dir_all(&inputs).unwrap();
    for e in fs::read_dir(&fx).unwrap() {
        let p = e.unwrap().path();
        fs::copy(&p, inputs.join(p.file_name().unwrap())).unwrap();
    }
    fs::write(
        inputs.join("zzz-last.json"),
        r#"{"activities-steps": [{"dateTime": "2020-01-01", "value": "x"}]}"#,
    )
    .unwrap();
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_fitpipe"));
    c.args(["import", "json", s(&inputs), "--out", s(&out)])
        .env("FITPIPE_IMPORT_CHUNK_BYTES", "1");
    let r: Run = c.output().unwrap().into();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("zzz-last.json") && r.stderr.contains("nothing was written"),
        "{}",
        r.stderr
    );
    assert_eq!(tree(&out), before, "earlier chunks were rolled back");
}

/// A small tmpfs for a disk-full test (Linux, root); `None` with a notice elsewhere.
fn tiny_disk(dir: &Path) -> Option<TinyDisk> {
    let mnt = dir.join("disk");
    fs::create_dir_all(&mnt).ok()?;
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=160k", "tmpfs", s(&mnt)])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|st| st.success());
    if !ok {
        eprintln!("notice: cannot mount a tmpfs here; disk-full test skipped");
        return None;
    }
    Some(TinyDisk(mnt))
}

struct TinyDisk(std::path::PathBuf);

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn disk_full_is_reported_and_the_tables_stay_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = tiny_disk(dir.path()) else {
        return;
    };
    let out = disk.0.join("data");
    let fx = fixtures();
    let r = fitpipe(&[
        "import",
        "json",
        s(&fx.join("tutorial-log-steps.json")),
        "--out",
        s(&out),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = tree(&out);
    // Fill what is left of the disk.
    let mut filler = fs::File::create(disk.0.join("filler")).unwrap();
    let block = vec![0u8; 4096];
    while std::io::Write::write_all(&mut filler, &block).is_ok() {}
    drop(filler);
    // A day of intraday heart rate: more than the few bytes still free.
    let day: Vec<String> = (0..1440)
        .map(|m| {
            format!(
                r#"{{"time":"{:02}:{:02}:00","value":{}}}"#,
                m / 60,
                m % 60,
                60 + m % 30
            )
        })
        .collect();
    let big = dir.path().join("heart.json");
    fs::write(&big, format!(r#"{{"activities-heart":[{{"dateTime":"2020-04-12","value":{{"heartRateZones":[]}}}}],"activities-heart-intraday":{{"dataset":[{}],"datasetInterval":1,"datasetType":"minute"}}}}"#, day.join(","))).unwrap();
    let r = fitpipe(&[
        "import",
        "json",
        s(&big),
        s(&fx.join("tutorial-log-steps.json")),
        "--timezone",
        "UTC",
        "--out",
        s(&out),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("No space left") && r.stderr.contains("hint: the disk is full"),
        "{}",
        r.stderr
    );
    assert_eq!(
        tree(&out),
        before,
        "nothing already written was lost or corrupted"
    );
}

// Saved Google Health API answers import too, recognised by their shape: the raw answers
// of a Google ingest (decompressed, as another tool would keep them) give the same rows
// as the ingest wrote, and the user id from the saved identity answer.
#[test]
fn saved_google_health_answers_import_into_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    let r = fitpipe(&[
        "ingest",
        "--demo",
        "--provider",
        "google-health",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-14",
        "--out",
        s(&live),
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let saved = dir.path().join("saved");
    let mut n = 0;
    for rel in tree(&live.join("raw")).into_keys() {
        let name = rel.to_string_lossy().replace(['/', '\\'], "_");
        let to = saved.join(name.trim_end_matches(".zst"));
        fs::create_dir_all(&saved).unwrap();
        fs::write(
            &to,
            fitpipe_ingest::raw::read(&live.join("raw").join(&rel)).unwrap(),
        )
        .unwrap();
        n += 1;
    }
    assert!(n > 10, "{n} raw answers");
    let out = dir.path().join("imported");
    let r = fitpipe(&["import", "json", s(&saved), "--out", s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for table in [
        "daily_activity",
        "sleep_sessions",
        "sleep_stages",
        "exercise_sessions",
    ] {
        let (a, b) = (csv(&out, table), csv(&live, table));
        assert!(a.lines().count() > 2, "{table}: {a}");
        assert_eq!(a, b, "{table}");
    }
}

// The reference's Google answers (whole responses, not request bodies) import.
#[test]
fn the_reference_google_answers_import() {
    let Some(fitbit) = samples() else { return };
    let google = fitbit.join("../google-health/synthetic/data");
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    fs::create_dir_all(&inputs).unwrap();
    for e in fs::read_dir(&google).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".json") && !name.contains(".request.") {
            fs::copy(&p, inputs.join(&name)).unwrap();
        }
    }
    let out = dir.path().join("out");
    let r = fitpipe(&[
        "import",
        "json",
        s(&inputs),
        "--out",
        s(&out),
        "--timezone",
        "UTC",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let daily = csv(&out, "daily_activity");
    assert!(
        daily.lines().count() > 1 && daily.contains("google-health"),
        "{daily}"
    );
    assert!(out.join("heart_rate_intraday").is_dir());
    assert!(out.join("sleep_sessions").is_dir());
}
