//! The later tables of the contract (breathing_rate_daily, active_zone_minutes_daily,
//! skin_temperature_daily) from the real samples of every source that has them: the
//! Fitbit Web API, the Google Health API and Takeout. Expected values are read off the
//! sample files by hand.

mod common;

use std::path::PathBuf;

use fitpipe_transform::takeout::{self, Family};
use fitpipe_transform::{google, RowSet};

fn samples(sub: &str) -> Option<PathBuf> {
    let d = common::manifest_dir()
        .join("../../../shared/reference/samples")
        .join(sub);
    if d.is_dir() {
        return Some(d);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is absent, and CI=true: the reference samples must be there",
        d.display()
    );
    eprintln!("notice: {} is absent; sample test skipped", d.display());
    None
}

fn fitbit(name: &str) -> Option<RowSet> {
    let b = std::fs::read(samples("fitbit-web-api")?.join(name)).unwrap();
    Some(common::rows(&b, "UTC"))
}

fn google_rows(name: &str) -> Option<RowSet> {
    let b = std::fs::read(
        samples("google-health")?
            .join("live/ryanckelly-probe-2026-05-19")
            .join(name),
    )
    .unwrap();
    let doc = google::parse(&b).unwrap();
    Some(google::normalise(&doc, &google::Context::new("1234567890123456789")).unwrap())
}

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

#[test]
fn fitbit_breathing_rate_summary_and_intraday() {
    let Some(r) = fitbit("br-summary-interval.json") else {
        return;
    };
    let got: Vec<_> = r
        .breathing_rate_daily
        .iter()
        .map(|b| (b.date, b.breaths_per_minute))
        .collect();
    assert_eq!(
        got,
        vec![
            (day("2021-10-25"), Some(17.8)),
            (day("2021-10-26"), Some(17.9))
        ]
    );
    // The intraday answer: the full sleep's rate (the stages' -1 means no value).
    let r = fitbit("br-intraday-date.json").unwrap();
    assert_eq!(r.breathing_rate_daily.len(), 1);
    assert_eq!(r.breathing_rate_daily[0].breaths_per_minute, Some(17.8));
    // And the night by stage: REM's -1 is null, not a rate.
    let s = &r.breathing_rate_sleep;
    assert_eq!(s.len(), 1);
    assert_eq!(
        (
            s[0].date,
            s[0].full_sleep_breaths_per_minute,
            s[0].deep_sleep_breaths_per_minute,
            s[0].light_sleep_breaths_per_minute,
            s[0].rem_sleep_breaths_per_minute,
            s[0].time_utc,
        ),
        (
            day("2021-10-25"),
            Some(17.8),
            Some(16.8),
            Some(16.8),
            None,
            None
        )
    );
    // The summary answer has no stages.
    assert!(fitbit("br-summary-interval.json")
        .unwrap()
        .breathing_rate_sleep
        .is_empty());
}

#[test]
fn fitbit_active_zone_minutes_fill_left_out_zones_with_zero() {
    let Some(r) = fitbit("azm-range.json") else {
        return;
    };
    let got: Vec<_> = r
        .active_zone_minutes_daily
        .iter()
        .map(|a| {
            (
                a.date,
                a.active_zone_minutes,
                a.fat_burn_active_zone_minutes,
                a.cardio_active_zone_minutes,
                a.peak_active_zone_minutes,
            )
        })
        .collect();
    assert_eq!(got.len(), 4);
    assert_eq!(
        got[0],
        (day("2025-03-26"), Some(10), Some(8), Some(2), Some(0))
    );
    assert_eq!(
        got[1],
        (day("2025-03-27"), Some(8), Some(8), Some(0), Some(0))
    );
    // Every day: the total is the zones' sum.
    for a in &r.active_zone_minutes_daily {
        assert_eq!(
            a.active_zone_minutes,
            Some(
                a.fat_burn_active_zone_minutes.unwrap()
                    + a.cardio_active_zone_minutes.unwrap()
                    + a.peak_active_zone_minutes.unwrap()
            )
        );
    }
}

