//! Google Health API v4: conformance with every sample in
//! ../shared/reference/samples/google-health that represents a data type in the tables
//! (read at test time, skipped with a notice where that folder is absent), plus the
//! encoding rules on bodies written here.

mod common;

use std::fs;
use std::path::PathBuf;

use fitpipe_transform::google::{self, Context};
use fitpipe_transform::RowSet;

fn dir() -> Option<PathBuf> {
    let d = common::manifest_dir().join("../../../shared/reference/samples/google-health");
    if d.is_dir() {
        Some(d)
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} is absent, and CI=true: the reference samples must be there",
            d.display()
        );
        eprintln!(
            "notice: {} is absent; Google Health sample tests skipped",
            d.display()
        );
        None
    }
}

fn rows_of(bytes: &[u8]) -> RowSet {
    let doc = google::parse(bytes).unwrap();
    let mut ctx = Context::new("1234567890123456789");
    ctx.tz = Some("America/New_York".parse().unwrap());
    google::normalise(&doc, &ctx).unwrap()
}

fn sample(rel: &str) -> Option<RowSet> {
    dir().map(|d| rows_of(&fs::read(d.join(rel)).unwrap()))
}

/// The error of an answer (from parsing or from normalising).
fn err_of(bytes: &[u8]) -> fitpipe_transform::TransformError {
    google::parse(bytes)
        .and_then(|doc| google::normalise(&doc, &Context::new("U")))
        .unwrap_err()
}

fn s<T: ToString>(x: T) -> String {
    x.to_string()
}

#[test]
fn every_data_sample_maps_without_error() {
    let Some(d) = dir() else { return };
    let mut n = 0;
    for sub in [
        "synthetic/data",
        "live/ryanckelly-probe-2026-05-19",
        "official",
    ] {
        for e in fs::read_dir(d.join(sub)).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            // Request bodies, error bodies and token responses are not data.
            if !name.ends_with(".json")
                || name.contains(".request.")
                || name.contains("error")
                || name.contains("token")
                || name.contains("account-not-linked")
            {
                continue;
            }
            let bytes = fs::read(&p).unwrap();
            let doc = google::parse(&bytes).unwrap();
            google::normalise(&doc, &Context::new("U"))
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            n += 1;
        }
    }
    assert!(n >= 20, "only {n} samples found");
}

#[test]
fn steps_list_pages_with_a_true_zero() {
    let (Some(a), Some(b)) = (
        sample("synthetic/data/steps.list.page1.json"),
        sample("synthetic/data/steps.list.page2.json"),
    ) else {
        return;
    };
    let got: Vec<_> = a
        .activity_intraday
        .iter()
        .chain(&b.activity_intraday)
        .map(|r| {
            (
                s(r.time_utc),
                s(r.time_local.unwrap()),
                r.steps.unwrap(),
                r.interval_seconds.unwrap(),
            )
        })
        .collect();
    assert_eq!(got.len(), 5);
    assert_eq!(
        got[0],
        (
            s("2026-09-30 13:03:00 UTC"),
            s("2026-09-30 09:03:00"),
            112,
            60
        )
    );
    // The point without `count` is a true zero, not a gap.
    assert_eq!(got[3].2, 0);
    assert_eq!(got[4].2, 41);
    assert_eq!(a.activity_intraday[0].source.as_ref(), "google-health");
}

#[test]
fn distance_floors_and_heart_rate_samples() {
    let Some(d) = sample("synthetic/data/distance.list.json") else {
        return;
    };
    assert_eq!(d.activity_intraday[0].distance_km, Some(0.08421));
    let f = sample("synthetic/data/floors.reconcile.json").unwrap();
    assert_eq!(f.activity_intraday[0].floors, Some(2));
    let h = sample("synthetic/data/heart-rate.list.json").unwrap();
    let got: Vec<_> = h
        .heart_rate_intraday
        .iter()
        .map(|r| (s(r.time_local.unwrap()), r.bpm.unwrap()))
        .collect();
    assert_eq!(got[0], (s("2026-09-30 08:01:25"), 73.0));
    assert_eq!(got.len(), 3);
    assert!(h.heart_rate_intraday.iter().all(|r| r.confidence.is_none()));
}

#[test]
fn sleep_sample_gives_session_and_tiling_stages() {
    let Some(r) = sample("synthetic/data/sleep.list.json") else {
        return;
    };
    let sess = &r.sleep_sessions[0];
    assert_eq!(sess.log_id.as_ref(), "7821966286120953001");
    assert_eq!(s(sess.date_of_sleep), "2026-09-30");
    assert_eq!(s(sess.start_local.unwrap()), "2026-09-29 22:40:00");
    assert_eq!(s(sess.end_utc.unwrap()), "2026-09-30 10:52:00 UTC");
    assert_eq!(sess.kind.as_ref(), "stages");
    assert_eq!(sess.is_main_sleep, Some(true));
    assert_eq!(
        (
            sess.minutes_in_bed,
            sess.minutes_asleep,
            sess.minutes_awake,
            sess.minutes_deep,
            sess.minutes_light,
            sess.minutes_rem,
            sess.minutes_wake
        ),
        (
            Some(492),
            Some(465),
            Some(27),
            Some(70),
            Some(305),
            Some(90),
            Some(27)
        )
    );
    let stages: Vec<_> = r
        .sleep_stages
        .iter()
        .map(|x| (x.stage.to_string(), x.seconds.unwrap()))
        .collect();
    assert_eq!(stages[0], (s("wake"), 900));
    assert_eq!(stages[2], (s("deep"), 4200));
    let total: i64 = stages.iter().map(|x| x.1).sum();
    assert_eq!(total, 492 * 60, "stages tile the session");
}

