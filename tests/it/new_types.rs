//! Data types added through the catalog (issue #25), checked end to end against oracles
//! that are not the client: the simulator's people model (which the client never reads),
//! the other API's answer for the same days, and another table of the same run.

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::{Array, BooleanArray, Date32Array, Float64Array, Int64Array};
use arrow::array::{StringArray, TimestampMicrosecondArray};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

use super::study::table_batches;
use super::{fitpipe, s};

fn ingest(out: &Path, provider: &str, from: &str, to: &str, resources: &str, intraday: &str) {
    let mut args = vec![
        "ingest",
        "--demo",
        "--provider",
        provider,
        "--from",
        from,
        "--to",
        to,
        "--resources",
        resources,
        "--quiet",
        "--out",
        s(out),
    ];
    if !intraday.is_empty() {
        args.extend(["--intraday", intraday]);
    }
    let r = fitpipe(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// The same days and data types from both simulated APIs: the folder they live in (kept
/// while the test runs), the Fitbit dataset and the Google one.
fn from_both(
    from: &str,
    to: &str,
    resources: &str,
    intraday: &str,
) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (fitbit, google) = (dir.path().join("fitbit"), dir.path().join("google"));
    for (out, provider) in [(&fitbit, "fitbit-web-api"), (&google, "google-health")] {
        ingest(out, provider, from, to, resources, intraday);
    }
    (dir, fitbit, google)
}

/// A Google Health ingest of `resources` over `from..=to`: the folder it lives in (kept
/// while the test runs) and the dataset.
fn from_google(from: &str, to: &str, resources: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("google");
    ingest(&out, "google-health", from, to, resources, "");
    (dir, out)
}

/// The days `from..=to` (ISO dates).
fn days_between(from: &str, to: &str) -> Vec<NaiveDate> {
    let (a, b): (NaiveDate, NaiveDate) = (from.parse().unwrap(), to.parse().unwrap());
    a.iter_days().take_while(|d| *d <= b).collect()
}

fn column<'a, T: 'static>(b: &'a arrow::record_batch::RecordBatch, name: &str) -> &'a T {
    b.column_by_name(name)
        .unwrap_or_else(|| panic!("no column `{name}`"))
        .as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("`{name}` has another type"))
}

fn instant(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap()
}

fn wall(us: i64) -> NaiveDateTime {
    instant(us).naive_utc()
}

fn day(d: &Date32Array, i: usize) -> NaiveDate {
    d.value_as_date(i).unwrap()
}

/// The demo's person (the simulator's first) and a time after every sync.
fn person() -> (fitpipe_sim::people::Person, NaiveDateTime) {
    let far = NaiveDate::from_ymd_opt(2027, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    (fitpipe_sim::people::people(1, 1).remove(0), far)
}

// Google sedentary periods land as the people model made them (local start, length), with
// the instants and wall clocks agreeing; and no minute inside a period is one the steps
// series of the same run shows walking in (two endpoints, two normalisers, one timeline).
#[test]
fn sedentary_periods_are_the_people_models_and_hold_no_walking() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    ingest(
        &out,
        "google-health",
        "2026-10-01",
        "2026-10-14",
        "profile,sedentary-periods",
        "steps",
    );
    let (p, far) = person();
    let mut want = Vec::new();
    for d in 1..=14 {
        let date = NaiveDate::from_ymd_opt(2026, 10, d).unwrap();
        for (first, minutes) in p.sedentary_periods(&p.day(date, far)) {
            let start = date.and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(first as i64);
            want.push((date, start, minutes as i64 * 60));
        }
    }
    assert!(want.len() > 10, "the model sits the person down: {want:?}");
    let mut got = Vec::new();
    let mut spans = Vec::new();
    for (_, b) in table_batches(&out, "sedentary_periods") {
        let (date, start_utc, start_local) = (
            column::<Date32Array>(&b, "date"),
            column::<TimestampMicrosecondArray>(&b, "start_utc"),
            column::<TimestampMicrosecondArray>(&b, "start_local"),
        );
        let (end_utc, end_local, secs) = (
            column::<TimestampMicrosecondArray>(&b, "end_utc"),
            column::<TimestampMicrosecondArray>(&b, "end_local"),
            column::<Int64Array>(&b, "duration_seconds"),
        );
        for i in 0..b.num_rows() {
            let (a, z) = (instant(start_utc.value(i)), instant(end_utc.value(i)));
            assert_eq!((z - a).num_seconds(), secs.value(i), "row {i}");
            // No DST change inside 07:00-23:00: the wall clocks are as far apart.
            assert_eq!(
                (wall(end_local.value(i)) - wall(start_local.value(i))).num_seconds(),
                secs.value(i)
            );
            assert_eq!(wall(start_local.value(i)).date(), day(date, i));
            got.push((day(date, i), wall(start_local.value(i)), secs.value(i)));
            spans.push((a, z));
        }
    }
    got.sort();
    assert_eq!(got, want);
    // The steps of the same run: every minute inside a period is below the sitting
    // threshold, and the periods do hold minutes the steps series has.
    let mut steps: BTreeMap<DateTime<Utc>, i64> = BTreeMap::new();
    for (_, b) in table_batches(&out, "activity_intraday") {
        let (t, n) = (
            column::<TimestampMicrosecondArray>(&b, "time_utc"),
            column::<Int64Array>(&b, "steps"),
        );
        for i in 0..b.num_rows() {
            if !n.is_null(i) {
                steps.insert(instant(t.value(i)), n.value(i));
            }
        }
    }
    let mut inside = 0;
    for (a, z) in spans {
        for (t, n) in steps.range(a..z) {
            inside += 1;
            assert!(
                *n < i64::from(fitpipe_sim::people::SEDENTARY_STEPS),
                "{n} steps at {t}, inside the period {a}..{z}"
            );
        }
    }
    assert!(
        inside > 0,
        "the periods line up with no steps minute at all"
    );
}

/// `date -> (vo2max, low, high, level, estimated)` of a dataset's `vo2max_daily`.
type Vo2Rows = BTreeMap<NaiveDate, (f64, Option<f64>, Option<f64>, Option<String>, Option<bool>)>;

fn vo2_rows(out: &Path) -> Vo2Rows {
    let mut rows = BTreeMap::new();
    let opt = |a: &Float64Array, i: usize| (!a.is_null(i)).then(|| a.value(i));
    for (_, b) in table_batches(out, "vo2max_daily") {
        let (date, v, low, high) = (
            column::<Date32Array>(&b, "date"),
            column::<Float64Array>(&b, "vo2max"),
            column::<Float64Array>(&b, "vo2max_low"),
            column::<Float64Array>(&b, "vo2max_high"),
        );
        let level = column::<StringArray>(&b, "cardio_fitness_level");
        let estimated = column::<BooleanArray>(&b, "estimated");
        for i in 0..b.num_rows() {
            rows.insert(
                day(date, i),
                (
                    v.value(i),
                    opt(low, i),
                    opt(high, i),
                    (!level.is_null(i)).then(|| level.value(i).to_string()),
                    (!estimated.is_null(i)).then(|| estimated.value(i)),
                ),
            );
        }
    }
    rows
}

// The cardio fitness score from the two APIs for the same days: Fitbit's string (a range
// "42-46", or one number after a run with GPS) and Google's number with `estimated` give
// the same VO2 max, the range exactly where Google calls the value an estimate, and both
// are the people model's.
#[test]
fn vo2max_agrees_across_the_two_apis_and_the_model() {
    let (_dir, fitbit, google) = from_both("2026-10-01", "2026-10-28", "profile,vo2max", "");
    let (f, g) = (vo2_rows(&fitbit), vo2_rows(&google));
    let (p, far) = person();
    let model: BTreeMap<NaiveDate, _> = (1..=28)
        .map(|d| NaiveDate::from_ymd_opt(2026, 10, d).unwrap())
        .filter_map(|d| p.vo2max(d, far).map(|v| (d, v)))
        .collect();
    assert!(model.values().any(|v| v.measured) && model.values().any(|v| !v.measured));
    assert_eq!(
        f.keys().collect::<Vec<_>>(),
        model.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        g.keys().collect::<Vec<_>>(),
        model.keys().collect::<Vec<_>>()
    );
    for (d, m) in &model {
        let (fv, low, high, flevel, fest) = &f[d];
        let (gv, glow, ghigh, level, estimated) = &g[d];
        assert_eq!((*fv, *gv), (m.value, m.value), "{d}");
        if m.measured {
            assert_eq!((*low, *high), (Some(m.value), Some(m.value)), "{d}");
            assert_eq!(*estimated, None, "{d}: `estimated` false is omitted");
        } else {
            // "42-46": the middle is the value, the ends two either side.
            assert_eq!(
                (*low, *high),
                (Some(m.value - 2.0), Some(m.value + 2.0)),
                "{d}"
            );
            assert_eq!(*estimated, Some(true), "{d}");
        }
        assert_eq!(
            (*glow, *ghigh, flevel, fest),
            (None, None, &None, &None),
            "{d}"
        );
        let level = level.as_deref().unwrap_or_else(|| panic!("{d}: no level"));
        assert!(
            ["poor", "fair", "average", "good", "very_good", "excellent"].contains(&level),
            "{d}: {level}"
        );
    }
}

/// `time_utc -> value` of one column of a sample table.
fn samples_of(out: &Path, table: &str, col: &str) -> BTreeMap<DateTime<Utc>, f64> {
    let mut rows = BTreeMap::new();
    for (_, b) in table_batches(out, table) {
        let t = column::<TimestampMicrosecondArray>(&b, "time_utc");
        let v = column::<Float64Array>(&b, col);
        for i in 0..b.num_rows() {
            rows.insert(instant(t.value(i)), v.value(i));
        }
    }
    rows
}

/// Times split into nights where two samples lie more than three hours apart.
fn nights(times: impl Iterator<Item = DateTime<Utc>>) -> Vec<Vec<DateTime<Utc>>> {
    let mut out: Vec<Vec<DateTime<Utc>>> = Vec::new();
    for t in times {
        match out.last_mut() {
            Some(n) if t - *n.last().unwrap() <= Duration::hours(3) => n.push(t),
            _ => out.push(vec![t]),
        }
    }
    out
}

// SpO2 and HRV from the Fitbit Web API (`/all.json` samples of the main sleep, filed under
// the day it ended, local wall clocks) and from the Google Health API (physical times)
// for the same 14 days: the same instants; HRV the same values; Fitbit's SpO2 the 5-minute
// exponential moving average of Google's readings, computed here by hand; each Fitbit
// nightly figure the summary of that night's samples.
#[test]
fn spo2_and_hrv_samples_agree_across_the_two_apis() {
    let (_dir, fitbit, google) =
        from_both("2026-10-01", "2026-10-14", "profile,spo2,hrv", "spo2,hrv");
    let (fs, gs) = (
        samples_of(&fitbit, "spo2_intraday", "percent"),
        samples_of(&google, "spo2_intraday", "percent"),
    );
    // Whole nights in both (the first began before the range at Google, the last ends
    // after it at Fitbit).
    let both: Vec<Vec<DateTime<Utc>>> = nights(fs.keys().copied())
        .into_iter()
        .filter(|n| n.iter().all(|t| gs.contains_key(t)))
        .filter(|n| {
            nights(gs.keys().copied())
                .iter()
                .any(|g| g.first() == n.first() && g.len() == n.len())
        })
        .collect();
    assert!(both.len() >= 10, "{} nights in common", both.len());
    assert!(
        gs.values().any(|v| *v == 50.0),
        "no outlier reading over 14 nights"
    );
    for night in &both {
        let mut ema: Option<f64> = None;
        for t in night {
            let e = ema.map_or(gs[t], |e| e + (gs[t] - e) / 3.0);
            ema = Some(e);
            assert!((fs[t] - e).abs() <= 0.05 + 1e-9, "{t}: {} vs {e}", fs[t]);
        }
    }
    let fh = samples_of(&fitbit, "hrv_intraday", "rmssd_ms");
    let gh = samples_of(&google, "hrv_intraday", "rmssd_ms");
    let common: Vec<_> = fh.keys().filter(|t| gh.contains_key(t)).collect();
    assert!(common.len() > 500, "{} HRV samples in common", common.len());
    for t in &common {
        assert_eq!(fh[t], gh[t], "{t}");
    }
    // Fitbit's nightly HRV is the mean of its night's samples, filed under the local day
    // the night ended (New York).
    let tz: chrono_tz::Tz = "America/New_York".parse().unwrap();
    let mut daily = BTreeMap::new();
    for (_, b) in table_batches(&fitbit, "hrv_daily") {
        let (d, v) = (
            column::<Date32Array>(&b, "date"),
            column::<Float64Array>(&b, "rmssd_ms"),
        );
        for i in 0..b.num_rows() {
            daily.insert(day(d, i), v.value(i));
        }
    }
    let hrv_nights = nights(fh.keys().copied());
    assert_eq!(daily.len(), hrv_nights.len());
    for n in hrv_nights {
        let end = n.last().unwrap().with_timezone(&tz).date_naive();
        let mean = n.iter().map(|t| fh[t]).sum::<f64>() / n.len() as f64;
        assert!((daily[&end] - mean).abs() < 0.001, "{end}");
    }
}

/// `(time_utc, elevation_m)` of `activity_intraday` rows that have one, and
/// `date -> elevation_m` of `daily_activity`.
fn elevation_of(out: &Path) -> (BTreeMap<DateTime<Utc>, f64>, BTreeMap<NaiveDate, f64>) {
    let mut minutes = BTreeMap::new();
    for (_, b) in table_batches(out, "activity_intraday") {
        let t = column::<TimestampMicrosecondArray>(&b, "time_utc");
        let v = column::<Float64Array>(&b, "elevation_m");
        for i in (0..b.num_rows()).filter(|i| !v.is_null(*i)) {
            minutes.insert(instant(t.value(i)), v.value(i));
        }
    }
    let mut days = BTreeMap::new();
    for (_, b) in table_batches(out, "daily_activity") {
        let d = column::<Date32Array>(&b, "date");
        let v = column::<Float64Array>(&b, "elevation_m");
        for i in (0..b.num_rows()).filter(|i| !v.is_null(*i)) {
            days.insert(day(d, i), v.value(i));
        }
    }
    (minutes, days)
}

// Elevation from the Fitbit Web API (`activities/elevation`, metres, every minute) and
// from the Google Health API (`altitude`: the gain in millimetres of the minutes with a
// climb, and its daily rollup) for the same week: the same metres day by day and minute
// by minute, Google's missing minutes being Fitbit's zeros, and Google's daily rollup the
// sum of its own minutes.
#[test]
fn elevation_agrees_across_the_two_apis() {
    let (_dir, fitbit, google) =
        from_both("2026-10-05", "2026-10-11", "profile,elevation", "elevation");
    let (fm, fd) = elevation_of(&fitbit);
    let (gm, gd) = elevation_of(&google);
    assert_eq!(fd.len(), 7, "{fd:?}");
    assert_eq!(fd.keys().collect::<Vec<_>>(), gd.keys().collect::<Vec<_>>());
    for (d, f) in &fd {
        // Fitbit rounds to centimetres; Google counts millimetres.
        assert!((f - gd[d]).abs() < 0.006, "{d}: {f} vs {}", gd[d]);
    }
    assert!(gd.values().sum::<f64>() > 10.0, "a week without a climb");
    assert!(gm.len() > 20, "{} minutes with a climb", gm.len());
    for (t, g) in &gm {
        let f = fm.get(t).unwrap_or_else(|| panic!("{t}: not at Fitbit"));
        assert!((f - g).abs() < 0.006, "{t}: {f} vs {g}");
    }
    for (t, f) in &fm {
        if !gm.contains_key(t) {
            assert_eq!(*f, 0.0, "{t}");
        }
    }
    let tz: chrono_tz::Tz = "America/New_York".parse().unwrap();
    for (d, total) in &gd {
        let sum: f64 = gm
            .iter()
            .filter(|(t, _)| t.with_timezone(&tz).date_naive() == *d)
            .map(|(_, v)| v)
            .sum();
        assert!((sum - total).abs() < 1e-6, "{d}: {sum} vs {total}");
    }
}

// Run VO2 max (Google `run-vo2-max`): one measurement as each run with GPS ends, checked
// against two other tables of the same run: the GPS sessions' end times in
// `exercise_sessions`, and that day's measured (not estimated) score in `vo2max_daily`.
#[test]
fn run_vo2_max_comes_from_each_gps_run_and_is_that_days_score() {
    let (_dir, out) = from_google(
        "2026-10-01",
        "2026-10-28",
        "profile,run-vo2-max,vo2max,exercise",
    );
    let mut runs = BTreeMap::new();
    for (_, b) in table_batches(&out, "run_vo2max") {
        let (t, d, v) = (
            column::<TimestampMicrosecondArray>(&b, "time_utc"),
            column::<Date32Array>(&b, "date"),
            column::<Float64Array>(&b, "vo2max"),
        );
        for i in 0..b.num_rows() {
            runs.insert(instant(t.value(i)), (day(d, i), v.value(i)));
        }
    }
    let mut gps_ends: Vec<_> = sessions_of(&out)
        .into_iter()
        .filter(|s| s.gps)
        .map(|s| s.end)
        .collect();
    gps_ends.sort();
    assert!(runs.len() >= 2, "{} runs in four weeks", runs.len());
    assert_eq!(runs.keys().cloned().collect::<Vec<_>>(), gps_ends);
    let daily = vo2_rows(&out);
    for (t, (d, v)) in &runs {
        let (score, _, _, _, estimated) = &daily[d];
        assert_eq!((*v, *estimated), (*score, None), "{t}");
        assert_ne!(v.fract(), 0.0, "{t}: a measured score has a decimal");
    }
}

/// `time_utc -> activity_level` of `activity_intraday` rows that have one.
fn levels_of(out: &Path) -> BTreeMap<DateTime<Utc>, i64> {
    let mut rows = BTreeMap::new();
    for (_, b) in table_batches(out, "activity_intraday") {
        let t = column::<TimestampMicrosecondArray>(&b, "time_utc");
        let v = column::<Int64Array>(&b, "activity_level");
        for i in (0..b.num_rows()).filter(|i| !v.is_null(*i)) {
            rows.insert(instant(t.value(i)), v.value(i));
        }
    }
    rows
}

// Google's activity level per minute (`SEDENTARY` to `VERY_ACTIVE`) is the level Fitbit's
// calories series gives the same minute (0 to 3): two endpoints, two normalisers, one day.
#[test]
fn activity_level_agrees_with_fitbits_calorie_levels() {
    let dir = tempfile::tempdir().unwrap();
    let (fitbit, google) = (dir.path().join("fitbit"), dir.path().join("google"));
    ingest(
        &fitbit,
        "fitbit-web-api",
        "2026-10-05",
        "2026-10-07",
        "profile",
        "calories",
    );
    ingest(
        &google,
        "google-health",
        "2026-10-05",
        "2026-10-07",
        "profile",
        "activity-level",
    );
    let (f, g) = (levels_of(&fitbit), levels_of(&google));
    let common: Vec<_> = g.keys().filter(|t| f.contains_key(t)).collect();
    assert!(common.len() > 2000, "{} minutes in common", common.len());
    let mut seen = [0; 4];
    for t in common {
        assert_eq!(f[t], g[t], "{t}");
        seen[g[t] as usize] += 1;
    }
    assert!(seen.iter().all(|n| *n > 0), "every level occurs: {seen:?}");
}

/// `(date, zone) -> (minutes, calories_kcal, (min_bpm, max_bpm))` of `heart_rate_zones`.
type Zones = BTreeMap<(NaiveDate, String), (Option<i64>, Option<f64>, Option<(f64, f64)>)>;

fn zones_of(out: &Path) -> Zones {
    let mut rows = BTreeMap::new();
    for (_, b) in table_batches(out, "heart_rate_zones") {
        let (d, z) = (
            column::<Date32Array>(&b, "date"),
            column::<StringArray>(&b, "zone"),
        );
        let (m, k) = (
            column::<Int64Array>(&b, "minutes"),
            column::<Float64Array>(&b, "calories_kcal"),
        );
        let (lo, hi) = (
            column::<Float64Array>(&b, "min_bpm"),
            column::<Float64Array>(&b, "max_bpm"),
        );
        for i in 0..b.num_rows() {
            rows.insert(
                (day(d, i), z.value(i).to_string()),
                (
                    (!m.is_null(i)).then(|| m.value(i)),
                    (!k.is_null(i)).then(|| k.value(i)),
                    (lo.is_valid(i) && hi.is_valid(i)).then(|| (lo.value(i), hi.value(i))),
                ),
            );
        }
    }
    rows
}

// Time, energy and bounds per heart-rate zone from Google's two rollups
// (`time-in-heart-rate-zone`, `calories-in-heart-rate-zone`) and its daily thresholds
// (`daily-heart-rate-zones`), merged into one row per zone, against Fitbit's heart-rate
// zones for the same days: Fat Burn, Cardio and Peak are Google's MODERATE, VIGOROUS and
// PEAK, minute for minute, kcal for kcal and bpm for bpm; a zone the rollups leave out
// has no minutes.
#[test]
fn heart_rate_zones_agree_across_the_two_apis() {
    let dir = tempfile::tempdir().unwrap();
    let (fitbit, google) = (dir.path().join("fitbit"), dir.path().join("google"));
    ingest(
        &fitbit,
        "fitbit-web-api",
        "2026-10-05",
        "2026-10-11",
        "profile,heart",
        "",
    );
    ingest(
        &google,
        "google-health",
        "2026-10-05",
        "2026-10-11",
        "profile,time-in-heart-rate-zone,calories-in-heart-rate-zone,daily-heart-rate-zones",
        "",
    );
    let (f, g) = (zones_of(&fitbit), zones_of(&google));
    let (mut compared, mut bounded) = (0, 0);
    for ((d, zone), (minutes, kcal, bounds)) in &f {
        let name = match zone.as_str() {
            "Fat Burn" => "MODERATE",
            "Cardio" => "VIGOROUS",
            "Peak" => "PEAK",
            _ => continue,
        };
        let Some((gm, gk, gb)) = g.get(&(*d, name.to_string())) else {
            assert_eq!(*minutes, Some(0), "{d} {zone}: missing at Google");
            continue;
        };
        if let Some(gb) = gb {
            assert_eq!(Some(*gb), *bounds, "{d} {zone}: bounds");
            bounded += 1;
        }
        match (gm, gk) {
            (Some(gm), Some(gk)) => {
                assert_eq!(Some(*gm), *minutes, "{d} {zone}");
                let fk = kcal.unwrap();
                assert!((gk - fk).abs() < 1e-3, "{d} {zone}: {gk} vs {fk}");
                assert!(gb.is_some(), "{d} {zone}: minutes without bounds");
                compared += 1;
            }
            // Only the thresholds: the rollups left the zone out.
            (None, None) => assert_eq!(*minutes, Some(0), "{d} {zone}: missing at Google"),
            other => panic!("{d} {zone}: minutes and energy apart: {other:?}"),
        }
    }
    assert!(
        compared >= 7 && bounded >= 15,
        "{compared} zone-days compared, {bounded} bounded"
    );
    assert!(g
        .keys()
        .all(|(_, z)| ["MODERATE", "VIGOROUS", "PEAK"].contains(&z.as_str())));
}

// Body temperature and blood glucose readings land as the people model made them: the
// wall clock and value of every reading over four weeks, none extra, the enums in lower
// case, mmol/L from mg/dL by glucose's molar mass (computed here).
#[test]
fn temperature_and_glucose_readings_are_the_people_models() {
    let (_dir, out) = from_google(
        "2026-10-01",
        "2026-10-28",
        "profile,core-body-temperature,blood-glucose",
    );
    let (p, far) = person();
    let days = days_between("2026-10-01", "2026-10-28").into_iter();
    let mut want: Vec<(NaiveDateTime, f64)> =
        days.clone().filter_map(|d| p.temperature(d, far)).collect();
    let mut got = Vec::new();
    for (_, b) in table_batches(&out, "body_temperature_log") {
        let (t, c, at) = (
            column::<TimestampMicrosecondArray>(&b, "time_local"),
            column::<Float64Array>(&b, "temperature_celsius"),
            column::<StringArray>(&b, "measurement_location"),
        );
        for i in 0..b.num_rows() {
            assert_eq!(at.value(i), "mouth");
            got.push((wall(t.value(i)), c.value(i)));
        }
    }
    got.sort_by_key(|x| x.0);
    want.sort_by_key(|x| x.0);
    assert!(want.len() >= 7, "{} readings", want.len());
    assert_eq!(got, want);

    let mut want: Vec<(NaiveDateTime, f64, String)> = days
        .flat_map(|d| p.glucose(d, far))
        .map(|(t, v, timing)| (t, v, timing.to_ascii_lowercase()))
        .collect();
    let mut got = Vec::new();
    for (_, b) in table_batches(&out, "blood_glucose_log") {
        let (t, mg, mmol) = (
            column::<TimestampMicrosecondArray>(&b, "time_local"),
            column::<Float64Array>(&b, "glucose_mg_dl"),
            column::<Float64Array>(&b, "glucose_mmol_l"),
        );
        let (timing, specimen) = (
            column::<StringArray>(&b, "measurement_timing"),
            column::<StringArray>(&b, "specimen"),
        );
        for i in 0..b.num_rows() {
            assert!((mmol.value(i) - mg.value(i) / 18.016).abs() < 1e-9);
            assert_eq!(specimen.value(i), "capillary_blood");
            got.push((wall(t.value(i)), mg.value(i), timing.value(i).to_string()));
        }
    }
    got.sort_by_key(|x| x.0);
    want.sort_by_key(|x| x.0);
    assert_eq!(want.len(), 56);
    assert_eq!(got, want);
}

// VO2 max estimates (`vo2-max`) against the Fitbit Web API's cardio fitness score for the
// same days (the other API, its own endpoint and normaliser): one estimate a scored day,
// the same value, made by a run exactly where Fitbit gives one number rather than a
// range; and heights against the people model, entry for entry.
#[test]
fn vo2_max_estimates_and_heights() {
    let dir = tempfile::tempdir().unwrap();
    let (google, fitbit) = (dir.path().join("google"), dir.path().join("fitbit"));
    ingest(
        &google,
        "google-health",
        "2026-09-25",
        "2026-10-28",
        "profile,vo2-max,height",
        "",
    );
    ingest(
        &fitbit,
        "fitbit-web-api",
        "2026-09-25",
        "2026-10-28",
        "profile,vo2max",
        "",
    );
    let fitbit = vo2_rows(&fitbit);
    let mut got = BTreeMap::new();
    for (_, b) in table_batches(&google, "vo2max_log") {
        let (t, date, v, method) = (
            column::<TimestampMicrosecondArray>(&b, "time_local"),
            column::<Date32Array>(&b, "date"),
            column::<Float64Array>(&b, "vo2max"),
            column::<StringArray>(&b, "measurement_method"),
        );
        for i in 0..b.num_rows() {
            let d = day(date, i);
            assert_eq!(wall(t.value(i)), d.and_hms_opt(4, 0, 0).unwrap());
            got.insert(d, (v.value(i), method.value(i).to_string()));
        }
    }
    assert!(fitbit.len() >= 20, "{} scored days", fitbit.len());
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        fitbit.keys().collect::<Vec<_>>()
    );
    let mut methods = std::collections::BTreeSet::new();
    for (d, (v, method)) in &got {
        let (fv, low, high, _, _) = &fitbit[d];
        assert_eq!(v, fv, "{d}");
        // Fitbit's one number (low = high) is a measured score: a run made it.
        let by_run = low == high;
        assert_eq!(
            method,
            if by_run {
                "fitbit_run"
            } else {
                "prediction_non_exercise"
            },
            "{d}"
        );
        methods.insert(method.clone());
    }
    assert_eq!(methods.len(), 2, "both methods occur");

    let (p, far) = person();
    let want: Vec<(NaiveDateTime, f64)> = (0..34)
        .map(|i| NaiveDate::from_ymd_opt(2026, 9, 25).unwrap() + Duration::days(i))
        .filter_map(|d| p.height_entry(d, far))
        .map(|(t, mm)| (t, mm as f64 / 10.0))
        .collect();
    let mut got = Vec::new();
    for (_, b) in table_batches(&google, "height_log") {
        let (t, cm) = (
            column::<TimestampMicrosecondArray>(&b, "time_local"),
            column::<Float64Array>(&b, "height_cm"),
        );
        for i in 0..b.num_rows() {
            got.push((wall(t.value(i)), cm.value(i)));
        }
    }
    got.sort_by_key(|x| x.0);
    assert_eq!(want.len(), 2, "the 1st and the 15th of October");
    assert_eq!(got, want);
}

