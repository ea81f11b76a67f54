//! Fixture-driven tests: each file in tests/fixtures/fitbit is parsed, normalised and
//! compared with a readable table snapshot; then specific properties are checked.

mod common;

use std::fs;

use chrono::{NaiveDate, NaiveDateTime};
use common::{pretty, rows};

fn fixture(name: &str) -> Vec<u8> {
    fs::read(
        common::manifest_dir()
            .join("tests/fixtures/fitbit")
            .join(name),
    )
    .unwrap()
}

fn utc(s: &str) -> String {
    s.to_string()
}

#[test]
fn every_fixture_matches_its_snapshot() {
    let dir = common::manifest_dir().join("tests/fixtures/fitbit");
    let mut names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(names.len() >= 5);
    for name in names {
        let name = name.to_string_lossy().to_string();
        let r = rows(&fs::read(dir.join(&name)).unwrap(), "America/New_York");
        insta::assert_snapshot!(name.trim_end_matches(".json").to_string(), pretty(&r, 40));
    }
}

#[test]
fn tutorial_log_steps_strings_become_counts() {
    let r = rows(&fixture("tutorial-log-steps.json"), "Europe/London");
    let got: Vec<_> = r
        .daily_activity
        .iter()
        .map(|d| (d.date.to_string(), d.steps))
        .collect();
    assert_eq!(
        got,
        [
            ("2020-04-12".into(), Some(5007)),
            ("2020-04-13".into(), Some(11234)),
            ("2020-04-14".into(), Some(0))
        ]
    );
    assert!(r
        .daily_activity
        .iter()
        .all(|d| d.calories_kcal.is_none() && &*d.source == "fitbit-web-api"));
}

#[test]
fn stages_segments_tile_the_session_and_short_wakes_overlap() {
    for name in [
        "sleep-stages-and-nap.json",
        "sleep-across-spring-forward.json",
    ] {
        let r = rows(&fixture(name), "America/New_York");
        for s in &r.sleep_sessions {
            let start = s.start_utc.unwrap();
            let end = s.end_utc.unwrap();
            let long: Vec<_> = r
                .sleep_stages
                .iter()
                .filter(|x| x.log_id == s.log_id && !x.is_short)
                .collect();
            let total: i64 = long.iter().map(|x| x.seconds.unwrap()).sum();
            assert_eq!(
                total,
                (end - start).num_seconds(),
                "{name} log {}",
                s.log_id
            );
            assert!(
                (s.minutes_in_bed.unwrap() * 60 - total).abs() < 60,
                "timeInBed agrees"
            );
            // Consecutive: each segment starts where the previous ended.
            for w in long.windows(2) {
                assert_eq!(
                    w[0].start_utc + chrono::Duration::seconds(w[0].seconds.unwrap()),
                    w[1].start_utc
                );
            }
            for short in r
                .sleep_stages
                .iter()
                .filter(|x| x.log_id == s.log_id && x.is_short)
            {
                assert!(
                    short.start_utc >= start && short.start_utc < end,
                    "short wake inside the session"
                );
                assert_eq!(&*short.stage, "wake");
            }
        }
    }
}

#[test]
fn stages_and_classic_logs_fill_their_own_minutes() {
    let r = rows(&fixture("sleep-stages-and-nap.json"), "America/New_York");
    let main = r
        .sleep_sessions
        .iter()
        .find(|s| s.is_main_sleep == Some(true))
        .unwrap();
    assert_eq!(
        (
            main.kind.as_ref(),
            main.minutes_deep,
            main.minutes_light,
            main.minutes_rem,
            main.minutes_wake,
            main.minutes_restless
        ),
        ("stages", Some(60), Some(230), Some(30), Some(10), None)
    );
    assert_eq!(
        main.date_of_sleep,
        NaiveDate::from_ymd_opt(2020, 4, 13).unwrap()
    );
    let nap = r
        .sleep_sessions
        .iter()
        .find(|s| s.is_main_sleep == Some(false))
        .unwrap();
    assert_eq!(
        (
            nap.kind.as_ref(),
            nap.minutes_deep,
            nap.minutes_wake,
            nap.minutes_restless
        ),
        ("classic", None, Some(0), Some(5))
    );
    let stages: Vec<_> = r
        .sleep_stages
        .iter()
        .filter(|x| x.log_id == nap.log_id)
        .map(|x| x.stage.as_ref())
        .collect();
    assert_eq!(stages, ["asleep", "restless", "asleep"]);
    assert_eq!(r.sleep_stages.iter().filter(|x| x.is_short).count(), 2);
}

#[test]
fn fall_back_day_gets_correct_utc_times() {
    // 2021-11-07, New York: 01:00-01:59 happens twice (EDT -4 then EST -5).
    let r = rows(
        &fixture("heart-intraday-dst-fall-back.json"),
        "America/New_York",
    );
    let got: Vec<_> = r
        .heart_rate_intraday
        .iter()
        .map(|h| h.time_utc.format("%H:%M").to_string())
        .collect();
    assert_eq!(got, ["04:59", "05:00", "05:30", "05:59", "07:00"]);
    assert_eq!(
        r.heart_rate_intraday[4].time_local,
        NaiveDateTime::parse_from_str("2021-11-07 02:00", "%Y-%m-%d %H:%M").ok()
    );
    assert_eq!(r.daily_activity[0].resting_heart_rate_bpm, Some(58.0));
    let custom: Vec<_> = r
        .heart_rate_zones
        .iter()
        .filter(|z| z.is_custom == Some(true))
        .map(|z| z.zone.as_ref())
        .collect();
    assert_eq!(custom, ["Tempo"]);
    assert_eq!(r.heart_rate_zones.len(), 5);
}

#[test]
fn spring_forward_day_gets_correct_utc_times() {
    // 2021-03-14, New York: clocks jump from 02:00 EST to 03:00 EDT.
    let r = rows(
        &fixture("steps-intraday-dst-spring-forward.json"),
        "America/New_York",
    );
    let got: Vec<_> = r
        .activity_intraday
        .iter()
        .map(|h| (h.time_utc.to_rfc3339(), h.steps))
        .collect();
    assert_eq!(
        got,
        [
            (utc("2021-03-14T06:59:00+00:00"), Some(10)),
            (utc("2021-03-14T07:30:00+00:00"), Some(5)),
            (utc("2021-03-14T07:00:00+00:00"), Some(12)),
            (utc("2021-03-14T07:01:00+00:00"), Some(13)),
        ]
    );
}

#[test]
fn sleep_across_spring_forward_uses_the_start_offset_throughout() {
    let r = rows(
        &fixture("sleep-across-spring-forward.json"),
        "America/New_York",
    );
    let s = &r.sleep_sessions[0];
    assert_eq!(
        s.start_utc.unwrap().to_rfc3339(),
        "2021-03-14T05:00:00+00:00"
    );
    assert_eq!(s.end_utc.unwrap().to_rfc3339(), "2021-03-14T12:00:00+00:00");
}