#[test]
fn daily_rollups_and_live_daily_types() {
    let Some(r) = sample("synthetic/data/steps.dailyRollUp.response.json") else {
        return;
    };
    let got: Vec<_> = r
        .daily_activity
        .iter()
        .map(|d| (s(d.date), d.steps.unwrap()))
        .collect();
    assert_eq!(got, [(s("2026-09-30"), 8530), (s("2026-09-29"), 10412)]);
    let c = sample("synthetic/data/total-calories.dailyRollUp.response.json").unwrap();
    assert_eq!(c.daily_activity[0].calories_kcal, Some(2198.25));

    let dist =
        sample("live/ryanckelly-probe-2026-05-19/rollup_distance.sample_points.json").unwrap();
    assert!(dist
        .daily_activity
        .iter()
        .all(|d| d.distance_km.unwrap() > 0.0));
    let fl = sample("live/ryanckelly-probe-2026-05-19/rollup_floors.sample_points.json").unwrap();
    // The newest bucket ends at 23:59:59 (the probe's end): still that day.
    assert_eq!(
        fl.daily_activity
            .iter()
            .map(|d| (s(d.date), d.floors.unwrap()))
            .collect::<Vec<_>>(),
        [(s("2026-05-18"), 14), (s("2026-05-17"), 10)]
    );
    let am = sample("live/ryanckelly-probe-2026-05-19/rollup_active_minutes.sample_points.json")
        .unwrap();
    let d = &am.daily_activity[0];
    assert_eq!(
        (
            d.minutes_lightly_active,
            d.minutes_fairly_active,
            d.minutes_very_active
        ),
        (Some(92), Some(5), Some(17))
    );

    let hrv = sample("live/ryanckelly-probe-2026-05-19/hrv_daily.sample_points.json").unwrap();
    let h = &hrv.hrv_daily[0];
    assert_eq!(s(h.date), "2026-05-18");
    assert_eq!(
        (h.rmssd_ms, h.deep_rmssd_ms, h.nrem_heart_rate_bpm),
        (Some(64.7), Some(56.25), Some(54.0))
    );
    let spo2 = sample("live/ryanckelly-probe-2026-05-19/spo2_daily.sample_points.json").unwrap();
    let o = &spo2.spo2_daily[0];
    assert_eq!(
        (o.avg_percent, o.min_percent, o.max_percent),
        (Some(95.9), Some(94.6), Some(98.7))
    );

    let w = sample("live/ryanckelly-probe-2026-05-19/known_weight.sample_points.json").unwrap();
    let w0 = &w.weight_log[0];
    assert_eq!(w0.log_id.as_ref(), "1778829993000");
    assert_eq!(w0.weight_kg, Some(82.8));
    assert_eq!(s(w0.time_local.unwrap()), "2026-05-15 07:26:33");
    assert_eq!(s(w0.date), "2026-05-15");
    assert_eq!(w0.log_source.as_deref(), Some("FITBIT_WEB_API"));
}

#[test]
fn physical_rollups_and_identity() {
    let Some(r) = sample("synthetic/data/steps.rollUp.response.json") else {
        return;
    };
    // An empty value `{}` is a zero.
    let got: Vec<_> = r
        .activity_intraday
        .iter()
        .map(|x| (s(x.time_utc), x.steps.unwrap(), x.interval_seconds.unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            (s("2026-09-30 13:15:00 UTC"), 0, 900),
            (s("2026-09-30 13:00:00 UTC"), 1215, 900)
        ]
    );
    assert_eq!(
        s(r.activity_intraday[1].time_local.unwrap()),
        "2026-09-30 09:00:00"
    );
    let h = sample("synthetic/data/heart-rate.rollUp.response.json").unwrap();
    assert_eq!(h.heart_rate_intraday[0].bpm, Some(61.4));
    let id = sample("synthetic/data/identity.get.json").unwrap();
    assert_eq!(id.profile[0].user_id.as_ref(), "1234567890123456789");
    assert_eq!(id.profile[0].legacy_user_id.as_deref(), Some("ABC123"));
}

#[test]
fn numbers_as_strings_or_numbers_nan_and_bad_values() {
    let body = br#"{"dataPoints":[
      {"dailyRestingHeartRate":{"date":{"year":2026,"month":1,"day":2},"beatsPerMinute":"58"}},
      {"dailyRestingHeartRate":{"date":{"year":2026,"month":1,"day":3},"beatsPerMinute":57}},
      {"dailyOxygenSaturation":{"date":{"year":2026,"month":1,"day":3},"averagePercentage":"NaN"}}]}"#;
    let r = rows_of(body);
    let rhr: Vec<_> = r
        .daily_activity
        .iter()
        .map(|d| d.resting_heart_rate_bpm)
        .collect();
    assert_eq!(rhr, [Some(58.0), Some(57.0)]);
    assert_eq!(r.spo2_daily[0].avg_percent, None);

    let bad = br#"{"dataPoints":[{"steps":{"interval":{"startTime":"yesterday","endTime":"2026-01-01T00:01:00Z"},"count":"3"}}]}"#;
    let e = err_of(bad);
    assert!(
        e.to_string()
            .contains("dataPoints[0].steps.interval.startTime"),
        "{e}"
    );
    let bad = br#"{"dataPoints":[{"steps":{"interval":{"startTime":"2026-01-01T00:00:00Z","endTime":"2026-01-01T00:01:00Z","startUtcOffset":"3600s"},"count":"many"}}]}"#;
    let e = err_of(bad);
    assert!(e.to_string().contains("count"), "{e}");
    // Offsets without a `+`, positive and negative.
    let ok = br#"{"dataPoints":[{"steps":{"interval":{"startTime":"2026-01-01T00:00:00Z","endTime":"2026-01-01T00:01:00Z","startUtcOffset":"3600s"},"count":"3"}}]}"#;
    assert_eq!(
        s(rows_of(ok).activity_intraday[0].time_local.unwrap()),
        "2026-01-01 01:00:00"
    );
}