/// `date -> (time_local, [full, deep, light, rem])` of a dataset's `breathing_rate_sleep`.
type BreathingRows = BTreeMap<NaiveDate, (Option<NaiveDateTime>, [Option<f64>; 4])>;

fn breathing_of(out: &Path) -> BreathingRows {
    let mut rows = BTreeMap::new();
    for (_, b) in table_batches(out, "breathing_rate_sleep") {
        let date = column::<Date32Array>(&b, "date");
        let t = column::<TimestampMicrosecondArray>(&b, "time_local");
        let stages = ["full", "deep", "light", "rem"]
            .map(|s| column::<Float64Array>(&b, &format!("{s}_sleep_breaths_per_minute")));
        for i in 0..b.num_rows() {
            let v = stages.map(|a| (!a.is_null(i)).then(|| a.value(i)));
            let at = (!t.is_null(i)).then(|| wall(t.value(i)));
            assert!(rows.insert(day(date, i), (at, v)).is_none());
        }
    }
    rows
}

// Breathing rate per sleep from the two APIs for four weeks: Google's unfiltered summary
// list (the type refuses every filter) and Fitbit's per-stage answer agree stage for
// stage, night for night, with the nights and the missing REM figures of the people
// model; Google files each at the sleep's end; and the whole sleep's figure is the
// night's breathing rate that Google's other endpoint (`daily-respiratory-rate`) gives.
#[test]
fn breathing_rate_per_sleep_agrees_across_the_two_apis() {
    let (_dir, fitbit, google) = from_both(
        "2026-09-28",
        "2026-10-25",
        "profile,breathing-rate,respiratory-rate-sleep-summary",
        "",
    );
    let (f, g) = (breathing_of(&fitbit), breathing_of(&google));
    let (p, far) = person();
    let model: BTreeMap<NaiveDate, _> = (0..28)
        .map(|i| NaiveDate::from_ymd_opt(2026, 9, 28).unwrap() + Duration::days(i))
        .filter_map(|d| p.breathing_by_stage(d, far).map(|n| (d, n)))
        .collect();
    assert!(model.len() >= 20, "{} nights", model.len());
    assert!(
        model.values().any(|n| n.rem.is_none()),
        "a night without REM"
    );
    // Google's list is the whole history: the window's nights are the model's.
    let (first, last) = (
        NaiveDate::from_ymd_opt(2026, 9, 28).unwrap(),
        NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(),
    );
    let window: BTreeMap<_, _> = g.range(first..=last).collect();
    assert_eq!(
        window.keys().copied().collect::<Vec<_>>(),
        model.keys().collect::<Vec<_>>()
    );
    assert!(
        g.range(..first).count() > 365 && g.range(last..).count() > 20,
        "{} nights: the whole history",
        g.len()
    );
    assert_eq!(
        f.keys().collect::<Vec<_>>(),
        model.keys().collect::<Vec<_>>()
    );
    let mut daily = BTreeMap::new();
    for (_, b) in table_batches(&google, "breathing_rate_daily") {
        let (date, v) = (
            column::<Date32Array>(&b, "date"),
            column::<Float64Array>(&b, "breaths_per_minute"),
        );
        for i in 0..b.num_rows() {
            daily.insert(day(date, i), v.value(i));
        }
    }
    for (d, n) in &model {
        let want = [Some(n.full), Some(n.deep), Some(n.light), n.rem];
        assert_eq!(f[d], (None, want), "{d}");
        assert_eq!(g[d], (Some(n.end), want), "{d}");
        assert_eq!(daily.get(d), Some(&n.full), "{d}");
    }
}

