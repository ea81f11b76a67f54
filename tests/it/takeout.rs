//! `fitpipe import takeout` on small archives the test writes.

use std::fs;
use std::path::Path;

use super::simenv::table_keys;
use super::*;
use std::process::Command;

/// A Takeout `Fitbit/` layout for a person in Berlin, two days of data.
fn archive(root: &Path) {
    let g = root.join("Takeout/Fitbit/Global Export Data");
    fs::create_dir_all(&g).unwrap();
    fs::create_dir_all(root.join("Takeout/Fitbit/Your Profile")).unwrap();
    fs::write(
        root.join("Takeout/Fitbit/Your Profile/Profile.csv"),
        "id,full name,about me,timezone\nX,\"Doe, Jo\",\"says \"\"hi\"\"\",Europe/Berlin\n",
    )
    .unwrap();
    // Local midnight of 2020-06-02 in Berlin is 22:00 UTC the day before.
    fs::write(
        g.join("heart_rate-2020-06-02.json"),
        r#"[{"dateTime" : "06/01/20 22:00:04", "value" : {"bpm" : 61, "confidence" : 3}},
            {"dateTime" : "06/01/20 22:00:09", "value" : {"bpm" : 60, "confidence" : 2}}]"#,
    )
    .unwrap();
    fs::write(g.join("steps-2020-06-01.json"), r#"[{"dateTime" : "06/02/20 07:00:00", "value" : "30"}, {"dateTime" : "06/02/20 07:01:00", "value" : "12"}]"#).unwrap();
    fs::write(g.join("sedentary_minutes-2020-06-01.json"), r#"[{"dateTime" : "06/01/20 00:00:00", "value" : "700"}, {"dateTime" : "06/02/20 00:00:00", "value" : "650"}]"#).unwrap();
    fs::write(
        g.join("resting_heart_rate-2020-01-01.json"),
        r#"[{"dateTime" : "06/01/20 00:00:00", "value" : {"date" : "06/01/20", "value" : 55.5, "error" : 3.0}}, {"dateTime" : "06/03/20 00:00:00", "value" : {"date" : null, "value" : 0.0, "error" : 0.0}}]"#,
    )
    .unwrap();
    // The activity log: `startTime` in UTC (07:30 in Berlin).
    fs::write(
        g.join("exercise-0.json"),
        r#"[{"logId" : 42, "activityName" : "Walk", "startTime" : "06/02/20 05:30:00",
             "duration" : 1800000, "activeDuration" : 1800000, "steps" : 3000,
             "distance" : 2.25, "distanceUnit" : "Kilometer", "calories" : 150,
             "hasGps" : false, "logType" : "auto_detected"}]"#,
    )
    .unwrap();
    fs::write(g.join("badge.json"), "[]").unwrap();
}

fn import(root: &Path, out: &Path) -> Run {
    fitpipe(&[
        "import",
        "takeout",
        s(root),
        "--out",
        s(out),
        "--user-id",
        "TEST01",
        // CSV copies of the intraday tables too (the default writes them for daily tables).
        "--format",
        "parquet,csv",
    ])
}

#[test]
fn archive_folder_imports_with_each_familys_time_rule() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    fs::remove_file(
        dir.path()
            .join("Takeout/Fitbit/Global Export Data/badge.json"),
    )
    .unwrap();
    let out = dir.path().join("data");
    let r = import(dir.path(), &out);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let hr = fs::read_to_string(out.join("csv/heart_rate_intraday/2020-06.csv")).unwrap();
    assert!(
        hr.contains("TEST01,takeout,2020-06-01T22:00:04Z,2020-06-02T00:00:04,61.0,3.0,1"),
        "{hr}"
    );
    let daily = fs::read_to_string(out.join("csv/daily_activity/2020.csv")).unwrap();
    assert!(
        daily.contains("TEST01,takeout,2020-06-01,,,,,,700,,,,55.5"),
        "{daily}"
    );
    assert!(
        !daily.contains("2020-06-03"),
        "filler rows are skipped: {daily}"
    );
    let ex = fs::read_to_string(out.join("csv/exercise_sessions/2020.csv")).unwrap();
    assert!(
        ex.contains("TEST01,takeout,42,2020-06-02,2020-06-02T05:30:00Z,2020-06-02T07:30:00,2020-06-02T06:00:00Z,2020-06-02T08:00:00,walking,Walk,1800,150.0,2.25,3000"),
        "{ex}"
    );
    // Importing again leaves each key once.
    let before = super::tree(&out.join("csv"));
    let r = import(dir.path(), &out);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(super::tree(&out.join("csv")), before);
}