#[test]
fn short_awakenings_are_short_wakes_and_classic_stages_keep_their_names() {
    let body = br#"{"dataPoints":[{"name":"users/1/dataTypes/sleep/dataPoints/42",
      "sleep":{"interval":{"startTime":"2026-03-08T04:00:00Z","startUtcOffset":"-18000s","endTime":"2026-03-08T11:00:00Z","endUtcOffset":"-14400s"},
      "type":"STAGES",
      "stages":[{"startTime":"2026-03-08T04:00:00Z","startUtcOffset":"-18000s","endTime":"2026-03-08T11:00:00Z","endUtcOffset":"-14400s","type":"LIGHT"}],
      "shortAwakenings":[{"startTime":"2026-03-08T05:00:00Z","startUtcOffset":"-18000s","endTime":"2026-03-08T05:02:00Z","endUtcOffset":"-18000s","type":"AWAKE"}],
      "metadata":{"nap":false},
      "summary":{"minutesInSleepPeriod":"420","minutesAsleep":"418","minutesAwake":"2"}}},
     {"name":"users/1/dataTypes/sleep/dataPoints/43",
      "sleep":{"interval":{"startTime":"2026-03-08T18:00:00Z","startUtcOffset":"-14400s","endTime":"2026-03-08T18:30:00Z","endUtcOffset":"-14400s"},
      "type":"CLASSIC",
      "stages":[{"startTime":"2026-03-08T18:00:00Z","startUtcOffset":"-14400s","endTime":"2026-03-08T18:20:00Z","endUtcOffset":"-14400s","type":"ASLEEP"},
                {"startTime":"2026-03-08T18:20:00Z","startUtcOffset":"-14400s","endTime":"2026-03-08T18:30:00Z","endUtcOffset":"-14400s","type":"AWAKE"}],
      "metadata":{"mainSleep":false},
      "summary":{"minutesInSleepPeriod":"30","minutesAsleep":"20","minutesAwake":"10","stagesSummary":[{"type":"AWAKE","minutes":"10","count":"1"},{"type":"ASLEEP","minutes":"20","count":"1"}]}}}]}"#;
    let r = rows_of(body);
    // Across the spring-forward change: the session's local end uses the end offset.
    assert_eq!(
        s(r.sleep_sessions[0].end_local.unwrap()),
        "2026-03-08 07:00:00"
    );
    assert_eq!(r.sleep_sessions[0].is_main_sleep, Some(true));
    assert_eq!(r.sleep_sessions[0].minutes_wake, Some(0));
    let st: Vec<_> = r
        .sleep_stages
        .iter()
        .map(|x| (x.log_id.to_string(), x.stage.to_string(), x.is_short))
        .collect();
    assert_eq!(
        st,
        [
            (s("42"), s("light"), false),
            (s("42"), s("wake"), true),
            (s("43"), s("asleep"), false),
            (s("43"), s("awake"), false)
        ]
    );
    assert_eq!(r.sleep_sessions[1].kind.as_ref(), "classic");
    assert_eq!(r.sleep_sessions[1].minutes_wake, Some(10));
    assert_eq!(r.sleep_sessions[1].minutes_restless, Some(0));
}