// Water and food logs (`hydration-log`, `nutrition-log`: sessions' 25-a-page lists) are the
// people model's, log for log: each drink's time, amount and unit; each meal's time,
// type, food, servings and figures (the food's per serving times the servings, computed
// here); a nutrient row per nutrient, whose protein is the log's `protein_g`.
#[test]
fn water_and_food_logs_are_the_people_models() {
    let (_dir, out) = from_google(
        "2026-10-12",
        "2026-10-25",
        "profile,hydration-log,nutrition-log",
    );
    let (p, far) = person();
    let days = days_between("2026-10-12", "2026-10-25");
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;

    let mut want: Vec<(NaiveDateTime, f64, String)> = days
        .iter()
        .flat_map(|d| p.drinks(*d, far))
        .map(|(t, ml, unit)| (t, ml, unit.to_ascii_lowercase()))
        .collect();
    let mut got = Vec::new();
    for (_, b) in table_batches(&out, "hydration_log") {
        let (t, ml, unit) = (
            column::<TimestampMicrosecondArray>(&b, "start_local"),
            column::<Float64Array>(&b, "amount_ml"),
            column::<StringArray>(&b, "entered_unit"),
        );
        for i in 0..b.num_rows() {
            got.push((wall(t.value(i)), ml.value(i), unit.value(i).to_string()));
        }
    }
    got.sort_by_key(|x| x.0);
    want.sort_by_key(|x| x.0);
    assert!(want.len() >= 14 * 3, "{} drinks", want.len());
    assert_eq!(got, want);

    let meals: BTreeMap<NaiveDateTime, _> = days
        .iter()
        .flat_map(|d| p.meals(*d, far))
        .map(|m| (m.at, m))
        .collect();
    assert!(meals.len() > 14 * 3, "{} meals", meals.len());
    let mut protein_of = BTreeMap::new();
    let mut seen = 0;
    for (_, b) in table_batches(&out, "nutrition_log") {
        let (id, t, meal, food) = (
            column::<StringArray>(&b, "log_id"),
            column::<TimestampMicrosecondArray>(&b, "start_local"),
            column::<StringArray>(&b, "meal_type"),
            column::<StringArray>(&b, "food_name"),
        );
        let f = |c: &str| column::<Float64Array>(&b, c);
        let (servings, kcal, carbs, fat, protein) = (
            f("serving_amount"),
            f("calories_kcal"),
            f("carbohydrate_g"),
            f("fat_g"),
            f("protein_g"),
        );
        for i in 0..b.num_rows() {
            let at = wall(t.value(i));
            let m = meals
                .get(&at)
                .unwrap_or_else(|| panic!("{at}: no such meal"));
            let k = m.servings;
            assert_eq!(meal.value(i), m.meal_type.to_ascii_lowercase(), "{at}");
            assert_eq!(food.value(i), m.food.name, "{at}");
            assert_eq!(servings.value(i), k, "{at}");
            assert!(close(kcal.value(i), m.food.kcal * k), "{at}");
            assert!(close(carbs.value(i), m.food.grams[0] * k), "{at}");
            assert!(close(fat.value(i), m.food.grams[1] * k), "{at}");
            assert!(close(protein.value(i), m.food.grams[2] * k), "{at}");
            protein_of.insert(id.value(i).to_string(), protein.value(i));
            seen += 1;
        }
    }
    assert_eq!(seen, meals.len());
    let mut nutrients = BTreeMap::<String, Vec<String>>::new();
    for (_, b) in table_batches(&out, "nutrition_nutrients") {
        let (id, n, g) = (
            column::<StringArray>(&b, "log_id"),
            column::<StringArray>(&b, "nutrient"),
            column::<Float64Array>(&b, "grams"),
        );
        for i in 0..b.num_rows() {
            let log = id.value(i).to_string();
            if n.value(i) == "protein" {
                assert_eq!(Some(&g.value(i)), protein_of.get(&log), "{log}");
            }
            nutrients
                .entry(log)
                .or_default()
                .push(n.value(i).to_string());
        }
    }
    assert_eq!(nutrients.len(), meals.len(), "every log has its nutrients");
    for (log, mut n) in nutrients {
        n.sort();
        assert_eq!(n, ["dietary_fiber", "protein", "sodium"], "{log}");
    }
}