#[test]
fn damaged_and_unknown_files_are_reported_skipped_and_the_rest_imported() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    let g = dir.path().join("Takeout/Fitbit/Global Export Data");
    fs::write(
        g.join("steps-2020-07-01.json"),
        r#"[{"dateTime" : "07/01/20 07:00:00", "val"#,
    )
    .unwrap();
    let out = dir.path().join("data");
    let r = import(dir.path(), &out);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("steps-2020-07-01.json") && r.stderr.contains("invalid JSON"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("badge.json") && r.stderr.contains("2 file(s) were skipped"),
        "{}",
        r.stderr
    );
    let (rows, dups) = table_keys(&out, "activity_intraday", &["user_id", "time_utc"]);
    assert_eq!((rows, dups), (2, 0), "the good steps file was imported");
    let leftovers: Vec<_> = fs::read_dir(out.join("activity_intraday"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no half-written file: {leftovers:?}");
}

#[test]
fn archive_after_api_rows_of_the_same_days_leaves_each_key_once() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    let out = dir.path().join("data");
    let api = dir.path().join("api.json");
    fs::write(&api, r#"{"activities-steps":[{"dateTime":"2020-06-01","value":"9000"},{"dateTime":"2020-06-02","value":"8000"}]}"#).unwrap();
    let r = fitpipe(&[
        "import",
        "json",
        s(&api),
        "--out",
        s(&out),
        "--user-id",
        "TEST01",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let _ = import(dir.path(), &out);
    let (rows, dups) = table_keys(&out, "daily_activity", &["user_id", "date"]);
    assert_eq!((rows, dups), (2, 0));
    let daily = fs::read_to_string(out.join("csv/daily_activity/2020.csv")).unwrap();
    // Column by column: the API's steps stay, the archive adds sedentary minutes.
    assert!(
        daily.contains("TEST01,takeout,2020-06-01,9000,,,,,700,"),
        "{daily}"
    );
}

#[test]
fn missing_time_zone_and_zip_files_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    fs::remove_file(dir.path().join("Takeout/Fitbit/Your Profile/Profile.csv")).unwrap();
    let r = import(dir.path(), &dir.path().join("data"));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--timezone"), "{}", r.stderr);
    let zip = dir.path().join("takeout.zip");
    fs::write(&zip, b"PK").unwrap();
    let r = import(&zip, &dir.path().join("data"));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("extract"), "{}", r.stderr);
}

/// Zips `root` into `zip_path`, storing files uncompressed so a test can damage one.
fn zip_dir(root: &Path, zip_path: &Path) {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(fs::File::create(zip_path).unwrap());
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut files = Vec::new();
    fn walk(d: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out)
            } else {
                out.push(p)
            }
        }
    }
    walk(root, &mut files);
    files.sort();
    for f in files {
        w.start_file(f.strip_prefix(root).unwrap().to_string_lossy(), opts)
            .unwrap();
        w.write_all(&fs::read(&f).unwrap()).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn zip_archive_with_a_corrupt_entry_imports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    archive(&src);
    let zip_path = dir.path().join("takeout-20260101T000000Z-001.zip");
    zip_dir(&src, &zip_path);
    // Damage the stored bytes of the steps file: its CRC no longer matches.
    let mut bytes = fs::read(&zip_path).unwrap();
    let needle = b"\"value\" : \"30\"";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    bytes[at + 12] = b'9';
    fs::write(&zip_path, bytes).unwrap();
    let out = dir.path().join("data");
    let r = fitpipe(&[
        "import",
        "takeout",
        s(&zip_path),
        "--out",
        s(&out),
        "--user-id",
        "TEST01",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("steps-2020-06-01.json") && r.stderr.contains("corrupt zip entry"),
        "{}",
        r.stderr
    );
    let (rows, _) = table_keys(&out, "heart_rate_intraday", &["user_id", "time_utc"]);
    assert_eq!(rows, 2, "heart rate from the same archive was imported");
    assert!(
        !out.join("activity_intraday").exists(),
        "nothing from the damaged entry"
    );
}

#[test]
fn google_csv_folder_imports_and_merges_with_the_json_twin() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    let csv = dir
        .path()
        .join("Takeout/Fitbit/Physical Activity_GoogleData");
    fs::create_dir_all(&csv).unwrap();
    // The same two minutes as the JSON steps file, as the 2024 CSV twin writes them.
    fs::write(
        csv.join("steps_2020-06-01.csv"),
        "timestamp,steps\n2020-06-02T07:00:00Z,30\n2020-06-02T07:01:00Z,12\n",
    )
    .unwrap();
    fs::write(
        csv.join("heart_rate_2020-06-01.csv"),
        "timestamp,beats per minute\n2020-06-01T22:00:06Z,62.0\n",
    )
    .unwrap();
    let out = dir.path().join("data");
    let r = import(dir.path(), &out);
    assert_eq!(r.code, 1, "badge.json is unknown: {}", r.stderr);
    let (steps, dups) = table_keys(&out, "activity_intraday", &["user_id", "time_utc"]);
    assert_eq!(
        (steps, dups),
        (2, 0),
        "the twin streams land on the same keys"
    );
    let (hr, _) = table_keys(&out, "heart_rate_intraday", &["user_id", "time_utc"]);
    assert_eq!(hr, 3);
}