// The typed models report a value of the wrong form with its JSON path, in every part of
// an answer: points, rollups, sleep stages and bare arrays.
#[test]
fn wrong_values_are_named_by_their_path() {
    let cases: [(&[u8], &str); 5] = [
        (
            br#"{"dataPoints":[{"heartRate":{"sampleTime":{"physicalTime":"2026-01-01T00:00:00Z","utcOffset":"3600s"},"beatsPerMinute":"60"}},
                {"heartRate":{"sampleTime":{"physicalTime":"2026-01-01T00:00:02Z","utcOffset":"an hour"},"beatsPerMinute":"61"}}]}"#,
            "dataPoints[1].heartRate.sampleTime.utcOffset",
        ),
        (
            br#"{"rollupDataPoints":[{"civilStartTime":{"date":{"year":2026,"month":1,"day":1}},"civilEndTime":{"date":{"year":2026,"month":1,"day":2}},"steps":{"countSum":[1]}}]}"#,
            "rollupDataPoints[0].steps.countSum",
        ),
        (
            br#"{"dataPoints":[{"name":"a/1","sleep":{"interval":{"startTime":"2026-01-01T00:00:00Z","endTime":"2026-01-01T07:00:00Z","endUtcOffset":"0s"},
                "stages":[{"startTime":"2026-01-01T00:00:00Z","endTime":"soon","type":"LIGHT"}]}}]}"#,
            "dataPoints[0].sleep.stages[0].endTime",
        ),
        (
            br#"[{"dailyRespiratoryRate":{"date":{"year":2026,"month":2,"day":30},"breathsPerMinute":14}}]"#,
            "[0].dailyRespiratoryRate.date",
        ),
        (
            br#"{"dataPoints":[{"steps":{"count":"3"}}]}"#,
            "dataPoints[0].steps.interval",
        ),
    ];
    for (body, path) in cases {
        match err_of(body) {
            fitpipe_transform::TransformError::Value { path: p, .. } => {
                assert_eq!(p, path, "{}", String::from_utf8_lossy(body))
            }
            e => panic!("{e} for {}", String::from_utf8_lossy(body)),
        }
    }
    // An object of no known shape is named by its keys; an empty page is no rows.
    let e = err_of(br#"{"kind":"unknown","items":[]}"#);
    assert!(e.to_string().contains("items, kind"), "{e}");
    let empty = google::parse(br#"{"nextPageToken":"abc"}"#).unwrap();
    let rows = google::normalise(&empty, &Context::new("U")).unwrap();
    assert_eq!(
        rows.heart_rate_intraday.len() + rows.activity_intraday.len(),
        0
    );
    // One point (`dataPoints.get`).
    let one = br#"{"name":"users/1/dataTypes/weight/dataPoints/77","weight":{"sampleTime":{"physicalTime":"2026-01-01T08:00:00Z","utcOffset":"3600s"},"weightGrams":70500}}"#;
    let r = rows_of(one);
    assert_eq!(
        (r.weight_log[0].log_id.as_ref(), r.weight_log[0].weight_kg),
        ("77", Some(70.5))
    );
}

// The live HRV and SpO2 sample lists (ryanckelly probe): every sample a row at its
// physical time, its wall clock from the offset the API sent.
#[test]
fn live_hrv_and_spo2_samples_fill_their_intraday_tables() {
    let Some(h) = sample("live/ryanckelly-probe-2026-05-19/hrv_interval.sample_points.json") else {
        return;
    };
    let got: Vec<_> = h
        .hrv_intraday
        .iter()
        .map(|r| {
            (
                r.time_utc.to_rfc3339(),
                r.time_local.unwrap().to_string(),
                r.rmssd_ms,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "2026-05-18T09:35:00+00:00".to_string(),
                "2026-05-18 06:35:00".to_string(),
                Some(64.7)
            ),
            (
                "2026-05-18T09:30:00+00:00".to_string(),
                "2026-05-18 06:30:00".to_string(),
                Some(51.9)
            ),
        ]
    );
    let o = sample("live/ryanckelly-probe-2026-05-19/spo2_interval.sample_points.json").unwrap();
    assert_eq!(o.spo2_intraday.len(), 2);
    assert_eq!(o.spo2_intraday[0].percent, Some(95.8));
    assert_eq!(
        o.spo2_intraday[0].time_local.unwrap().to_string(),
        "2026-05-18 15:31:50"
    );
}

// A sedentary period's local times: from the offsets in force (a period across the
// autumn DST change in New York: 01:30 EDT to 01:10 EST is 40 minutes, not -20), else
// from the user's zone; without either the error names the period and the fix.
#[test]
fn sedentary_periods_take_their_wall_clocks_from_the_offsets_or_the_zone() {
    let with_offsets = br#"{"dataPoints":[{"sedentaryPeriod":{"interval":{
        "startTime":"2026-11-01T05:30:00Z","startUtcOffset":"-14400s",
        "endTime":"2026-11-01T06:10:00Z","endUtcOffset":"-18000s"}}}]}"#;
    let r = rows_of(with_offsets);
    let p = &r.sedentary_periods[0];
    assert_eq!(p.date.to_string(), "2026-11-01");
    assert_eq!(p.start_local.unwrap().to_string(), "2026-11-01 01:30:00");
    assert_eq!(p.end_local.unwrap().to_string(), "2026-11-01 01:10:00");
    assert_eq!(p.duration_seconds, Some(40 * 60));
    // No offsets: New York's zone gives the wall clock (04:30 UTC is 23:30 EST the day before).
    let bare = br#"{"dataPoints":[{"sedentaryPeriod":{"interval":{
        "startTime":"2026-11-02T04:30:00Z","endTime":"2026-11-02T05:00:00Z"}}}]}"#;
    let p = &rows_of(bare).sedentary_periods[0];
    assert_eq!(p.start_local.unwrap().to_string(), "2026-11-01 23:30:00");
    assert_eq!(p.date.to_string(), "2026-11-01", "the local day, not UTC's");
    let e = err_of(bare).to_string();
    assert!(
        e.contains("dataPoints[0].sedentaryPeriod.interval.startUtcOffset")
            && e.contains("no time zone"),
        "{e}"
    );
    let no_interval = br#"{"dataPoints":[{"sedentaryPeriod":{}}]}"#;
    let e = err_of(no_interval).to_string();
    assert!(e.contains("missing `interval`"), "{e}");
}