// ECG readings and irregular-rhythm notifications (list only, filtered on the physical
// start) against the people model, and the two tables of each against each other: the R
// peaks counted in a reading's waveform samples give its average heart rate (30 seconds,
// so twice the peaks, within one beat), every reading has 30 s x its frequency samples,
// each sample's instant is the start plus index / frequency and its millivolts raw /
// scale; a notification spans its windows and counts the positive ones.
#[test]
fn ecg_and_irregular_rhythm_tables_agree_with_each_other_and_the_model() {
    let (_dir, out) = from_google(
        "2026-10-01",
        "2026-10-28",
        "profile,electrocardiogram,irregular-rhythm-notification",
    );
    let (p, far) = person();
    let days = days_between("2026-10-01", "2026-10-28");
    let model: BTreeMap<NaiveDateTime, _> = days
        .iter()
        .flat_map(|d| p.ecg_readings(*d, far))
        .map(|e| (e.start, e))
        .collect();
    assert_eq!(model.len(), 8, "four Sundays and four Wednesdays");
    // reading id -> (start instant, average bpm, frequency, scale)
    let mut readings = BTreeMap::new();
    for (_, b) in table_batches(&out, "ecg_readings") {
        let (id, start, t, result) = (
            column::<StringArray>(&b, "reading_id"),
            column::<TimestampMicrosecondArray>(&b, "start_utc"),
            column::<TimestampMicrosecondArray>(&b, "start_local"),
            column::<StringArray>(&b, "result_classification"),
        );
        let i64s = |c: &str| column::<Int64Array>(&b, c);
        let (bpm, hz, scale, n) = (
            i64s("avg_heart_rate_bpm"),
            i64s("sampling_frequency_hz"),
            i64s("millivolts_scaling_factor"),
            i64s("sample_count"),
        );
        for i in 0..b.num_rows() {
            let m = &model[&wall(t.value(i))];
            assert_eq!(bpm.value(i), m.bpm);
            assert_eq!(result.value(i), m.result.to_ascii_lowercase());
            assert_eq!(n.value(i), 30 * hz.value(i));
            readings.insert(
                id.value(i).to_string(),
                (
                    instant(start.value(i)),
                    bpm.value(i),
                    hz.value(i),
                    scale.value(i),
                ),
            );
        }
    }
    assert_eq!(readings.len(), model.len());
    // reading id -> (samples, peaks)
    let mut seen = BTreeMap::<String, (i64, i64)>::new();
    for (_, b) in table_batches(&out, "ecg_waveform") {
        let (id, idx, t, raw, mv) = (
            column::<StringArray>(&b, "reading_id"),
            column::<Int64Array>(&b, "sample_index"),
            column::<TimestampMicrosecondArray>(&b, "time_utc"),
            column::<Int64Array>(&b, "raw"),
            column::<Float64Array>(&b, "millivolts"),
        );
        for i in 0..b.num_rows() {
            let (start, _, hz, scale) = readings[id.value(i)];
            let k = idx.value(i);
            assert_eq!(
                instant(t.value(i)),
                start + Duration::microseconds(k * 1_000_000 / hz)
            );
            assert!((mv.value(i) - raw.value(i) as f64 / scale as f64).abs() < 1e-12);
            let e = seen.entry(id.value(i).to_string()).or_default();
            e.0 += 1;
            e.1 += i64::from(mv.value(i) > 0.5);
        }
    }
    for (id, (_, bpm, hz, _)) in &readings {
        let (n, peaks) = seen[id];
        assert_eq!(n, 30 * hz, "{id}");
        assert!(
            (2 * peaks - bpm).abs() <= 1,
            "{id}: {peaks} peaks, {bpm} bpm"
        );
    }

    let windows: Vec<_> = days
        .iter()
        .flat_map(|d| p.irregular_rhythm(*d, far))
        .collect();
    assert_eq!(windows.len(), 3, "the night of the 13th");
    let mut got = Vec::new();
    for (_, b) in table_batches(&out, "irregular_rhythm_windows") {
        let (s, e, pos, beats, avg) = (
            column::<TimestampMicrosecondArray>(&b, "start_local"),
            column::<TimestampMicrosecondArray>(&b, "end_local"),
            column::<BooleanArray>(&b, "positive"),
            column::<Int64Array>(&b, "beats"),
            column::<Float64Array>(&b, "avg_heart_rate_bpm"),
        );
        for i in 0..b.num_rows() {
            got.push((
                wall(s.value(i)),
                wall(e.value(i)),
                pos.value(i),
                beats.value(i),
                avg.value(i),
            ));
        }
    }
    got.sort_by_key(|w| w.0);
    let want: Vec<_> = windows
        .iter()
        .map(|(s, e, pos, beats)| {
            let avg = beats.iter().sum::<i64>() as f64 / beats.len() as f64;
            (*s, *e, *pos, beats.len() as i64, avg)
        })
        .collect();
    assert_eq!(got, want);
    let mut n = 0;
    for (_, b) in table_batches(&out, "irregular_rhythm_notifications") {
        let (s, e, w, pos) = (
            column::<TimestampMicrosecondArray>(&b, "start_local"),
            column::<TimestampMicrosecondArray>(&b, "end_local"),
            column::<Int64Array>(&b, "windows"),
            column::<Int64Array>(&b, "positive_windows"),
        );
        for i in 0..b.num_rows() {
            assert_eq!((wall(s.value(i)), wall(e.value(i))), (want[0].0, want[2].1));
            assert_eq!((w.value(i), pos.value(i)), (3, 2));
            n += 1;
        }
    }
    assert_eq!(n, 1);
}