#[test]
fn google_respiratory_rate_skin_temperature_and_zone_minutes() {
    let Some(r) = google_rows("resp_rate_daily.sample_points.json") else {
        return;
    };
    let got: Vec<_> = r
        .breathing_rate_daily
        .iter()
        .map(|b| (b.date, b.breaths_per_minute))
        .collect();
    assert_eq!(
        got,
        vec![
            (day("2026-05-18"), Some(10.4)),
            (day("2026-05-16"), Some(10.4))
        ]
    );
    let r = google_rows("skin_temp_derivations.sample_points.json").unwrap();
    let t = &r.skin_temperature_daily[0];
    assert_eq!(t.date, day("2026-05-18"));
    assert_eq!(t.nightly_celsius, Some(31.84955357142858));
    assert_eq!(t.baseline_celsius, Some(32.80335648148147));
    assert!((t.relative_celsius.unwrap() - (31.84955357142858 - 32.80335648148147)).abs() < 1e-9);
    let r = google_rows("rollup_active_zone_minutes.sample_points.json").unwrap();
    let got: Vec<_> = r
        .active_zone_minutes_daily
        .iter()
        .map(|a| {
            (
                a.date,
                a.active_zone_minutes,
                a.fat_burn_active_zone_minutes,
                a.cardio_active_zone_minutes,
            )
        })
        .collect();
    // Minutes in the cardio zone earn two active zone minutes each.
    assert_eq!(
        got,
        vec![
            (day("2026-05-18"), Some(9), Some(9), Some(0)),
            (day("2026-05-17"), Some(93 + 28), Some(93), Some(28)),
        ]
    );
}

#[test]
fn takeout_zone_minutes_sum_per_local_day() {
    let Some(d) = samples("takeout") else {
        return;
    };
    let b =
        std::fs::read(d.join("googledata2024_active_zone_minutes_2024-09-01.head.csv")).unwrap();
    let ctx = common::ctx("UTC");
    let r = takeout::normalise(Family::CsvAzm, &b, &ctx).unwrap();
    // Read off the file: its rows on 2024-09-01 by zone.
    let text = String::from_utf8(b).unwrap();
    let (mut fat, mut cardio) = (0, 0);
    for l in text.lines().skip(1).filter(|l| l.starts_with("2024-09-01")) {
        let cells: Vec<&str> = l.split(',').collect();
        let m: i64 = cells[2].trim().parse().unwrap();
        match cells[1] {
            "fat burn" => fat += m,
            "cardio" => cardio += m,
            _ => {}
        }
    }
    let a = r
        .active_zone_minutes_daily
        .iter()
        .find(|a| a.date == day("2024-09-01"))
        .unwrap();
    assert_eq!(a.fat_burn_active_zone_minutes, Some(fat));
    assert_eq!(a.cardio_active_zone_minutes, Some(cardio));
    assert!(fat > 0 && cardio > 0);
}

#[test]
fn takeout_legacy_files_by_name() {
    assert_eq!(
        Family::of("Daily Respiratory Rate Summary - 2024-07-21.csv"),
        Some(Family::BrCsv)
    );
    assert_eq!(
        Family::of("Active Zone Minutes - 2024-05-01.csv"),
        Some(Family::AzmCsv)
    );
    assert_eq!(
        Family::of("active_zone_minutes_2024-09-01.csv"),
        Some(Family::CsvAzm)
    );
    let ctx = common::ctx("UTC");
    let r = takeout::normalise(
        Family::AzmCsv,
        b"date_time,heart_zone_id,total_minutes\n2024-05-01T09:07,FAT_BURN,1\n2024-05-01T09:08,CARDIO,2\n2024-05-02T10:00,PEAK,2\n",
        &ctx,
    )
    .unwrap();
    let got: Vec<_> = r
        .active_zone_minutes_daily
        .iter()
        .map(|a| (a.date, a.active_zone_minutes, a.peak_active_zone_minutes))
        .collect();
    assert_eq!(
        got,
        vec![
            (day("2024-05-01"), Some(3), Some(0)),
            (day("2024-05-02"), Some(2), Some(2))
        ]
    );
    let r = takeout::normalise(
        Family::BrCsv,
        b"\xef\xbb\xbftimestamp,daily_respiratory_rate\n2024-07-21T00:00:00,15.2\n",
        &ctx,
    )
    .unwrap();
    assert_eq!(r.breathing_rate_daily[0].breaths_per_minute, Some(15.2));
    assert_eq!(r.breathing_rate_daily[0].date, day("2024-07-21"));
}