// A day's zone thresholds (`dailyHeartRateZones`, from the discovery schema): a row per
// zone named as Google names it, bounds from int64 strings or numbers, the unspecified
// zone left out; and active energy (`activeEnergyBurned`) as its interval and kcal.
#[test]
fn zone_thresholds_and_active_energy_from_the_discovery_schemas() {
    let body = br#"{"dataPoints":[{"dailyHeartRateZones":{"date":{"year":2026,"month":11,"day":1},
        "heartRateZones":[
          {"heartRateZoneType":"LIGHT","minBeatsPerMinute":"87","maxBeatsPerMinute":"105"},
          {"heartRateZoneType":"PEAK","minBeatsPerMinute":164,"maxBeatsPerMinute":"220"},
          {"heartRateZoneType":"HEART_RATE_ZONE_TYPE_UNSPECIFIED","minBeatsPerMinute":"1"}]}},
        {"activeEnergyBurned":{"interval":{"startTime":"2026-11-01T05:30:00Z","startUtcOffset":"-14400s",
          "endTime":"2026-11-01T05:31:00Z","endUtcOffset":"-14400s"},"kcal":2.25}}]}"#;
    let rows = rows_of(body);
    let zones: Vec<_> = rows
        .heart_rate_zones
        .iter()
        .map(|z| {
            (
                z.date.to_string(),
                z.zone.to_string(),
                z.min_bpm,
                z.max_bpm,
                z.minutes,
            )
        })
        .collect();
    assert_eq!(
        zones,
        [
            (s("2026-11-01"), s("LIGHT"), Some(87.0), Some(105.0), None),
            (s("2026-11-01"), s("PEAK"), Some(164.0), Some(220.0), None),
        ]
    );
    let a = &rows.active_energy[0];
    assert_eq!(a.time_local.unwrap().to_string(), "2026-11-01 01:30:00");
    assert_eq!(
        (a.interval_seconds, a.calories_kcal),
        (Some(60), Some(2.25))
    );
}

// Pool lengths (`swimLengthsData`, from the discovery schema): the stroke count an int64
// string, the stroke in lower case (unspecified is null), the seconds from the instants
// (a length across the fall-back hour lasts what it lasted); a length without its
// interval or with a count that is not a number is refused by its path.
#[test]
fn swim_lengths_from_the_discovery_schema() {
    let body = br#"{"dataPoints":[
        {"swimLengthsData":{"interval":{"startTime":"2026-11-01T05:59:40Z","startUtcOffset":"-14400s",
            "endTime":"2026-11-01T06:00:12Z","endUtcOffset":"-18000s"},
            "swimStrokeType":"BREASTSTROKE","strokeCount":"14"}},
        {"swimLengthsData":{"interval":{"startTime":"2026-11-01T06:00:20Z","startUtcOffset":"-18000s",
            "endTime":"2026-11-01T06:00:50Z","endUtcOffset":"-18000s"},
            "swimStrokeType":"SWIM_STROKE_TYPE_UNSPECIFIED","strokeCount":19}}]}"#;
    let rows = rows_of(body).swim_lengths;
    assert_eq!(rows.len(), 2);
    let (a, b) = (&rows[0], &rows[1]);
    assert_eq!(a.start_local.unwrap().to_string(), "2026-11-01 01:59:40");
    assert_eq!(a.end_local.unwrap().to_string(), "2026-11-01 01:00:12");
    assert_eq!(a.duration_seconds, Some(32));
    assert_eq!(
        (a.stroke_type.as_deref(), a.stroke_count),
        (Some("breaststroke"), Some(14))
    );
    assert_eq!(a.date.to_string(), "2026-11-01");
    assert_eq!((b.stroke_type.as_deref(), b.stroke_count), (None, Some(19)));
    let e = err_of(br#"{"dataPoints":[{"swimLengthsData":{"strokeCount":"3"}}]}"#).to_string();
    assert!(
        e.contains("dataPoints[0].swimLengthsData.interval") && e.contains("missing `interval`"),
        "{e}"
    );
    let e = err_of(
        br#"{"dataPoints":[{"swimLengthsData":{"interval":{"startTime":"2026-11-01T05:59:40Z",
            "startUtcOffset":"0s","endTime":"2026-11-01T06:00:12Z"},"strokeCount":"fourteen"}}]}"#,
    )
    .to_string();
    assert!(
        e.contains("strokeCount") || e.contains("whole number"),
        "{e}"
    );
}

// A daily VO2 max point: the value as given, the level in lower case (unspecified is
// null, not a level), `estimated` only where sent; an empty answer is no rows.
#[test]
fn daily_vo2_max_points_keep_value_level_and_estimate() {
    let page = br#"{"dataPoints":[
      {"dailyVo2Max":{"date":{"year":2026,"month":10,"day":3},"vo2Max":41.5,"vo2MaxCovariance":0.8,"cardioFitnessLevel":"VERY_GOOD"}},
      {"dailyVo2Max":{"date":{"year":2026,"month":10,"day":4},"vo2Max":"40","estimated":true,"cardioFitnessLevel":"CARDIO_FITNESS_LEVEL_UNSPECIFIED"}}]}"#;
    let r = rows_of(page);
    let v: Vec<_> = r
        .vo2max_daily
        .iter()
        .map(|v| {
            (
                v.date.to_string(),
                v.vo2max,
                v.cardio_fitness_level.clone(),
                v.estimated,
                v.vo2max_low,
            )
        })
        .collect();
    assert_eq!(
        v,
        [
            (
                "2026-10-03".into(),
                Some(41.5),
                Some("very_good".into()),
                None,
                None
            ),
            ("2026-10-04".into(), Some(40.0), None, Some(true), None),
        ]
    );
    assert!(rows_of(b"{}").vo2max_daily.is_empty());
}