// Basal and active energy per minute (Google `basal-energy-burned`, list only, and
// `active-energy-burned`) against the Fitbit Web API's calories and steps of the same
// minutes: the two add up to Fitbit's calories, minute for minute; at rest (a minute
// without a step) all the energy is basal and Google has no active row; a minute with
// steps has one; and the basal rate is the same all day.
#[test]
fn basal_and_active_energy_add_up_to_fitbits_calories() {
    let dir = tempfile::tempdir().unwrap();
    let (fitbit, google) = (dir.path().join("fitbit"), dir.path().join("google"));
    ingest(
        &fitbit,
        "fitbit-web-api",
        "2026-10-05",
        "2026-10-07",
        "profile",
        "calories,steps",
    );
    ingest(
        &google,
        "google-health",
        "2026-10-05",
        "2026-10-07",
        "profile",
        "basal-energy-burned,active-energy-burned",
    );
    let (kcal, steps) = (
        samples_of(&fitbit, "activity_intraday", "calories_kcal"),
        samples_of_int(&fitbit, "activity_intraday", "steps"),
    );
    let mut basal = BTreeMap::new();
    for (_, b) in table_batches(&google, "basal_energy") {
        let (t, local, secs, v) = (
            column::<TimestampMicrosecondArray>(&b, "time_utc"),
            column::<TimestampMicrosecondArray>(&b, "time_local"),
            column::<Int64Array>(&b, "interval_seconds"),
            column::<Float64Array>(&b, "calories_kcal"),
        );
        for i in 0..b.num_rows() {
            assert_eq!(secs.value(i), 60);
            basal.insert(
                instant(t.value(i)),
                (wall(local.value(i)).date(), v.value(i)),
            );
        }
    }
    assert!(basal.len() > 2000, "{} minutes", basal.len());
    let active = samples_of(&google, "active_energy", "calories_kcal");
    assert!(active.len() > 300, "{} active minutes", active.len());
    assert!(
        active.keys().all(|t| basal.contains_key(t)),
        "active without basal"
    );
    let mut per_day = BTreeMap::<NaiveDate, Vec<f64>>::new();
    let (mut at_rest, mut moving) = (0, 0);
    for (t, (d, b)) in &basal {
        per_day.entry(*d).or_default().push(*b);
        let (Some(k), Some(s)) = (kcal.get(t), steps.get(t)) else {
            continue;
        };
        assert!(*k + 1e-9 >= *b, "{t}: {k} kcal, {b} basal");
        let a = active.get(t).copied();
        assert!(
            (b + a.unwrap_or(0.0) - k).abs() < 0.01,
            "{t}: {b} basal + {a:?} active against {k} kcal"
        );
        if *s == 0 {
            assert!((k - b).abs() < 0.01, "{t}: at rest {k} kcal, {b} basal");
            assert_eq!(a, None, "{t}: active energy at rest");
            at_rest += 1;
        } else {
            assert!(*k > b + 0.01, "{t}: {s} steps add nothing to {b}");
            assert!(
                a.is_some_and(|a| a > 0.0),
                "{t}: {s} steps, no active energy"
            );
            moving += 1;
        }
    }
    assert!(
        at_rest > 500 && moving > 300,
        "{at_rest} at rest, {moving} moving"
    );
    for (d, v) in per_day {
        assert!(v.iter().all(|x| (x - v[0]).abs() < 1e-9), "{d}");
    }
}

