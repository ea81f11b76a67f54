//! Conformance with the Takeout samples in ../shared/reference/samples/takeout (read at
//! test time, skipped with a notice where absent).

mod common;

use std::sync::Arc;

use chrono_tz::Tz;
use fitpipe_transform::fitbit::{Context, Units};
use fitpipe_transform::takeout::{normalise, Family};
use fitpipe_transform::RowSet;

fn sample(name: &str) -> Option<Vec<u8>> {
    let d = common::manifest_dir().join("../../../shared/reference/samples/takeout");
    if !d.is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} is absent, and CI=true: the reference samples must be there",
            d.display()
        );
        eprintln!(
            "notice: {} is absent; takeout conformance skipped",
            d.display()
        );
        return None;
    }
    Some(std::fs::read(d.join(name)).unwrap())
}

fn rows(f: Family, bytes: &[u8]) -> RowSet {
    // The 2018 export is from a person in Melbourne (reference/takeout.md §A).
    let ctx = Context {
        user_id: Arc::from("T1"),
        tz: Some("Australia/Melbourne".parse::<Tz>().unwrap()),
        fetched_utc: None,
        units: Units::Metric,
    };
    normalise(f, bytes, &ctx).unwrap()
}

#[test]
fn heart_rate_is_utc_and_the_day_file_starts_at_local_midnight() {
    let Some(b) = sample("export2018_heart_rate-2017-07-10.first4.json") else {
        return;
    };
    let r = rows(Family::HeartRate, &b);
    assert_eq!(r.heart_rate_intraday.len(), 4);
    let h = &r.heart_rate_intraday[0];
    assert_eq!(h.time_utc.to_rfc3339(), "2017-07-09T14:00:04+00:00");
    assert_eq!(
        h.time_local.unwrap().to_string(),
        "2017-07-10 00:00:04",
        "the file named 2017-07-10 starts at local midnight"
    );
    assert_eq!(
        (h.bpm, h.confidence, &*h.source),
        (Some(61.0), Some(3.0), "takeout")
    );
}

#[test]
fn minute_families_steps_distance_altitude() {
    let Some(b) = sample("export2018_steps-2018-04-01.first4.json") else {
        return;
    };
    let r = rows(Family::Steps, &b);
    assert_eq!(
        r.activity_intraday
            .iter()
            .map(|a| a.steps.unwrap())
            .collect::<Vec<_>>(),
        [0, 14, 0, 23]
    );
    assert_eq!(
        r.activity_intraday[1].time_utc.to_rfc3339(),
        "2018-04-01T05:13:00+00:00"
    );
    let r = rows(
        Family::Distance,
        &sample("export2018_distance-2018-04-01.first4.json").unwrap(),
    );
    assert!(
        (r.activity_intraday[1].distance_km.unwrap() - 0.0102).abs() < 1e-12,
        "1020 cm"
    );
    let r = rows(
        Family::Altitude,
        &sample("export2018_altitude-2018-04-01.first3.json").unwrap(),
    );
    assert!((r.activity_intraday[0].elevation_m.unwrap() - 3.048).abs() < 1e-9);
}

#[test]
fn daily_families() {
    let Some(b) = sample("export2018_sedentary_minutes-2018-04-01.first3.json") else {
        return;
    };
    let r = rows(Family::Sedentary, &b);
    let got: Vec<_> = r
        .daily_activity
        .iter()
        .map(|d| (d.date.to_string(), d.minutes_sedentary.unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("2018-04-01".into(), 1282),
            ("2018-04-02".into(), 773),
            ("2018-04-03".into(), 662)
        ]
    );
    let r = rows(
        Family::TimeInZones,
        &sample("export2018_time_in_heart_rate_zones-2017-07-10.json").unwrap(),
    );
    let z: Vec<_> = r
        .heart_rate_zones
        .iter()
        .map(|z| (z.zone.to_string(), z.minutes.unwrap()))
        .collect();
    assert_eq!(z.len(), 4);
    assert!(
        z.contains(&("BELOW_DEFAULT_ZONE_1".into(), 1319))
            && z.contains(&("IN_DEFAULT_ZONE_1".into(), 77))
    );
    let r = rows(
        Family::RestingHeartRate,
        &sample("takeout2024_resting_heart_rate-2024-03-01.fixture.json").unwrap(),
    );
    assert_eq!(r.daily_activity.len(), 2);
    assert!(
        (r.daily_activity[0].resting_heart_rate_bpm.unwrap() - 54.01231098175049).abs() < 1e-12
    );
}