// Altitude gains, activity levels and run VO2 max, written by hand from the discovery
// schemas: millimetres to metres (int64 strings), the rollup sum into the day, the four
// levels as Fitbit numbers them, an unspecified level null, an unknown one an error naming
// the field; a run VO2 max filed under its local day.
#[test]
fn altitude_activity_level_and_run_vo2_max() {
    let iv = r#""interval":{"startTime":"2026-10-05T14:00:00Z","startUtcOffset":"-14400s",
        "endTime":"2026-10-05T14:01:00Z","endUtcOffset":"-14400s"}"#;
    let r = rows_of(
        format!(r#"{{"dataPoints":[{{"altitude":{{{iv},"gainMillimeters":"6096"}}}}]}}"#)
            .as_bytes(),
    );
    assert_eq!(r.activity_intraday[0].elevation_m, Some(6.096));
    assert_eq!(
        r.activity_intraday[0].time_local.unwrap().to_string(),
        "2026-10-05 10:00:00"
    );
    let day = br#"{"rollupDataPoints":[{"civilStartTime":{"date":{"year":2026,"month":10,"day":5},"time":{}},
        "civilEndTime":{"date":{"year":2026,"month":10,"day":6},"time":{}},"altitude":{"gainMillimetersSum":"27432"}}]}"#;
    assert_eq!(rows_of(day).daily_activity[0].elevation_m, Some(27.432));
    for (name, want) in [
        ("SEDENTARY", Some(0)),
        ("LIGHTLY_ACTIVE", Some(1)),
        ("MODERATELY_ACTIVE", Some(2)),
        ("VERY_ACTIVE", Some(3)),
        ("ACTIVITY_LEVEL_TYPE_UNSPECIFIED", None),
    ] {
        let body = format!(
            r#"{{"dataPoints":[{{"activityLevel":{{{iv},"activityLevelType":"{name}"}}}}]}}"#
        );
        assert_eq!(
            rows_of(body.as_bytes()).activity_intraday[0].activity_level,
            want,
            "{name}"
        );
    }
    let body =
        format!(r#"{{"dataPoints":[{{"activityLevel":{{{iv},"activityLevelType":"RESTING"}}}}]}}"#);
    let e = err_of(body.as_bytes()).to_string();
    assert!(
        e.contains("activityLevelType") && e.contains("RESTING"),
        "{e}"
    );
    let run = br#"{"dataPoints":[{"runVo2Max":{"sampleTime":{"physicalTime":"2026-10-06T03:30:00Z",
        "utcOffset":"-14400s"},"runVo2Max":47.3}}]}"#;
    let v = &rows_of(run).run_vo2max[0];
    assert_eq!(
        (v.date.to_string(), v.vo2max),
        ("2026-10-05".to_string(), Some(47.3))
    );
    assert_eq!(v.time_local.unwrap().to_string(), "2026-10-05 23:30:00");
}