/// `time_utc -> value` of an integer column of a sample table.
fn samples_of_int(out: &Path, table: &str, col: &str) -> BTreeMap<DateTime<Utc>, i64> {
    let mut rows = BTreeMap::new();
    for (_, b) in table_batches(out, table) {
        let t = column::<TimestampMicrosecondArray>(&b, "time_utc");
        let v = column::<Int64Array>(&b, col);
        for i in (0..b.num_rows()).filter(|i| !v.is_null(*i)) {
            rows.insert(instant(t.value(i)), v.value(i));
        }
    }
    rows
}

/// `(exercise_id, time_utc) -> (time_local, lat, lon, altitude, km, bpm)` of a dataset's
/// `exercise_route`.
type Route = BTreeMap<(String, DateTime<Utc>), (NaiveDateTime, f64, f64, f64, f64, i64)>;

fn route_of(out: &Path) -> Route {
    let mut rows = Route::new();
    for (_, b) in table_batches(out, "exercise_route") {
        let (id, t, local) = (
            column::<StringArray>(&b, "exercise_id"),
            column::<TimestampMicrosecondArray>(&b, "time_utc"),
            column::<TimestampMicrosecondArray>(&b, "time_local"),
        );
        let f = |c: &str| column::<Float64Array>(&b, c);
        let (lat, lon, alt, km) = (
            f("latitude"),
            f("longitude"),
            f("altitude_m"),
            f("distance_km"),
        );
        let bpm = column::<Int64Array>(&b, "heart_rate_bpm");
        for i in 0..b.num_rows() {
            rows.insert(
                (id.value(i).to_string(), instant(t.value(i))),
                (
                    wall(local.value(i)),
                    lat.value(i),
                    lon.value(i),
                    alt.value(i),
                    km.value(i),
                    bpm.value(i),
                ),
            );
        }
    }
    rows
}

