//! Real accounts are messy: empty ranges, accounts younger than the range, unworn days,
//! edited and deleted sleep, capped and empty pages, DST days, unticked scopes. The oracles
//! are the simulator's people (what the API holds) and invariants between tables, not the
//! code under test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use arrow::array::AsArray;
use arrow::datatypes::{Date32Type, TimestampMicrosecondType};
use chrono::{Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use fitpipe_sim::{Config, Person};

use super::google::{num, read, text};
use super::simenv::{SimEnv, START};
use super::{fitpipe, s};

fn env(cfg: Config, google: bool) -> SimEnv {
    let mut e = SimEnv::new(Config {
        auto_consent: true,
        ..cfg
    });
    e.google = google;
    e.authorise();
    e
}

fn day(b: &arrow::record_batch::RecordBatch, c: &str, i: usize) -> NaiveDate {
    let v = b
        .column_by_name(c)
        .unwrap()
        .as_primitive::<Date32Type>()
        .value(i);
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + Duration::days(v as i64)
}

fn micros(b: &arrow::record_batch::RecordBatch, c: &str, i: usize) -> i64 {
    b.column_by_name(c)
        .unwrap()
        .as_primitive::<TimestampMicrosecondType>()
        .value(i)
}

/// The person's last sync on their local wall clock: the simulator's now less the
/// person's sync lag, as the API sees it.
fn local_now(env: &SimEnv, p: &Person) -> NaiveDateTime {
    env.sim.now().with_timezone(&p.tz).naive_local() - Duration::minutes(p.sync_lag_minutes)
}

/// Sets the simulator's clock to `hh:00` local time of person `p` on `d`.
fn at_local(env: &SimEnv, p: &Person, d: NaiveDate, hh: u32) {
    let t =
        p.tz.from_local_datetime(&d.and_hms_opt(hh, 0, 0).unwrap())
            .earliest()
            .unwrap();
    env.sim.set_now(t.with_timezone(&Utc));
}

// Regression: `{"sleep": []}` (the answer for a range without logs) and the other empty
// answers failed with "unknown document shape (top-level keys: none)", exit 1.
#[test]
fn empty_answers_import_as_zero_rows_with_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    for (name, body) in [
        ("sleep-range.json", r#"{"sleep": []}"#),
        (
            "sleep-date.json",
            r#"{"sleep": [], "summary": {"totalMinutesAsleep": 0, "totalSleepRecords": 0, "totalTimeInBed": 0}}"#,
        ),
        ("heart.json", r#"{"activities-heart": []}"#),
        ("hrv.json", r#"{"hrv": []}"#),
        ("steps.json", r#"{"activities-steps": []}"#),
    ] {
        std::fs::write(inputs.join(name), body).unwrap();
    }
    let out = dir.path().join("out");
    let r = fitpipe(&[
        "import",
        "json",
        s(&inputs),
        "--timezone",
        "Europe/Dublin",
        "--out",
        s(&out),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for t in ["sleep_sessions", "heart_rate_zones", "daily_activity"] {
        let rows: usize = if out.join(t).exists() {
            read(&out, t).iter().map(|b| b.num_rows()).sum()
        } else {
            0
        };
        assert_eq!(rows, 0, "{t}");
    }
    // A body whose keys are truly unknown is still refused.
    std::fs::write(inputs.join("foods.json"), r#"{"foods": []}"#).unwrap();
    let r = fitpipe(&[
        "import",
        "json",
        s(&inputs),
        "--timezone",
        "Europe/Dublin",
        "--out",
        s(&out),
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("foods"), "{}", r.stderr);
    assert!(r.stderr.contains("\nhint: "), "{}", r.stderr);
}

#[test]
fn a_backfill_from_2020_of_an_account_opened_in_2023_has_no_rows_before_it() {
    let e = env(
        Config {
            default_user: 2,
            ..Config::default()
        },
        false,
    );
    let p = e.sim.people()[2].clone();
    assert!(p.member_since.to_string().starts_with("2023"));
    let r = e.run(&["ingest", "--from", "2020-04-01", "--quiet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut first = NaiveDate::MAX;
    let mut rows = 0;
    for b in read(&e.out(), "daily_activity") {
        for i in 0..b.num_rows() {
            first = first.min(day(&b, "date", i));
            rows += 1;
        }
    }
    assert_eq!(first, p.member_since, "no rows of zeros before the account");
    assert!(rows > 1000, "{rows}");
    for b in read(&e.out(), "sleep_sessions") {
        for i in 0..b.num_rows() {
            assert!(day(&b, "date_of_sleep", i) >= p.member_since);
        }
    }
    // The next day's run, whose overlap may hold nights without logs, succeeds too.
    e.sim.advance(Duration::days(1));
    let r = e.run(&["ingest", "--quiet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// Log ids of the sleep sessions of `d` and of all stages, for one user.
fn sleep_logs(out: &Path, d: NaiveDate) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let (mut day_logs, mut all) = (BTreeSet::new(), BTreeSet::new());
    for b in read(out, "sleep_sessions") {
        for i in 0..b.num_rows() {
            all.insert(text(&b, "log_id", i));
            if day(&b, "date_of_sleep", i) == d {
                day_logs.insert(text(&b, "log_id", i));
            }
        }
    }
    let mut stages = BTreeSet::new();
    for b in read(out, "sleep_stages") {
        for i in 0..b.num_rows() {
            stages.insert(text(&b, "log_id", i));
        }
    }
    (day_logs, all, stages)
}

/// `wide`: the second run fetches three weeks again (more than one window), not only the
/// overlap.
fn edited_and_deleted(google: bool, cfg: Config, wide: bool) {
    let e = env(cfg, google);
    let p = e.sim.people()[0].clone();
    let start: chrono::DateTime<Utc> = START.parse().unwrap();
    // A night the person edits in the app, with a nap they delete, within two years.
    let d = (1..900)
        .map(|i| start.date_naive() - Duration::days(i))
        .find(|d| {
            let s = p.sleeps(*d);
            p.sleep_edited_at(*d).is_some()
                && p.nap_deleted_at(*d).is_some()
                && s.iter().any(|x| x.is_main)
                && s.iter().any(|x| !x.is_main)
        })
        .expect("such a night");
    // 18:00: the night and the nap have synced, and are not yet edited or deleted.
    at_local(&e, &p, d, 18);
    let from = (d - Duration::days(5)).to_string();
    let args = ["ingest", "--resources", "profile,sleep", "--quiet"];
    let r = e.run(&[&args[..], &["--from", &from]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before: BTreeSet<String> = p.sleeps(d).iter().map(|s| s.log_id.to_string()).collect();
    assert_eq!(sleep_logs(&e.out(), d).0, before);
    // The next day: the night was edited (new log id) and the nap deleted.
    at_local(&e, &p, d + Duration::days(1), 12);
    let again = (d - Duration::days(20)).to_string();
    let r = if wide {
        e.run(&[&args[..], &["--from", &again]].concat())
    } else {
        e.run(&args)
    };
    assert_eq!(r.code, 0, "{}", r.stderr);
    let now: BTreeSet<String> = p
        .sleeps_as_of(d, local_now(&e, &p))
        .iter()
        .map(|s| s.log_id.to_string())
        .collect();
    assert_eq!(now.len(), 1, "the edited main sleep alone");
    assert!(now.is_disjoint(&before));
    let (day_logs, all, stages) = sleep_logs(&e.out(), d);
    assert_eq!(day_logs, now, "exactly the new logs of {d}");
    assert!(stages.is_subset(&all), "no stage of a removed log is left");
    assert!(now.is_subset(&stages), "the edited log has its stages");
    // Rebuilding from the raw answers gives the same logs.
    let r = e.run(&["rebuild"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(sleep_logs(&e.out(), d).0, now);
}

#[test]
fn an_edited_night_and_a_deleted_nap_leave_exactly_the_new_logs_fitbit() {
    edited_and_deleted(false, Config::default(), false);
}

#[test]
fn an_edited_night_and_a_deleted_nap_leave_exactly_the_new_logs_google() {
    edited_and_deleted(true, Config::default(), false);
}

// The same when the API refuses the sleep filter and the list is paged unfiltered: the
// fallback's answer covers every window from the first day, in the ingest and in rebuild.
#[test]
fn an_edited_night_and_a_deleted_nap_leave_exactly_the_new_logs_google_unfiltered() {
    edited_and_deleted(
        true,
        Config {
            google_reject_sleep_filter: true,
            ..Config::default()
        },
        true,
    );
}

#[test]
fn google_heart_rate_every_2_seconds_arrives_whole_through_capped_and_empty_pages() {
    let e = env(Config::default(), true);
    let p = e.sim.people()[0].clone();
    let start: chrono::DateTime<Utc> = START.parse().unwrap();
    let far = (start + Duration::days(30)).naive_utc();
    // Two worn days in a row, and one day the tracker lay in a drawer.
    let worn = (3..400)
        .map(|i| start.date_naive() - Duration::days(i))
        .find(|d| p.worn(*d) && p.worn(*d + Duration::days(1)))
        .unwrap();
    let unworn = (3..400)
        .map(|i| start.date_naive() - Duration::days(i))
        .find(|d| !p.worn(*d) && *d >= p.member_since)
        .unwrap();
    let samples: Vec<usize> = [worn, worn + Duration::days(1)]
        .iter()
        .map(|d| p.heart_samples_2s(&p.day(*d, far)).len())
        .collect();
    assert!(
        samples.iter().all(|n| (30_000..40_000).contains(n)),
        "{samples:?}"
    );
    let before = e.requests();
    let (a, b) = (worn.to_string(), (worn + Duration::days(1)).to_string());
    let r = e.run(&[
        "ingest",
        "--resources",
        "profile",
        "--intraday",
        "heart",
        "--from",
        &a,
        "--to",
        &b,
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: usize = read(&e.out(), "heart_rate_intraday")
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(
        rows,
        samples.iter().sum::<usize>(),
        "every sample of each day"
    );
    // Pages stop at 5,000 points: identity and settings, then the pages of each day.
    let pages: u64 = samples.iter().map(|n| n.div_ceil(5000) as u64).sum();
    assert_eq!(e.requests() - before, 2 + pages);
    // An unworn day: four empty six-hour scans, the last a bare `{}`; no row, no error.
    let before = e.requests();
    let u = unworn.to_string();
    let r = e.run(&[
        "ingest",
        "--resources",
        "profile",
        "--intraday",
        "heart",
        "--from",
        &u,
        "--to",
        &u,
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(e.requests() - before, 2 + 4);
    let rows_after: usize = read(&e.out(), "heart_rate_intraday")
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(rows_after, rows);
}

#[test]
fn google_days_without_data_are_absent_not_zero() {
    let e = env(Config::default(), true);
    let p = e.sim.people()[0].clone();
    let start: chrono::DateTime<Utc> = START.parse().unwrap();
    let unworn = (3..300)
        .map(|i| start.date_naive() - Duration::days(i))
        .find(|d| p.in_drawer(*d))
        .unwrap();
    let from = (unworn - Duration::days(3)).to_string();
    let to = (unworn + Duration::days(3)).to_string();
    let r = e.run(&["ingest", "--from", &from, "--to", &to, "--quiet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut steps = BTreeMap::new();
    for b in read(&e.out(), "daily_activity") {
        for i in 0..b.num_rows() {
            steps.insert(day(&b, "date", i), num(&b, "steps", i));
        }
    }
    for (d, s) in &steps {
        if p.worn(*d) {
            assert!(s.is_some_and(|x| x > 0.0), "{d}: {s:?}");
        } else {
            assert_eq!(*s, None, "{d}: a day without data is not 0 steps");
        }
    }
    assert!(steps.get(&unworn).is_some_and(|s| s.is_none()));
}

#[test]
fn an_unticked_fitbit_scope_skips_its_resources_and_says_how_to_grant_it() {
    let e = env(
        Config {
            fitbit_unticked_scopes: vec!["sleep".into()],
            ..Config::default()
        },
        false,
    );
    let r = e.run(&["ingest", "--from", "2026-10-01", "--quiet"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("`sleep`"), "{}", r.stderr);
    assert!(
        r.stderr.contains("hint:") && r.stderr.contains("fitpipe auth"),
        "{}",
        r.stderr
    );
    // Everything else was fetched.
    let rows: usize = read(&e.out(), "daily_activity")
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(rows, 35);
    assert!(!e.out().join("sleep_sessions").exists());
}

/// Rows per local day of a table against the points in the raw answers of one resource.
fn no_points_collapse(e: &SimEnv, table: &str, resource: &str, list_key: &str) {
    let mut points = 0;
    let mut dirs = vec![e.out().join("raw")];
    while let Some(d) = dirs.pop() {
        for f in std::fs::read_dir(&d).unwrap().flatten() {
            let path = f.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.parent().unwrap().ends_with(resource) {
                let v: serde_json::Value =
                    serde_json::from_slice(&fitpipe_ingest::raw::read(&path).unwrap()).unwrap();
                let list = if list_key == "dataPoints" {
                    &v["dataPoints"]
                } else {
                    &v[list_key]["dataset"]
                };
                points += list.as_array().map_or(0, |a| a.len());
            }
        }
    }
    let mut times = BTreeSet::new();
    for b in read(&e.out(), table) {
        for i in 0..b.num_rows() {
            times.insert(micros(&b, "time_utc", i));
        }
    }
    assert!(points > 0);
    assert_eq!(
        times.len(),
        points,
        "{table}: a source point collapsed onto another"
    );
}

#[test]
fn dst_days_keep_every_intraday_point_for_both_providers() {
    // New York: 2026-03-08 has 23 hours, 2026-11-01 has 25.
    for (a, b) in [("2026-03-07", "2026-03-09"), ("2026-10-31", "2026-11-02")] {
        let e = env(Config::default(), false);
        let r = e.run(&[
            "ingest",
            "--resources",
            "profile",
            "--intraday",
            "heart,steps",
            "--from",
            a,
            "--to",
            b,
            "--quiet",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        no_points_collapse(
            &e,
            "heart_rate_intraday",
            "intraday-heart-1min",
            "activities-heart-intraday",
        );
        let g = env(Config::default(), true);
        let r = g.run(&[
            "ingest",
            "--resources",
            "profile",
            "--intraday",
            "steps",
            "--from",
            a,
            "--to",
            b,
            "--quiet",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        no_points_collapse(&g, "activity_intraday", "intraday-steps", "dataPoints");
    }
}

/// Invariants between tables of one source: intraday steps sum to the day's steps, the
/// long stages tile their session and add up to its stage minutes, and every day between
/// the first and the last is present once or deliberately absent (a day without data).
fn invariants(e: &SimEnv, p: &Person, google: bool) {
    let out = e.out();
    let mut daily = BTreeMap::new();
    for b in read(&out, "daily_activity") {
        for i in 0..b.num_rows() {
            assert!(daily
                .insert(day(&b, "date", i), num(&b, "steps", i))
                .is_none());
        }
    }
    let mut intraday: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    for b in read(&out, "activity_intraday") {
        let local = b
            .column_by_name("time_local")
            .unwrap()
            .as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
        for i in 0..b.num_rows() {
            let t = chrono::DateTime::from_timestamp_micros(local.value(i))
                .unwrap()
                .naive_utc();
            *intraday.entry(t.date()).or_default() += num(&b, "steps", i).unwrap_or(0.0);
        }
    }
    let (first, last) = (*daily.keys().next().unwrap(), *daily.keys().last().unwrap());
    for d in first.iter_days().take_while(|d| *d <= last) {
        match daily.get(&d) {
            Some(Some(steps)) => {
                assert_eq!(
                    intraday.get(&d).copied().unwrap_or(0.0),
                    *steps,
                    "{d}: intraday steps"
                );
            }
            _ => assert!(google && !p.worn(d), "{d} is missing but has data"),
        }
    }
    stages_tile_their_sessions(&out);
}

/// The long stages of each session tile it exactly, and its deep minutes are the sum of
/// its deep stages.
fn stages_tile_their_sessions(out: &Path) {
    let mut sessions = BTreeMap::new();
    for b in read(out, "sleep_sessions") {
        for i in 0..b.num_rows() {
            let span = (micros(&b, "end_utc", i) - micros(&b, "start_utc", i)) / 1_000_000;
            let deep = num(&b, "minutes_deep", i);
            sessions.insert(text(&b, "log_id", i), (span, deep, 0i64, 0i64));
        }
    }
    assert!(!sessions.is_empty());
    for b in read(out, "sleep_stages") {
        let short = b.column_by_name("is_short").unwrap().as_boolean();
        for i in 0..b.num_rows() {
            if short.value(i) {
                continue;
            }
            let s = sessions
                .get_mut(&text(&b, "log_id", i))
                .expect("a stage of a session");
            let secs = num(&b, "seconds", i).unwrap() as i64;
            s.2 += secs;
            if text(&b, "stage", i) == "deep" {
                s.3 += secs;
            }
        }
    }
    for (id, (span, deep, tiled, deep_secs)) in sessions {
        assert_eq!(span, tiled, "{id}: stages tile the session");
        if let Some(m) = deep {
            assert_eq!(m as i64, deep_secs / 60, "{id}: deep minutes");
        }
    }
}

#[test]
fn tables_agree_with_each_other_for_both_providers() {
    for google in [false, true] {
        let e = env(Config::default(), google);
        let p = e.sim.people()[0].clone();
        let r = e.run(&[
            "ingest",
            "--from",
            "2026-10-20",
            "--to",
            "2026-11-02",
            "--intraday",
            "steps",
            "--quiet",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        invariants(&e, &p, google);
    }
}

#[test]
fn takeout_sleep_tiles_and_every_heart_sample_is_a_row_across_a_dst_change() {
    let Some(samples) = super::samples() else {
        return;
    };
    let sleep = samples.join("../takeout/export2018_sleep-2018-04-01.one-stages-record.json");
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("Takeout/Fitbit/Global Export Data");
    std::fs::create_dir_all(&g).unwrap();
    std::fs::copy(&sleep, g.join("sleep-2018-04-01.json")).unwrap();
    // Heart rate every 10 s over the night Berlin moves its clocks (2018-03-25 01:00 UTC),
    // stamped in UTC as the archive does.
    let mut records = Vec::new();
    let mut t = NaiveDate::from_ymd_opt(2018, 3, 24)
        .unwrap()
        .and_hms_opt(20, 0, 0)
        .unwrap();
    while t < NaiveDate::from_ymd_opt(2018, 3, 25)
        .unwrap()
        .and_hms_opt(6, 0, 0)
        .unwrap()
    {
        records.push(format!(
            r#"{{"dateTime" : "{}", "value" : {{"bpm" : 60, "confidence" : 2}}}}"#,
            t.format("%m/%d/%y %H:%M:%S")
        ));
        t += Duration::seconds(10);
    }
    std::fs::write(
        g.join("heart_rate-2018-03-25.json"),
        format!("[{}]", records.join(",")),
    )
    .unwrap();
    let out = dir.path().join("data");
    let r = fitpipe(&[
        "import",
        "takeout",
        s(dir.path()),
        "--out",
        s(&out),
        "--user-id",
        "T",
        "--timezone",
        "Europe/Berlin",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    stages_tile_their_sessions(&out);
    let mut times = BTreeSet::new();
    for b in read(&out, "heart_rate_intraday") {
        for i in 0..b.num_rows() {
            times.insert(micros(&b, "time_utc", i));
        }
    }
    assert_eq!(times.len(), records.len(), "every sample is its own row");
}