// The rest of the discovery document's readable types, on answers written here from its
// schemas (Height, VO2Max, RespiratoryRateSleepSummary, HydrationLog, NutritionLog,
// Electrocardiogram, IrregularRhythmNotification, BasalEnergyBurned), values read off by
// hand: int64 strings, units, wall clocks from the offsets, local days, lower-case enums,
// absent stages null, and an ECG whose samples have no frequency refused by name.
#[test]
fn logs_readings_and_summaries_from_the_discovery_schemas() {
    let st = r#""sampleTime":{"physicalTime":"2026-10-06T03:30:00Z","utcOffset":"-14400s"}"#;
    let iv = r#""interval":{"startTime":"2026-10-05T16:30:00Z","startUtcOffset":"-14400s",
        "endTime":"2026-10-05T16:50:00Z","endUtcOffset":"-14400s"}"#;
    let one = |key: &str, body: &str| {
        rows_of(
            format!(r#"{{"dataPoints":[{{"name":"users/me/dataTypes/x/dataPoints/p1","{key}":{{{body}}}}}]}}"#)
                .as_bytes(),
        )
    };
    let h = &one("height", &format!(r#"{st},"heightMillimeters":"1765""#)).height_log[0];
    assert_eq!(
        (h.height_cm, h.date.to_string()),
        (Some(176.5), "2026-10-05".into())
    );
    assert_eq!(h.time_local.unwrap().to_string(), "2026-10-05 23:30:00");
    let v = &one(
        "vo2Max",
        &format!(r#"{st},"vo2Max":44.5,"measurementMethod":"COOPER_TEST""#),
    )
    .vo2max_log[0];
    assert_eq!(
        (v.vo2max, v.measurement_method.as_deref()),
        (Some(44.5), Some("cooper_test"))
    );
    let b = &one(
        "respiratoryRateSleepSummary",
        &format!(
            r#"{st},"fullSleepStats":{{"breathsPerMinute":15.2,"signalToNoise":3.1,"standardDeviation":0.8}},
            "deepSleepStats":{{"breathsPerMinute":14.1}}"#
        ),
    )
    .breathing_rate_sleep[0];
    assert_eq!(
        (
            b.date.to_string(),
            b.full_sleep_breaths_per_minute,
            b.deep_sleep_breaths_per_minute,
            b.rem_sleep_breaths_per_minute,
            b.full_sleep_signal_to_noise,
            b.full_sleep_standard_deviation,
        ),
        (
            "2026-10-05".into(),
            Some(15.2),
            Some(14.1),
            None,
            Some(3.1),
            Some(0.8)
        )
    );
    let w = &one(
        "hydrationLog",
        &format!(r#"{iv},"amountConsumed":{{"milliliters":473.2,"userProvidedUnit":"PINT_US"}}"#),
    )
    .hydration_log[0];
    assert_eq!(
        (&*w.log_id, w.amount_ml, w.entered_unit.as_deref()),
        ("p1", Some(473.2), Some("pint_us"))
    );
    assert_eq!(w.start_local.unwrap().to_string(), "2026-10-05 12:30:00");
    let n = one(
        "nutritionLog",
        &format!(
            r#"{iv},"mealType":"LUNCH","foodDisplayName":"Soup","food":"users/me/dataTypes/food/dataPoints/9",
            "serving":{{"amount":2,"foodMeasurementUnitDisplayName":"cup"}},"energy":{{"kcal":240}},
            "totalCarbohydrate":{{"grams":30}},"totalFat":{{"grams":8}},
            "nutrients":[{{"nutrient":"PROTEIN","quantity":{{"grams":12}}}},
                         {{"nutrient":"SODIUM","quantity":{{"grams":0.9}}}},
                         {{"nutrient":"NUTRIENT_UNSPECIFIED","quantity":{{"grams":1}}}}]"#
        ),
    );
    let f = &n.nutrition_log[0];
    assert_eq!(
        (
            f.meal_type.as_deref(),
            f.food_name.as_deref(),
            f.serving_amount,
            f.serving_unit.as_deref(),
            f.calories_kcal,
            f.carbohydrate_g,
            f.fat_g,
            f.protein_g,
            f.calories_from_fat_kcal,
        ),
        (
            Some("lunch"),
            Some("Soup"),
            Some(2.0),
            Some("cup"),
            Some(240.0),
            Some(30.0),
            Some(8.0),
            Some(12.0),
            None
        )
    );
    let got: Vec<_> = n
        .nutrition_nutrients
        .iter()
        .map(|x| (&*x.log_id, &*x.nutrient, x.grams))
        .collect();
    assert_eq!(
        got,
        [("p1", "protein", Some(12.0)), ("p1", "sodium", Some(0.9))]
    );

    let ecg = |extra: &str| {
        format!(
            r#"{iv},"beatsPerMinuteAvg":"71","leadNumber":1,"millivoltsScalingFactor":1000,
            "resultClassification":"ATRIAL_FIBRILLATION","waveformSamples":[500,-250,1000]{extra}"#
        )
    };
    let e = one(
        "electrocardiogram",
        &ecg(r#","samplingFrequencyHertz":500"#),
    );
    let r = &e.ecg_readings[0];
    assert_eq!(
        (
            r.avg_heart_rate_bpm,
            r.sample_count,
            r.result_classification.as_deref()
        ),
        (Some(71), Some(3), Some("atrial_fibrillation"))
    );
    let got: Vec<_> = e
        .ecg_waveform
        .iter()
        .map(|s| (s.sample_index, s.time_utc.to_rfc3339(), s.millivolts))
        .collect();
    assert_eq!(
        got,
        [
            (Some(0), "2026-10-05T16:30:00+00:00".to_string(), Some(0.5)),
            (
                Some(1),
                "2026-10-05T16:30:00.002+00:00".to_string(),
                Some(-0.25)
            ),
            (
                Some(2),
                "2026-10-05T16:30:00.004+00:00".to_string(),
                Some(1.0)
            ),
        ]
    );
    let body = format!(
        r#"{{"dataPoints":[{{"electrocardiogram":{{{}}}}}]}}"#,
        ecg("")
    );
    let msg = err_of(body.as_bytes()).to_string();
    assert!(msg.contains("samplingFrequencyHertz"), "{msg}");

    let i = one(
        "irregularRhythmNotification",
        &format!(
            r#"{iv},"alertWindows":[
            {{"startTime":"2026-10-05T16:30:00Z","startUtcOffset":"-14400s","endTime":"2026-10-05T16:35:00Z",
              "positive":true,"heartBeats":[{{"beatsPerMinute":110}},{{"beatsPerMinute":121}}]}},
            {{"startTime":"2026-10-05T16:45:00Z","startUtcOffset":"-14400s","positive":false}}]"#
        ),
    );
    let x = &i.irregular_rhythm_notifications[0];
    assert_eq!((x.windows, x.positive_windows), (Some(2), Some(1)));
    let w = &i.irregular_rhythm_windows;
    assert_eq!(
        (w[0].beats, w[0].avg_heart_rate_bpm, w[0].positive),
        (Some(2), Some(115.5), Some(true))
    );
    assert_eq!(
        (w[1].beats, w[1].avg_heart_rate_bpm, w[1].end_utc),
        (Some(0), None, None)
    );
    assert_eq!(w[1].start_local.unwrap().to_string(), "2026-10-05 12:45:00");

    let f = &one(
        "food",
        r#""displayName":"Apple","accessLevel":"FOOD_ACCESS_LEVEL_PRIVATE",
        "defaultServing":{"amount":1,"foodMeasurementUnitDisplayName":"medium"},
        "energyAvg":{"kcal":95},"totalCarbohydrate":{"grams":25},
        "nutrients":[{"nutrient":"PROTEIN","quantity":{"grams":0.5}}]"#,
    )
    .foods[0];
    assert_eq!(
        (
            &*f.food_id,
            f.food_name.as_deref(),
            f.access_level.as_deref(),
            f.serving_unit.as_deref(),
            f.calories_kcal,
            f.carbohydrate_g,
            f.fat_g,
            f.protein_g,
        ),
        (
            "users/me/dataTypes/x/dataPoints/p1",
            Some("Apple"),
            Some("food_access_level_private"),
            Some("medium"),
            Some(95.0),
            Some(25.0),
            None,
            Some(0.5)
        )
    );
    let msg = err_of(br#"{"dataPoints":[{"food":{"displayName":"Apple"}}]}"#).to_string();
    assert!(msg.contains("name"), "{msg}");

    let b = &one(
        "basalEnergyBurned",
        r#""interval":{"startTime":"2026-10-05T16:30:00Z","startUtcOffset":"-14400s",
        "endTime":"2026-10-05T16:31:00Z","endUtcOffset":"-14400s"},"kcal":1.1"#,
    )
    .basal_energy[0];
    assert_eq!((b.interval_seconds, b.calories_kcal), (Some(60), Some(1.1)));
}

// A TCX file as the Fitbit Web API writes it (wall clocks with their offset), read off by
// hand: each Trackpoint a row (one without a position keeps its time and distance), the
// Lap's DistanceMeters not mistaken for a point's, the local day of the start; the route
// takes the id of the session that started at its Activity Id, else keeps that start;
// a Trackpoint with a bad number, or a file without an Activity, is refused by name.
#[test]
fn tcx_routes_are_read_and_linked_to_their_session() {
    use fitpipe_transform::tcx;
    let tcx = |points: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">
 <Activities><Activity Sport="Running"><Id>2026-10-04T23:50:00.000-04:00</Id>
  <Lap StartTime="2026-10-04T23:50:00.000-04:00"><DistanceMeters>5000.0</DistanceMeters><Track>{points}</Track></Lap>
 </Activity></Activities></TrainingCenterDatabase>"#
        )
    };
    let body = tcx(r#"
   <Trackpoint><Time>2026-10-04T23:59:55.000-04:00</Time>
    <Position><LatitudeDegrees>40.7812000</LatitudeDegrees><LongitudeDegrees>-73.9665000</LongitudeDegrees></Position>
    <AltitudeMeters>21.5</AltitudeMeters><DistanceMeters>1250.50</DistanceMeters>
    <HeartRateBpm><Value>151</Value></HeartRateBpm></Trackpoint>
   <Trackpoint><Time>2026-10-05T00:00:00.000-04:00</Time><DistanceMeters>1262.00</DistanceMeters></Trackpoint>"#);
    assert!(tcx::is_tcx(body.as_bytes()) && !tcx::is_tcx(b" {\"a\":1}"));
    let r = tcx::normalise(body.as_bytes(), "U1", "fitbit-web-api", None).unwrap();
    let p = &r.exercise_route;
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].time_utc.to_rfc3339(), "2026-10-05T03:59:55+00:00");
    assert_eq!(p[0].time_local.unwrap().to_string(), "2026-10-04 23:59:55");
    assert_eq!(
        (
            p[0].latitude,
            p[0].longitude,
            p[0].altitude_m,
            p[0].distance_km,
            p[0].heart_rate_bpm
        ),
        (
            Some(40.7812),
            Some(-73.9665),
            Some(21.5),
            Some(1.2505),
            Some(151)
        )
    );
    assert_eq!(
        (p[1].latitude, p[1].distance_km, p[1].heart_rate_bpm),
        (None, Some(1.262), None)
    );
    // Both points belong to the run that started on the 4th, local.
    assert!(p.iter().all(|x| x.date.to_string() == "2026-10-04"));
    assert_eq!(
        p[0].session_start_utc.unwrap().to_rfc3339(),
        "2026-10-05T03:50:00+00:00"
    );
    assert!(p.iter().all(|x| x.exercise_id.is_empty()));

    // Linked to the session that started then; a route of no listed session keeps its start.
    let mut rows = r.clone();
    let session = br#"{"activities":[{"logId":77,"startTime":"2026-10-04T23:50:00.000-04:00",
        "activityName":"Run","duration":1800000,"activeDuration":1800000,"hasGps":true}]}"#;
    let s = common::rows(session, "America/New_York");
    assert_eq!(s.exercise_sessions.len(), 1, "a session to link to");
    rows.extend(s);
    tcx::link_routes(&mut rows);
    assert!(rows.exercise_route.iter().all(|x| &*x.exercise_id == "77"));
    let mut alone = r;
    tcx::link_routes(&mut alone);
    assert_eq!(
        &*alone.exercise_route[0].exercise_id,
        "2026-10-05T03:50:00+00:00"
    );

    let bad = tcx("<Trackpoint><Time>2026-10-05T00:00:00Z</Time><AltitudeMeters>high</AltitudeMeters></Trackpoint>");
    let e = tcx::normalise(bad.as_bytes(), "U", "x", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("high") && e.contains("AltitudeMeters"), "{e}");
    let e = tcx::normalise(b"<TrainingCenterDatabase/>", "U", "x", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("Activity"), "{e}");
}