#[test]
fn resting_heart_rate_filler_rows_are_skipped() {
    let b = br#"[{"dateTime" : "03/01/24 00:00:00", "value" : {"date" : null, "value" : 0.0, "error" : 0.0}},
                 {"dateTime" : "03/02/24 00:00:00", "value" : {"date" : "03/02/24", "value" : 55.5, "error" : 6.7}}]"#;
    let r = rows(Family::RestingHeartRate, b);
    assert_eq!(r.daily_activity.len(), 1);
    assert_eq!(r.daily_activity[0].date.to_string(), "2024-03-02");
}

#[test]
fn sleep_files_are_local_logs_with_main_sleep() {
    let Some(b) = sample("export2018_sleep-2018-04-01.one-stages-record.json") else {
        return;
    };
    let r = rows(Family::Sleep, &b);
    let s = &r.sleep_sessions[0];
    assert_eq!(
        (&*s.log_id, &*s.kind, s.minutes_deep, s.minutes_in_bed),
        ("17804651983", "stages", Some(21), Some(194))
    );
    assert_eq!(s.start_local.unwrap().to_string(), "2018-04-07 05:38:00");
    assert_eq!(
        s.start_utc.unwrap().to_rfc3339(),
        "2018-04-06T19:38:00+00:00",
        "Melbourne, UTC+10 in April 2018"
    );
    let long: i64 = r
        .sleep_stages
        .iter()
        .filter(|x| !x.is_short)
        .map(|x| x.seconds.unwrap())
        .sum();
    assert_eq!(
        long,
        (s.end_utc.unwrap() - s.start_utc.unwrap()).num_seconds()
    );
}

#[test]
fn bad_values_name_their_path() {
    let err = fitpipe_transform::takeout::normalise(
        Family::Steps,
        br#"[{"dateTime" : "04/01/18 05:13:00", "value" : "lots"}]"#,
        &Context {
            user_id: Arc::from("T"),
            tz: Some(chrono_tz::UTC),
            fetched_utc: None,
            units: Units::Metric,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("[0].value"), "{err}");
}

#[test]
fn active_minutes_padding_at_the_end_is_dropped() {
    let b = br#"[{"dateTime" : "04/01/18 00:00:00", "value" : "1282"}, {"dateTime" : "04/02/18 00:00:00", "value" : "1440"},
                 {"dateTime" : "04/03/18 00:00:00", "value" : "700"}, {"dateTime" : "04/04/18 00:00:00", "value" : "1440"},
                 {"dateTime" : "04/05/18 00:00:00", "value" : "1440"}]"#;
    let r = rows(Family::Sedentary, b);
    let d: Vec<_> = r
        .daily_activity
        .iter()
        .map(|d| d.date.to_string())
        .collect();
    assert_eq!(
        d,
        ["2018-04-01", "2018-04-02", "2018-04-03"],
        "a real 1440 day inside the file stays"
    );
}

#[test]
fn google_csv_samples() {
    let Some(b) = sample("googledata2024_heart_rate_2024-09-26.head.csv") else {
        return;
    };
    let r = rows(Family::CsvHeartRate, &b);
    let text = String::from_utf8(b.clone()).unwrap();
    assert_eq!(r.heart_rate_intraday.len(), text.lines().count() - 1);
    assert!(r.heart_rate_intraday[0]
        .time_utc
        .to_rfc3339()
        .starts_with("2024-09-2"));
    for (f, name) in [
        (Family::CsvSteps, "googledata2024_steps_2024-09-01.head.csv"),
        (
            Family::CsvCalories,
            "googledata2024_calories_2024-09-01.head.csv",
        ),
        (
            Family::CsvDistance,
            "googledata2024_distance_2024-09-01.head.csv",
        ),
        (
            Family::CsvAltitude,
            "googledata2024_altitude_2017-08-01.head.csv",
        ),
        (
            Family::CsvFloors,
            "googledata2024_floors_2017-08-01.head.csv",
        ),
    ] {
        let b = sample(name).unwrap();
        let n = String::from_utf8(b.clone())
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count()
            - 1;
        assert_eq!(rows(f, &b).activity_intraday.len(), n, "{name}");
    }
}