#[test]
fn old_account_archive_layout() {
    // fitbit.com's "Export your account archive": `<Name>/user-site-export/*.json`.
    let dir = tempfile::tempdir().unwrap();
    let u = dir.path().join("JoDoe/user-site-export");
    fs::create_dir_all(&u).unwrap();
    fs::write(
        u.join("heart_rate-2018-04-01.json"),
        r#"[{"dateTime" : "03/31/18 13:00:00", "value" : {"bpm" : 70, "confidence" : 1}}]"#,
    )
    .unwrap();
    let out = dir.path().join("data");
    let r = fitpipe(&[
        "import",
        "takeout",
        s(dir.path()),
        "--out",
        s(&out),
        "--timezone",
        "Australia/Melbourne",
        "--format",
        "parquet,csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let hr = fs::read_to_string(out.join("csv/heart_rate_intraday/2018-03.csv")).unwrap();
    // Melbourne was UTC+11 on 31 March 2018: 13:00 UTC is local midnight.
    assert!(
        hr.contains("-,takeout,2018-03-31T13:00:00Z,2018-04-01T00:00:00,70.0,1.0,1"),
        "{hr}"
    );
}

#[test]
fn google_health_2026_layout_with_data_source_columns() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("Takeout/Google Health");
    fs::create_dir_all(root.join("Your Profile")).unwrap();
    fs::write(root.join("Your Profile/Profile.csv"), "timezone\nUTC\n").unwrap();
    let steps = root.join("Physical Activity_GoogleData/Steps");
    fs::create_dir_all(&steps).unwrap();
    fs::write(steps.join("steps_2026-05-01.csv"), "timestamp,steps,data source\n2026-05-01T08:00:00.000Z,15,MobileTrack\n2026-05-01T08:01:00.000Z,20,Google Fitbit Air\n").unwrap();
    let out = dir.path().join("data");
    let r = fitpipe(&[
        "import",
        "takeout",
        s(dir.path()),
        "--out",
        s(&out),
        "--format",
        "parquet,csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a = fs::read_to_string(out.join("csv/activity_intraday/2026-05.csv")).unwrap();
    assert!(
        a.contains("-,takeout,2026-05-01T08:00:00Z,2026-05-01T08:00:00,15,"),
        "{a}"
    );
}

#[test]
fn weight_needs_its_unit_and_daily_summaries_land_in_their_tables() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    fs::remove_file(
        dir.path()
            .join("Takeout/Fitbit/Global Export Data/badge.json"),
    )
    .unwrap();
    let g = dir.path().join("Takeout/Fitbit/Global Export Data");
    fs::write(g.join("weight-2020-06-01.json"), r#"[{"logId" : 1591055999000, "weight" : 154.0, "bmi" : 22.1, "date" : "06/01/20", "time" : "23:59:59", "source" : "Aria"}]"#).unwrap();
    let hrv = dir.path().join("Takeout/Fitbit/Heart Rate Variability");
    fs::create_dir_all(&hrv).unwrap();
    fs::write(
        hrv.join("Daily Heart Rate Variability Summary - 2020-06-01.csv"),
        "timestamp,rmssd,nremhr,entropy\n2020-06-01T00:00:00,30.5,50.1,2.4\n",
    )
    .unwrap();
    let out = dir.path().join("data");
    let r = import(dir.path(), &out);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("--weight-unit"), "{}", r.stderr);
    assert!(!out.join("weight_log").exists(), "weight is never guessed");
    assert!(fs::read_to_string(out.join("csv/hrv_daily/2020.csv"))
        .unwrap()
        .contains("TEST01,takeout,2020-06-01,30.5,,50.1,2.4"));
    let r = fitpipe(&[
        "import",
        "takeout",
        s(dir.path()),
        "--out",
        s(&out),
        "--user-id",
        "TEST01",
        "--weight-unit",
        "lb",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let w = fs::read_to_string(out.join("csv/weight_log/2020.csv")).unwrap();
    assert!(w.contains("TEST01,takeout,1591055999000,2020-06-01,2020-06-01T23:59:59,2020-06-01T21:59:59Z,69.85"), "{w}");
}

/// A zip of one entry under `Global Export Data`, deflated.
fn one_entry_zip(path: &Path, name: &str, write: impl FnOnce(&mut dyn std::io::Write)) {
    let mut w = zip::ZipWriter::new(fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    w.start_file(format!("Takeout/Fitbit/Global Export Data/{name}"), opts)
        .unwrap();
    write(&mut w);
    w.finish().unwrap();
}

/// `fitpipe import takeout` with the process's data segment capped (`ulimit -d`): an
/// allocation of what an archive declares, or inflating it whole, fails under the cap.
fn import_capped(archive: &Path, out: &Path, kib: u64) -> Run {
    let cmd = format!(
        "ulimit -d {kib} && exec '{}' import takeout '{}' --out '{}' --user-id X --timezone UTC",
        env!("CARGO_BIN_EXE_fitpipe"),
        archive.display(),
        out.display()
    );
    Command::new("sh")
        .args(["-c", &cmd])
        .output()
        .expect("run fitpipe")
        .into()
}

#[test]
fn a_zip_bomb_is_refused_with_memory_capped_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.zip");
    // 600 MiB of zeros in a zip of well under 1 MiB.
    one_entry_zip(&bomb, "heart_rate-2020-01-01.json", |w| {
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..600 {
            w.write_all(&zeros).unwrap();
        }
    });
    assert!(fs::metadata(&bomb).unwrap().len() < 1 << 20);
    let out = dir.path().join("data");
    let r = import_capped(&bomb, &out, 200 * 1024);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("zip bomb") || r.stderr.contains("MiB a file may be"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("hint:"), "{}", r.stderr);
    assert!(!out.join("heart_rate_intraday").exists(), "nothing written");
}

#[test]
fn forged_entry_sizes_are_refused_without_allocating_them() {
    let dir = tempfile::tempdir().unwrap();
    let honest = dir.path().join("honest.zip");
    one_entry_zip(&honest, "heart_rate-2020-01-01.json", |w| {
        w.write_all(
            br#"[{"dateTime" : "01/01/20 00:00:04", "value" : {"bpm" : 61, "confidence" : 3}}]"#,
        )
        .unwrap();
    });
    let bytes = fs::read(&honest).unwrap();
    assert!(bytes.len() < 1000);
    // The zip64 extra field carries the real sizes: forge the uncompressed size (its first
    // 8 bytes) in every header, as 1 TiB and as 2^64-1.
    for forged in [1u64 << 40, u64::MAX] {
        let mut b = bytes.clone();
        let mut i = 0;
        let mut patched = 0;
        while i + 12 <= b.len() {
            // Zip64 extra field: id 0x0001, then its length, then the uncompressed size.
            if b[i] == 0x01
                && b[i + 1] == 0x00
                && (b[i + 2] == 16 || b[i + 2] == 24 || b[i + 2] == 28)
                && b[i + 3] == 0
            {
                b[i + 4..i + 12].copy_from_slice(&forged.to_le_bytes());
                patched += 1;
                i += 12;
            } else {
                i += 1;
            }
        }
        assert!(patched >= 1, "no zip64 field found");
        let path = dir.path().join(format!("forged-{forged}.zip"));
        fs::write(&path, &b).unwrap();
        let out = dir.path().join(format!("out-{forged}"));
        let r = import_capped(&path, &out, 200 * 1024);
        assert_eq!(r.code, 1, "{forged}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert!(!out.join("heart_rate_intraday").exists(), "nothing written");
    }
}

#[test]
fn a_folder_link_loop_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    std::os::unix::fs::symlink(
        dir.path().join("Takeout"),
        dir.path().join("Takeout/Fitbit/Global Export Data/loop"),
    )
    .unwrap();
    let out = dir.path().join("data");
    let r = import(dir.path(), &out);
    assert_eq!(r.code, 1, "{}", r.stderr); // badge.json is not a family: skipped, exit 1
    assert!(r.stderr.contains("a link to a folder"), "{}", r.stderr);
    assert_eq!(
        r.stderr.matches("link to a folder").count(),
        1,
        "{}",
        r.stderr
    );
    assert!(out.join("heart_rate_intraday").exists());
}

#[test]
fn a_profile_without_a_time_zone_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    fs::write(
        dir.path().join("Takeout/Fitbit/Your Profile/Profile.csv"),
        "\u{feff}id,full name,city\nX,Jo,Dublin\n",
    )
    .unwrap();
    let r = import(dir.path(), &dir.path().join("data"));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("has no `timezone` column"),
        "{}",
        r.stderr
    );
    // A BOM before the header does not hide the column.
    fs::write(
        dir.path().join("Takeout/Fitbit/Your Profile/Profile.csv"),
        "\u{feff}id,timezone\r\nX,Europe/Berlin\r\n",
    )
    .unwrap();
    let r = import(dir.path(), &dir.path().join("data"));
    assert!(!r.stderr.contains("time zone"), "{}", r.stderr);
}

#[test]
fn csv_copies_of_daily_tables_by_default_of_intraday_tables_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    let out = dir.path().join("default");
    let r = fitpipe(&[
        "import",
        "takeout",
        s(dir.path()),
        "--out",
        s(&out),
        "--user-id",
        "T",
        "--quiet",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr); // badge.json is skipped
    assert!(
        !r.stderr.contains("archive file(s) into"),
        "--quiet: {}",
        r.stderr
    );
    assert!(out.join("heart_rate_intraday").exists());
    assert!(!out.join("csv/heart_rate_intraday").exists());
    assert!(out.join("csv/daily_activity").exists());
    let out = dir.path().join("asked");
    import(dir.path(), &out);
    assert!(out.join("csv/heart_rate_intraday").exists());
}

#[test]
fn takeout_csv_with_a_bom_quoted_commas_and_line_breaks_imports_correctly() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("Takeout/Google Health");
    fs::create_dir_all(root.join("Your Profile")).unwrap();
    // A free-text field with a comma, a quote and a line break before the time zone.
    fs::write(
        root.join("Your Profile/Profile.csv"),
        "\u{feff}id,about me,timezone\nX,\"Runs, \"\"mostly\"\"\nand swims\",Europe/Berlin\n",
    )
    .unwrap();
    let steps = root.join("Physical Activity_GoogleData/Steps");
    fs::create_dir_all(&steps).unwrap();
    fs::write(
        steps.join("steps_2026-05-01.csv"),
        "\u{feff}timestamp,data source,steps\n2026-05-01T08:00:00.000Z,\"Pixel Watch, v2\",15\n2026-05-01T08:01:00.000Z,MobileTrack,20\n",
    )
    .unwrap();
    let out = dir.path().join("data");
    let r = fitpipe(&[
        "import",
        "takeout",
        s(dir.path()),
        "--out",
        s(&out),
        "--format",
        "parquet,csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a = fs::read_to_string(out.join("csv/activity_intraday/2026-05.csv")).unwrap();
    // Berlin (from the profile) is UTC+2 in May.
    assert!(
        a.contains("2026-05-01T08:00:00Z,2026-05-01T10:00:00,15,"),
        "{a}"
    );
    assert!(
        a.contains("2026-05-01T08:01:00Z,2026-05-01T10:01:00,20,"),
        "{a}"
    );
}

#[test]
fn many_small_bomb_entries_are_refused_as_a_whole() {
    // Each entry stays under the size where one entry is held to the ratio; together they
    // inflate a thousand times.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.zip");
    let mut w = zip::ZipWriter::new(fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let zeros = vec![0u8; 900 << 10];
    for i in 0..40 {
        w.start_file(
            format!(
                "Takeout/Fitbit/Global Export Data/heart_rate-2020-01-{:02}.json",
                i % 28 + 1
            ) + &"x".repeat(i / 28),
            opts,
        )
        .unwrap();
        std::io::Write::write_all(&mut w, &zeros).unwrap();
    }
    w.finish().unwrap();
    let out = dir.path().join("data");
    let r = import_capped(&path, &out, 200 * 1024);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("zip bomb") && r.stderr.contains("nothing was imported"),
        "{}",
        r.stderr
    );
    assert!(!out.join("heart_rate_intraday").exists());
}

/// The bpm the test writes for a UTC second: a value the reader cannot guess.
fn bpm_at(t: i64) -> i64 {
    40 + (t / 30 * 7919) % 131
}

#[test]
fn months_of_dense_heart_rate_land_whole_sorted_and_once_also_on_a_second_import() {
    // 70 local days in Berlin (25 Jan - 4 Apr 2020), a sample every 30 s in Jackson's
    // layout; each local-day file starts at 23:00 or 22:00 UTC the day before, so the
    // files of 1 Feb, 1 Mar and 1 Apr hold rows of two months. One file has two records
    // swapped (rows out of order inside a file), one record has no confidence.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("archive");
    let g = root.join("Takeout/Fitbit/Global Export Data");
    fs::create_dir_all(&g).unwrap();
    fs::create_dir_all(root.join("Takeout/Fitbit/Your Profile")).unwrap();
    fs::write(
        root.join("Takeout/Fitbit/Your Profile/Profile.csv"),
        "id,timezone\nX,Europe/Berlin\n",
    )
    .unwrap();
    let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let mut expected: BTreeMap<i64, (i64, Option<i64>)> = BTreeMap::new();
    let first = chrono::NaiveDate::from_ymd_opt(2020, 1, 25).unwrap();
    for d in 0..70 {
        let day = first + chrono::Days::new(d);
        use chrono::TimeZone;
        let start = tz
            .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
            .unwrap()
            .timestamp();
        let end = tz
            .from_local_datetime(&day.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap())
            .unwrap()
            .timestamp();
        let mut stamps: Vec<i64> = (start..end).step_by(30).collect();
        if d == 20 {
            stamps.swap(100, 101);
        }
        let records: Vec<String> = stamps
            .iter()
            .map(|&t| {
                let at = chrono::DateTime::from_timestamp(t, 0).unwrap();
                let conf = if d == 40 && t == start {
                    None
                } else {
                    Some(t % 4)
                };
                expected.insert(t, (bpm_at(t), conf));
                let value = match conf {
                    Some(c) => format!(
                        "{{\n    \"bpm\" : {},\n    \"confidence\" : {c}\n  }}",
                        bpm_at(t)
                    ),
                    None => format!("{{\n    \"bpm\" : {}\n  }}", bpm_at(t)),
                };
                format!(
                    "{{\n  \"dateTime\" : \"{}\",\n  \"value\" : {value}\n}}",
                    at.format("%m/%d/%y %H:%M:%S")
                )
            })
            .collect();
        fs::write(
            g.join(format!("heart_rate-{day}.json")),
            format!("[{}]", records.join(",")),
        )
        .unwrap();
    }
    let out = dir.path().join("data");
    let run = || {
        fitpipe(&[
            "import",
            "takeout",
            s(&root),
            "--out",
            s(&out),
            "--format",
            "parquet",
        ])
    };
    for attempt in ["first", "second"] {
        let r = run();
        assert_eq!(r.code, 0, "{attempt}: {}", r.stderr);
        // Every row read back, by month file: sorted by time, each time once, the bpm and
        // confidence written for it.
        let mut got: BTreeMap<i64, (i64, Option<i64>)> = BTreeMap::new();
        let mut months = Vec::new();
        for f in fs::read_dir(out.join("heart_rate_intraday")).unwrap() {
            let p = f.unwrap().path();
            months.push(p.file_name().unwrap().to_string_lossy().into_owned());
            let mut last = i64::MIN;
            let r = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                fs::File::open(&p).unwrap(),
            )
            .unwrap()
            .build()
            .unwrap();
            for b in r {
                let b = b.unwrap();
                let col = |n: &str| b.column(b.schema().index_of(n).unwrap()).clone();
                let t = col("time_utc");
                let t = t
                    .as_any()
                    .downcast_ref::<arrow::array::TimestampMicrosecondArray>()
                    .unwrap();
                let bpm = col("bpm");
                let bpm = bpm
                    .as_any()
                    .downcast_ref::<arrow::array::Float64Array>()
                    .unwrap();
                let conf = col("confidence");
                let conf = conf
                    .as_any()
                    .downcast_ref::<arrow::array::Float64Array>()
                    .unwrap();
                for i in 0..b.num_rows() {
                    use arrow::array::Array;
                    let secs = t.value(i) / 1_000_000;
                    assert!(secs > last, "{attempt}: {p:?} not sorted at {secs}");
                    last = secs;
                    let c = conf.is_valid(i).then(|| conf.value(i) as i64);
                    assert!(got.insert(secs, (bpm.value(i) as i64, c)).is_none());
                }
            }
        }
        months.sort();
        assert_eq!(
            months,
            [
                "2020-01.parquet",
                "2020-02.parquet",
                "2020-03.parquet",
                "2020-04.parquet"
            ],
            "{attempt}"
        );
        assert_eq!(got.len(), expected.len(), "{attempt}");
        assert!(
            got == expected,
            "{attempt}: rows differ from what was written"
        );
    }
}