/// Great-circle distance, m (haversine, mean Earth radius).
fn haversine(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let (dla, dlo) = ((b.0 - a.0).to_radians(), (b.1 - a.1).to_radians());
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

// GPS routes (`--resources exercise-route`: the exercise list, then a TCX file per
// session recorded with GPS) from both APIs for six weeks, ending weeks before today: the
// same routes, none after the window (Fitbit's list runs on to today), the same points from Google's
// UTC TCX and Fitbit's local-offset TCX; every route belongs to a GPS session of the same
// run's exercise_sessions (linked by its start) and only those have one; its points lie
// inside the session, its cumulative distance ends at the session's distance and agrees
// with the great-circle length of its path (computed here), and each point is the people
// model's.
#[test]
fn exercise_routes_agree_across_the_two_apis_and_with_their_sessions() {
    let (_dir, fitbit, google) =
        from_both("2026-09-14", "2026-10-25", "profile,exercise-route", "");
    let (f, g) = (route_of(&fitbit), route_of(&google));
    // Rebuilt from the raw answers alone (the list pages and the TCX files), the routes
    // are the same, linked to the same sessions.
    std::fs::remove_dir_all(google.join("exercise_route")).unwrap();
    let r = fitpipe(&["rebuild", "--quiet", "--out", s(&google)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(route_of(&google), g, "rebuilt from raw/");
    let runs: std::collections::BTreeSet<&String> = g.keys().map(|k| &k.0).collect();
    assert!(
        runs.len() >= 2 && g.len() > 500,
        "{} runs, {} points",
        runs.len(),
        g.len()
    );
    // Fitbit's list runs from the first day to today, but only the routes of the window
    // are asked for (no TCX request for a later run, no page past the window).
    assert_eq!(
        f.keys().collect::<Vec<_>>(),
        g.keys().collect::<Vec<_>>(),
        "the same exercises and instants"
    );
    for (k, a) in &f {
        let b = &g[k];
        assert_eq!(a.0, b.0, "{k:?}: wall clocks");
        assert!(
            (a.1 - b.1).abs() < 1e-9 && (a.2 - b.2).abs() < 1e-9,
            "{k:?}"
        );
        assert_eq!((a.4, a.5), (b.4, b.5), "{k:?}");
    }
    let (p, far) = person();
    for out in [&fitbit, &google] {
        let route = route_of(out);
        // id -> (start, end, km, has_gps)
        let sessions: BTreeMap<String, _> = sessions_of(out)
            .into_iter()
            .map(|s| (s.id, (s.start, s.end, s.km.unwrap_or(f64::NAN), s.gps)))
            .collect();
        let ids: std::collections::BTreeSet<&String> = route.keys().map(|k| &k.0).collect();
        // The GPS sessions of the window (Fitbit's list page also holds later ones).
        let last: NaiveDate = "2026-10-25".parse().unwrap();
        let gps: Vec<&String> = sessions
            .iter()
            .filter(|s| s.1 .3 && s.1 .0.with_timezone(&p.tz).date_naive() <= last)
            .map(|s| s.0)
            .collect();
        assert_eq!(
            ids.into_iter().collect::<Vec<_>>(),
            gps,
            "{}",
            out.display()
        );
        for id in gps {
            let (start, end, km, _) = sessions[id];
            let pts: Vec<_> = route
                .range((id.clone(), start)..=(id.clone(), end))
                .collect();
            assert_eq!(
                pts.len(),
                route.keys().filter(|k| &k.0 == id).count(),
                "{id}: every point inside its session"
            );
            let last = pts.last().unwrap().1;
            assert!(
                (last.4 - km).abs() < 0.0006,
                "{id}: route ends at {} km, session {km}",
                last.4
            );
            let path: f64 = pts
                .windows(2)
                .map(|w| haversine((w[0].1 .1, w[0].1 .2), (w[1].1 .1, w[1].1 .2)))
                .sum();
            assert!(
                (path / (last.4 * 1000.0) - 1.0).abs() < 0.01,
                "{id}: the path is {path} m, the distance {} km",
                last.4
            );
            // The people model's track of that workout.
            let w = p
                .workout_by_id(id.parse().unwrap(), far)
                .unwrap_or_else(|| panic!("{id}: no such workout"));
            let want = p.track(&w, far);
            assert_eq!(want.len(), pts.len(), "{id}");
            for (m, (_, r)) in want.iter().zip(&pts) {
                assert_eq!(m.at, r.0, "{id}");
                assert!((m.latitude - r.1).abs() < 1e-7 && (m.longitude - r.2).abs() < 1e-7);
                assert!((m.distance / 1000.0 - r.4).abs() < 1e-5);
                assert_eq!(m.bpm, r.5);
            }
        }
    }
}

// The food catalogue (`food`, `food-measurement-unit`: no time, so listed whole) against
// the food logs of the same run: every serving names a unit of the catalogue by its id and
// name; every log names a food of the catalogue, by name too, and a log's energy,
// carbohydrate, fat and protein are its food's per serving times its servings.
#[test]
fn every_food_log_names_a_catalogue_food_and_scales_its_serving() {
    let (_dir, out) = from_google(
        "2026-10-12",
        "2026-10-25",
        "profile,food,food-measurement-unit,nutrition-log",
    );
    // unit_id -> its name for one
    let mut units = BTreeMap::new();
    for (_, b) in table_batches(&out, "food_units") {
        let (id, one, many) = (
            column::<StringArray>(&b, "unit_id"),
            column::<StringArray>(&b, "display_name"),
            column::<StringArray>(&b, "plural_display_name"),
        );
        for i in 0..b.num_rows() {
            assert!(many.value(i).starts_with(one.value(i)));
            units.insert(id.value(i).to_string(), one.value(i).to_string());
        }
    }
    // Every serving, of the catalogue and of the logs, names a unit of `food_units`.
    for table in ["foods", "nutrition_log"] {
        for (_, b) in table_batches(&out, table) {
            let (id, name) = (
                column::<StringArray>(&b, "serving_unit_id"),
                column::<StringArray>(&b, "serving_unit"),
            );
            for i in 0..b.num_rows() {
                assert_eq!(
                    units.get(id.value(i)),
                    Some(&name.value(i).to_string()),
                    "{table}"
                );
            }
        }
    }
    assert_eq!(units.len(), 4, "{units:?}");
    // food_id -> (name, kcal, carbohydrate, fat, protein) per serving
    let mut foods = BTreeMap::new();
    for (_, b) in table_batches(&out, "foods") {
        let (id, name, amount) = (
            column::<StringArray>(&b, "food_id"),
            column::<StringArray>(&b, "food_name"),
            column::<Float64Array>(&b, "serving_amount"),
        );
        let f = |c: &str| column::<Float64Array>(&b, c);
        let (kcal, carbs, fat, protein) = (
            f("calories_kcal"),
            f("carbohydrate_g"),
            f("fat_g"),
            f("protein_g"),
        );
        for i in 0..b.num_rows() {
            assert_eq!(amount.value(i), 1.0);
            foods.insert(
                id.value(i).to_string(),
                (
                    name.value(i).to_string(),
                    [
                        kcal.value(i),
                        carbs.value(i),
                        fat.value(i),
                        protein.value(i),
                    ],
                ),
            );
        }
    }
    assert_eq!(foods.len(), fitpipe_sim::people::FOODS.len());
    let mut logs = 0;
    for (_, b) in table_batches(&out, "nutrition_log") {
        let (id, name, servings) = (
            column::<StringArray>(&b, "food_id"),
            column::<StringArray>(&b, "food_name"),
            column::<Float64Array>(&b, "serving_amount"),
        );
        let f = |c: &str| column::<Float64Array>(&b, c);
        let got = [
            f("calories_kcal"),
            f("carbohydrate_g"),
            f("fat_g"),
            f("protein_g"),
        ];
        for i in 0..b.num_rows() {
            let (fname, per) = foods
                .get(id.value(i))
                .unwrap_or_else(|| panic!("`{}` is not in the catalogue", id.value(i)));
            assert_eq!(name.value(i), fname);
            for (k, a) in got.iter().enumerate() {
                assert!(
                    (a.value(i) - per[k] * servings.value(i)).abs() < 1e-9,
                    "{fname}"
                );
            }
            logs += 1;
        }
    }
    assert!(logs > 40, "{logs} logs");
}

// The night clocks fall back (America/New_York, 2026-11-01: 02:00 EDT becomes 01:00 EST):
// the Fitbit Web API gives SpO2 and HRV samples as wall clocks alone, and they must land
// on the instants Google gives for the same samples, the offset switching mid-night.
#[test]
fn spo2_and_hrv_samples_across_the_fall_back_night_keep_their_instants() {
    let (_dir, fitbit, google) = from_both("2026-10-31", "2026-11-01", "profile", "spo2,hrv");
    for (table, col) in [("spo2_intraday", "percent"), ("hrv_intraday", "rmssd_ms")] {
        let (f, g) = (
            samples_of(&fitbit, table, col),
            samples_of(&google, table, col),
        );
        // The night that ended on 1 November, in both.
        let night = |m: &BTreeMap<DateTime<Utc>, f64>| -> Vec<DateTime<Utc>> {
            let (a, b) = (
                "2026-11-01T02:00:00Z".parse::<DateTime<Utc>>().unwrap(),
                "2026-11-01T14:00:00Z".parse::<DateTime<Utc>>().unwrap(),
            );
            m.range(a..b).map(|(t, _)| *t).collect()
        };
        let (fn_, gn) = (night(&f), night(&g));
        // The night spans the change (06:00Z, 02:00 EDT = 01:00 EST): its samples before it
        // are EDT wall clocks at Fitbit, those after it EST.
        let change = "2026-11-01T06:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert!(
            gn.iter().any(|t| *t < change) && gn.iter().filter(|t| **t >= change).count() > 10,
            "{table}: the night does not span the change: {:?} .. {:?}",
            gn.first(),
            gn.last()
        );
        assert_eq!(
            fn_, gn,
            "{table}: Fitbit's wall clocks placed on other instants"
        );
    }
}

/// A row of `exercise_sessions`.
struct Session {
    id: String,
    kind: Option<String>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    km: Option<f64>,
    gps: bool,
}

/// The rows of `exercise_sessions`, by start.
fn sessions_of(out: &Path) -> Vec<Session> {
    let mut rows = Vec::new();
    for (_, b) in table_batches(out, "exercise_sessions") {
        let (id, kind) = (
            column::<StringArray>(&b, "exercise_id"),
            column::<StringArray>(&b, "exercise_type"),
        );
        let (start, end) = (
            column::<TimestampMicrosecondArray>(&b, "start_utc"),
            column::<TimestampMicrosecondArray>(&b, "end_utc"),
        );
        let (km, gps) = (
            column::<Float64Array>(&b, "distance_km"),
            column::<BooleanArray>(&b, "has_gps"),
        );
        for i in 0..b.num_rows() {
            rows.push(Session {
                id: id.value(i).to_string(),
                kind: kind.is_valid(i).then(|| kind.value(i).to_string()),
                start: instant(start.value(i)),
                end: instant(end.value(i)),
                km: km.is_valid(i).then(|| km.value(i)),
                gps: gps.is_valid(i) && gps.value(i),
            });
        }
    }
    rows.sort_by_key(|s| s.start);
    rows
}

/// The swims of `exercise_sessions`: (start, end, distance km).
fn swims(out: &Path) -> Vec<(DateTime<Utc>, DateTime<Utc>, Option<f64>)> {
    sessions_of(out)
        .into_iter()
        .filter(|s| s.kind.as_deref() == Some("swimming"))
        .map(|s| (s.start, s.end, s.km))
        .collect()
}

// Pool lengths (Google `swim-lengths-data`) over four weeks of the demo's person, who swims
// on one day in five, the week New York falls back included: every length is the people
// model's (wall clock, seconds, stroke, strokes), none extra; its UTC start and wall clock
// agree by the zone; each lies inside a swim of `exercise_sessions` from the same run, and
// every swim has lengths; and each swim's distance, from Google's session and from the
// Fitbit Web API's activity log (other endpoints, other normalisers), is its number of
// length rows times the 25 m pool, counted here.
#[test]
fn swim_lengths_are_the_models_and_lie_inside_their_swims() {
    let (from, to) = ("2026-10-12", "2026-11-08");
    let dir = tempfile::tempdir().unwrap();
    let (fitbit, google) = (dir.path().join("fitbit"), dir.path().join("google"));
    ingest(&fitbit, "fitbit-web-api", from, to, "exercise", "");
    ingest(
        &google,
        "google-health",
        from,
        to,
        "exercise,swim-lengths-data",
        "",
    );
    let (p, far) = person();
    let mut want: Vec<(NaiveDateTime, i64, i64, String)> = days_between(from, to)
        .into_iter()
        .flat_map(|d| p.swim_lengths(d, far))
        .map(|l| {
            (
                l.start,
                l.seconds,
                l.strokes as i64,
                l.stroke.to_lowercase(),
            )
        })
        .collect();
    want.sort();
    let mut got = Vec::new();
    let mut starts = Vec::new();
    for (_, b) in table_batches(&google, "swim_lengths") {
        let (start, local) = (
            column::<TimestampMicrosecondArray>(&b, "start_utc"),
            column::<TimestampMicrosecondArray>(&b, "start_local"),
        );
        let end = column::<TimestampMicrosecondArray>(&b, "end_utc");
        let secs = column::<Int64Array>(&b, "duration_seconds");
        let strokes = column::<Int64Array>(&b, "stroke_count");
        let stroke = column::<StringArray>(&b, "stroke_type");
        let date = column::<Date32Array>(&b, "date");
        for i in 0..b.num_rows() {
            let at = instant(start.value(i));
            let wall_clock = at.with_timezone(&p.tz).naive_local();
            assert_eq!(wall(local.value(i)), wall_clock, "local start of {at}");
            assert_eq!(day(date, i), wall_clock.date());
            assert_eq!(instant(end.value(i)) - at, Duration::seconds(secs.value(i)));
            got.push((
                wall_clock,
                secs.value(i),
                strokes.value(i),
                stroke.value(i).to_string(),
            ));
            starts.push((at, instant(end.value(i))));
        }
    }
    got.sort();
    assert!(
        want.len() >= 80,
        "four weeks hold a few swims: {}",
        want.len()
    );
    assert_eq!(got, want);
    let strokes: BTreeMap<&str, usize> = got.iter().fold(BTreeMap::new(), |mut m, l| {
        *m.entry(l.3.as_str()).or_default() += 1;
        m
    });
    assert!(strokes.len() >= 3, "{strokes:?}");

    let google_swims = swims(&google);
    assert!(google_swims.len() >= 4, "{google_swims:?}");
    // Each length inside one swim; each swim's lengths counted.
    let mut per_swim = vec![0usize; google_swims.len()];
    for (a, b) in &starts {
        let i = google_swims
            .iter()
            .position(|(s, e, _)| s <= a && b <= e)
            .unwrap_or_else(|| panic!("the length {a}..{b} lies in no swim"));
        per_swim[i] += 1;
    }
    assert!(
        per_swim.iter().all(|n| *n > 0),
        "a swim without lengths: {per_swim:?}"
    );
    // Fitbit's activity list runs from `--from` to today: the swims of the window.
    let last: NaiveDate = to.parse().unwrap();
    let fitbit_swims: Vec<_> = swims(&fitbit)
        .into_iter()
        .filter(|s| s.0.with_timezone(&p.tz).date_naive() <= last)
        .collect();
    assert_eq!(
        fitbit_swims.iter().map(|s| (s.0, s.1)).collect::<Vec<_>>(),
        google_swims.iter().map(|s| (s.0, s.1)).collect::<Vec<_>>(),
        "the same swims from both APIs"
    );
    for ((g, f), n) in google_swims.iter().zip(&fitbit_swims).zip(&per_swim) {
        let km = *n as f64 * 25.0 / 1000.0;
        let near = |d: Option<f64>| d.is_some_and(|d| (d - km).abs() < 1e-9);
        assert!(
            near(g.2),
            "Google's distance {:?} of the swim at {}: {km}",
            g.2,
            g.0
        );
        assert!(
            near(f.2),
            "Fitbit's distance {:?} of the swim at {}: {km}",
            f.2,
            f.0
        );
    }
}