#[test]
fn vo2max_hrv_spo2_and_weight() {
    let Some(b) = sample("export2018_run_vo2_max-2017-05-16.json") else {
        return;
    };
    let raw: serde_json::Value = serde_json::from_slice(&b).unwrap();
    let r = rows(Family::RunVo2, &b);
    assert_eq!(r.vo2max_daily.len(), raw.as_array().unwrap().len());
    let want = raw[0]["value"]["filteredRunVO2Max"].as_f64().unwrap();
    assert!((r.vo2max_daily[0].vo2max.unwrap() - want).abs() < 1e-9);

    let r = rows(
        Family::HrvCsv,
        &sample("takeout2024_hrv-daily-summary.from-comment.csv").unwrap(),
    );
    let h = &r.hrv_daily[0];
    assert_eq!(
        (
            h.date.to_string(),
            h.rmssd_ms,
            h.nrem_heart_rate_bpm,
            h.entropy
        ),
        ("2024-07-21".into(), Some(29.232), Some(49.623), Some(2.472))
    );

    let r = rows(
        Family::Spo2Csv,
        b"timestamp,average_value,lower_bound,upper_bound\n2024-07-21T00:00:00,95.5,92.0,99.1\n",
    );
    assert_eq!(
        (
            r.spo2_daily[0].avg_percent,
            r.spo2_daily[0].min_percent,
            r.spo2_daily[0].max_percent
        ),
        (Some(95.5), Some(92.0), Some(99.1))
    );

    // Weight in the account's unit: pounds here (Units::Us), converted to kg.
    let w = br#"[{"logId" : 1627862399000, "weight" : 125.8, "bmi" : 24.71, "date" : "08/01/21", "time" : "23:59:59", "source" : "API"}]"#;
    let ctx = Context {
        user_id: Arc::from("T1"),
        tz: Some(chrono_tz::UTC),
        fetched_utc: None,
        units: Units::Us,
    };
    let r = normalise(Family::Weight, w, &ctx).unwrap();
    let e = &r.weight_log[0];
    assert!(
        (e.weight_kg.unwrap() - 57.061).abs() < 0.001,
        "{:?}",
        e.weight_kg
    );
    assert_eq!(
        (&*e.log_id, e.date.to_string(), e.log_source.as_deref()),
        ("1627862399000", "2021-08-01".into(), Some("API"))
    );
}

// The archive's activity log (`exercise-700.json`): the real record read off by hand, its
// `startTime` taken as UTC (takeout.md: verified against heart rate), so in Melbourne
// (AEST, +10 on 1 May 2018) the run started at 19:46:41 local and lasted 1656 s.
#[test]
fn exercise_records_are_sessions_started_in_utc() {
    let Some(b) = sample("export2018_exercise-700.one-record.json") else {
        return;
    };
    assert_eq!(Family::of("exercise-700.json"), Some(Family::Exercise));
    let r = rows(Family::Exercise, &b);
    let s = &r.exercise_sessions;
    assert_eq!(s.len(), 1);
    let s = &s[0];
    assert_eq!(&*s.exercise_id, "13902076668");
    assert_eq!(&*s.source, "takeout");
    assert_eq!(
        s.start_utc.unwrap().to_rfc3339(),
        "2018-05-01T09:46:41+00:00"
    );
    assert_eq!(s.start_local.unwrap().to_string(), "2018-05-01 19:46:41");
    assert_eq!(s.end_local.unwrap().to_string(), "2018-05-01 20:14:17");
    assert_eq!(s.date.to_string(), "2018-05-01");
    assert_eq!(
        (
            s.exercise_type.as_deref(),
            s.display_name.as_deref(),
            s.active_seconds,
            s.calories_kcal,
            s.distance_km,
            s.steps,
            s.has_gps,
            s.log_type.as_deref(),
        ),
        (
            Some("running"),
            Some("Run"),
            Some(1656),
            Some(280.0),
            Some(3.1231),
            Some(3172),
            Some(false),
            Some("manual")
        )
    );
}
