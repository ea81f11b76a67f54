//! The Google Health API v4 (google-health-api.md §4): list, reconcile and rollup
//! responses (or bare arrays of their points), identity and settings, to rows of the
//! same tables the Fitbit Web API fills (`source = google-health`).
//!
//! Rules, from the reference:
//! - int64 values arrive as JSON strings, doubles as numbers or `"NaN"`: both forms are
//!   accepted for every numeric field, and `"NaN"` is null.
//! - zero values are omitted: a point (or rollup value) whose time container is present
//!   but whose count is missing is a true zero.
//! - `*_utc` is the physical time; `*_local` is that instant plus the offset the API
//!   sent with it (`"-14400s"`). Rollups of physical windows carry no offset, so their
//!   local times come from the user's zone when it is known and are null otherwise.
//! - Daily values are keyed by the civil date (`date` or `civilStartTime.date`).
//! - Sleep: `name` is the key (its last segment is `log_id`); stages and
//!   `shortAwakenings` (as `is_short`) become `sleep_stages` rows.
//!
//! ```
//! use fitpipe_transform::google::{self, Context};
//! let body = br#"{"rollupDataPoints":[{"civilStartTime":{"date":{"year":2026,"month":9,"day":30},"time":{}},
//!   "civilEndTime":{"date":{"year":2026,"month":10,"day":1},"time":{}},"steps":{"countSum":"8530"}}]}"#;
//! let doc = google::parse(body).unwrap();
//! let rows = google::normalise(&doc, &Context::new("1234567890123456789")).unwrap();
//! assert_eq!(rows.daily_activity[0].steps, Some(8530));
//! ```

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use crate::fitbit::normalise::{activity_point, daily};
use crate::tables::*;
use crate::TransformError;

/// The `source` value of rows from the Google Health API.
pub const SOURCE: &str = "google-health";

fn source() -> Arc<str> {
    static S: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
    S.get_or_init(|| Arc::from(SOURCE)).clone()
}

/// Who the rows belong to.
#[derive(Debug, Clone)]
pub struct Context {
    /// Value of `user_id` on every row (the `healthUserId`).
    pub user_id: Arc<str>,
    /// The user's zone: only for the local times of physical rollup windows.
    pub tz: Option<Tz>,
    /// When the response was fetched (the profile's `updated_utc`).
    pub fetched_utc: Option<DateTime<Utc>>,
}

impl Context {
    /// A context for a user, with no zone and no fetch time.
    pub fn new(user_id: &str) -> Context {
        Context {
            user_id: user_id.into(),
            tz: None,
            fetched_utc: None,
        }
    }
}

/// Parses a response body (JSON syntax only; shapes are checked by [`normalise`]).
pub fn parse(bytes: &[u8]) -> Result<Value, TransformError> {
    serde_json::from_slice(bytes).map_err(|e| TransformError::Json(e.to_string()))
}

fn bad(path: &str, message: impl Into<String>) -> TransformError {
    TransformError::Value {
        path: path.to_string(),
        message: message.into(),
    }
}

/// A number sent as a JSON number or string; `"NaN"` and absence are `None`.
fn num(v: &Value, path: &str) -> Result<Option<f64>, TransformError> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_f64()),
        Value::String(s) if s.eq_ignore_ascii_case("nan") => Ok(None),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| bad(path, format!("expected a number, found {s:?}"))),
        other => Err(bad(path, format!("expected a number, found {other}"))),
    }
}

/// An int64 (usually a JSON string); absent is `None`.
fn int(v: &Value, path: &str) -> Result<Option<i64>, TransformError> {
    match num(v, path)? {
        None => Ok(None),
        Some(x) if x.fract() == 0.0 && x.abs() < 9.0e18 => Ok(Some(x as i64)),
        Some(x) => Err(bad(path, format!("expected a whole number, found {x}"))),
    }
}

/// An int64 whose absence means zero (proto3 omits zero values).
fn count(v: &Value, path: &str) -> Result<i64, TransformError> {
    Ok(int(v, path)?.unwrap_or(0))
}

fn instant(v: &Value, path: &str) -> Result<DateTime<Utc>, TransformError> {
    let s = v
        .as_str()
        .ok_or_else(|| bad(path, "expected an RFC 3339 time"))?;
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| bad(path, format!("{s:?} is not an RFC 3339 time ({e})")))
}

/// A duration string such as `"-14400s"` or `"7200s"`, in seconds.
fn offset(v: &Value, path: &str) -> Result<Option<i64>, TransformError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => s
            .strip_suffix('s')
            .and_then(|n| n.parse::<f64>().ok())
            .map(|x| Some(x as i64))
            .ok_or_else(|| {
                bad(
                    path,
                    format!("expected an offset such as \"-14400s\", found {s:?}"),
                )
            }),
        other => Err(bad(
            path,
            format!("expected an offset string, found {other}"),
        )),
    }
}

fn local(t: DateTime<Utc>, off: Option<i64>) -> Option<NaiveDateTime> {
    off.map(|o| t.naive_utc() + Duration::seconds(o))
}

fn date(v: &Value, path: &str) -> Result<NaiveDate, TransformError> {
    let part = |k: &str| v[k].as_i64();
    match (part("year"), part("month"), part("day")) {
        (Some(y), Some(m), Some(d)) => NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32)
            .ok_or_else(|| bad(path, format!("{y}-{m}-{d} is not a date"))),
        _ => Err(bad(path, "expected {year, month, day}")),
    }
}

/// A `CivilDateTime` (omitted time fields are zero).
fn civil(v: &Value, path: &str) -> Result<NaiveDateTime, TransformError> {
    let d = date(&v["date"], &format!("{path}.date"))?;
    let t = &v["time"];
    let n = |k: &str| t[k].as_u64().unwrap_or(0) as u32;
    d.and_hms_opt(n("hours"), n("minutes"), n("seconds"))
        .ok_or_else(|| bad(path, "time of day out of range"))
}

/// The union key of a data point: the one key that is not an envelope field.
/// A member of an object, `null` where it is absent (indexing a map would panic).
fn field<'a>(o: &'a serde_json::Map<String, Value>, key: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    o.get(key).unwrap_or(&NULL)
}

fn union_key(p: &serde_json::Map<String, Value>) -> Option<&str> {
    p.keys()
        .map(String::as_str)
        .find(|k| !matches!(*k, "name" | "dataSource" | "dataPointName"))
}

/// The id of an identifiable point: the last segment of its `name` (`dataPointName` in
/// reconcile answers).
fn point_id(o: &serde_json::Map<String, Value>) -> Option<&str> {
    let name = o.get("name").or(o.get("dataPointName"))?.as_str()?;
    name.rsplit('/').next()
}

fn is_rollup(p: &serde_json::Map<String, Value>) -> bool {
    p.contains_key("civilStartTime") || p.contains_key("startTime")
}

/// Turns one response (or a bare array of points) into table rows.
pub fn normalise(doc: &Value, ctx: &Context) -> Result<RowSet, TransformError> {
    let mut out = RowSet::default();
    let keys = |o: &serde_json::Map<String, Value>| o.keys().cloned().collect::<Vec<_>>();
    match doc {
        Value::Array(items) => {
            for (i, p) in items.iter().enumerate() {
                point_or_rollup(p, &format!("[{i}]"), ctx, &mut out)?;
            }
        }
        Value::Object(o) if o.contains_key("dataPoints") || o.contains_key("rollupDataPoints") => {
            for k in ["dataPoints", "rollupDataPoints"] {
                match &o.get(k) {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(items)) => {
                        for (i, p) in items.iter().enumerate() {
                            point_or_rollup(p, &format!("{k}[{i}]"), ctx, &mut out)?;
                        }
                    }
                    Some(other) => return Err(bad(k, format!("expected an array, found {other}"))),
                }
            }
        }
        // An empty list answer.
        Value::Object(o) if o.is_empty() || (o.len() == 1 && o.contains_key("nextPageToken")) => {}
        Value::Object(o) if o.contains_key("healthUserId") => {
            let id = o["healthUserId"]
                .as_str()
                .ok_or_else(|| bad("healthUserId", "expected a string"))?;
            let mut p = profile(ctx);
            p.user_id = id.into();
            p.legacy_user_id = o
                .get("legacyUserId")
                .and_then(Value::as_str)
                .map(Into::into);
            out.profile.push(p);
        }
        Value::Object(o) if o.contains_key("timeZone") => {
            let mut p = profile(ctx);
            let zone = o["timeZone"].as_str().unwrap_or_default();
            zone.parse::<Tz>()
                .map_err(|_| TransformError::UnknownTimezone(zone.to_string()))?;
            p.timezone = Some(zone.into());
            p.utc_offset_minutes = offset(field(o, "utcOffset"), "utcOffset")?.map(|s| s / 60);
            out.profile.push(p);
        }
        Value::Object(o) if o.contains_key("error") => {
            return Err(bad(
                "error",
                format!(
                    "the body is an API error: {}",
                    o["error"]["message"].as_str().unwrap_or("(no message)")
                ),
            ))
        }
        Value::Object(o) if union_key(o).is_some() && !is_rollup(o) => {
            point_or_rollup(doc, "", ctx, &mut out)?
        }
        Value::Object(o) => return Err(TransformError::UnknownShape { keys: keys(o) }),
        _ => return Err(TransformError::UnknownShape { keys: Vec::new() }),
    }
    Ok(out)
}

fn profile(ctx: &Context) -> Profile {
    Profile {
        user_id: ctx.user_id.clone(),
        source: source(),
        timezone: None,
        utc_offset_minutes: None,
        display_name: None,
        member_since: None,
        updated_utc: ctx.fetched_utc,
        legacy_user_id: None,
    }
}

fn point_or_rollup(
    p: &Value,
    path: &str,
    ctx: &Context,
    out: &mut RowSet,
) -> Result<(), TransformError> {
    let o = p
        .as_object()
        .ok_or_else(|| bad(path, "expected a data point object"))?;
    if is_rollup(o) {
        rollup(o, path, ctx, out)
    } else {
        point(o, path, ctx, out)
    }
}

/// The interval of an interval point: start (UTC, local) and length in seconds.
fn interval(
    v: &Value,
    path: &str,
) -> Result<(DateTime<Utc>, Option<NaiveDateTime>, i64), TransformError> {
    if !v.is_object() {
        return Err(bad(path, "missing `interval`"));
    }
    let start = instant(&v["startTime"], &format!("{path}.startTime"))?;
    let end = instant(&v["endTime"], &format!("{path}.endTime"))?;
    let off = offset(&v["startUtcOffset"], &format!("{path}.startUtcOffset"))?;
    Ok((start, local(start, off), (end - start).num_seconds()))
}

fn sample(v: &Value, path: &str) -> Result<(DateTime<Utc>, Option<NaiveDateTime>), TransformError> {
    if !v.is_object() {
        return Err(bad(path, "missing `sampleTime`"));
    }
    let at = instant(&v["physicalTime"], &format!("{path}.physicalTime"))?;
    let off = offset(&v["utcOffset"], &format!("{path}.utcOffset"))?;
    Ok((at, local(at, off)))
}

fn point(
    o: &serde_json::Map<String, Value>,
    path: &str,
    ctx: &Context,
    out: &mut RowSet,
) -> Result<(), TransformError> {
    let uid = &ctx.user_id;
    let Some(key) = union_key(o) else {
        return Err(bad(path, "a data point without a value"));
    };
    let v = &o[key];
    let at = |k: &str| format!("{path}.{key}.{k}");
    match key {
        "steps" | "distance" | "floors" => {
            let (start, local, secs) = interval(&v["interval"], &at("interval"))?;
            let mut row = activity_point(uid, &source(), start, local, secs);
            match key {
                "steps" => row.steps = Some(count(&v["count"], &at("count"))?),
                "floors" => row.floors = Some(count(&v["count"], &at("count"))?),
                _ => {
                    row.distance_km =
                        Some(count(&v["millimeters"], &at("millimeters"))? as f64 / 1e6)
                }
            }
            out.activity_intraday.push(row);
        }
        "heartRate" => {
            let (t, local) = sample(&v["sampleTime"], &at("sampleTime"))?;
            let Some(bpm) = num(&v["beatsPerMinute"], &at("beatsPerMinute"))? else {
                return Ok(());
            };
            out.heart_rate_intraday.push(HeartRateIntraday {
                user_id: uid.clone(),
                source: source(),
                time_utc: t,
                time_local: local,
                bpm: Some(bpm),
                confidence: None,
                interval_seconds: None,
            });
        }
        "dailyRestingHeartRate" => {
            let d = date(&v["date"], &at("date"))?;
            let mut row = daily(uid, &source(), d);
            row.resting_heart_rate_bpm = num(&v["beatsPerMinute"], &at("beatsPerMinute"))?;
            out.daily_activity.push(row);
        }
        "dailyHeartRateVariability" => {
            out.hrv_daily.push(HrvDaily {
                user_id: uid.clone(),
                source: source(),
                date: date(&v["date"], &at("date"))?,
                rmssd_ms: num(
                    &v["averageHeartRateVariabilityMilliseconds"],
                    &at("averageHeartRateVariabilityMilliseconds"),
                )?,
                deep_rmssd_ms: num(
                    &v["deepSleepRootMeanSquareOfSuccessiveDifferencesMilliseconds"],
                    &at("deepSleepRootMeanSquareOfSuccessiveDifferencesMilliseconds"),
                )?,
                nrem_heart_rate_bpm: num(
                    &v["nonRemHeartRateBeatsPerMinute"],
                    &at("nonRemHeartRateBeatsPerMinute"),
                )?,
                entropy: num(&v["entropy"], &at("entropy"))?,
            });
        }
        "dailyRespiratoryRate" => {
            out.breathing_rate_daily.push(BreathingRateDaily {
                user_id: uid.clone(),
                source: source(),
                date: date(&v["date"], &at("date"))?,
                breaths_per_minute: num(&v["breathsPerMinute"], &at("breathsPerMinute"))?,
            });
        }
        "dailySleepTemperatureDerivations" => {
            let nightly = num(
                &v["nightlyTemperatureCelsius"],
                &at("nightlyTemperatureCelsius"),
            )?;
            let baseline = num(
                &v["baselineTemperatureCelsius"],
                &at("baselineTemperatureCelsius"),
            )?;
            out.skin_temperature_daily.push(SkinTemperatureDaily {
                user_id: uid.clone(),
                source: source(),
                date: date(&v["date"], &at("date"))?,
                // Fitbit's `nightlyRelative` is the same difference.
                relative_celsius: nightly.zip(baseline).map(|(n, b)| n - b),
                nightly_celsius: nightly,
                baseline_celsius: baseline,
            });
        }
        "dailyOxygenSaturation" => {
            out.spo2_daily.push(Spo2Daily {
                user_id: uid.clone(),
                source: source(),
                date: date(&v["date"], &at("date"))?,
                avg_percent: num(&v["averagePercentage"], &at("averagePercentage"))?,
                min_percent: num(&v["lowerBoundPercentage"], &at("lowerBoundPercentage"))?,
                max_percent: num(&v["upperBoundPercentage"], &at("upperBoundPercentage"))?,
            });
        }
        "weight" => {
            let (t, local) = sample(&v["sampleTime"], &at("sampleTime"))?;
            let civil_date = match &v["sampleTime"]["civilTime"] {
                Value::Null => local.map(|l| l.date()),
                c => Some(civil(c, &at("sampleTime.civilTime"))?.date()),
            };
            let Some(d) = civil_date else {
                return Err(bad(
                    &at("sampleTime"),
                    "neither `utcOffset` nor `civilTime`: the local day is unknown",
                ));
            };
            out.weight_log.push(WeightLog {
                user_id: uid.clone(),
                source: source(),
                log_id: point_id(o)
                    .map(str::to_string)
                    .unwrap_or_else(|| t.timestamp_millis().to_string())
                    .into(),
                date: d,
                time_local: local,
                time_utc: Some(t),
                weight_kg: num(&v["weightGrams"], &at("weightGrams"))?.map(|g| g / 1000.0),
                bmi: None,
                fat_percent: None,
                log_source: o.get("dataSource").unwrap_or(&Value::Null)["platform"]
                    .as_str()
                    .map(Into::into),
            });
        }
        "sleep" => sleep(o, v, path, ctx, out)?,
        // Types without a table yet (active-energy-burned, heart-rate-variability
        // samples, oxygen-saturation samples, exercise, ...) are left out.
        _ => {}
    }
    Ok(())
}

fn sleep(
    o: &serde_json::Map<String, Value>,
    v: &Value,
    path: &str,
    ctx: &Context,
    out: &mut RowSet,
) -> Result<(), TransformError> {
    let at = |k: &str| format!("{path}.sleep.{k}");
    let iv = &v["interval"];
    if !iv.is_object() {
        return Err(bad(&at("interval"), "missing `interval`"));
    }
    let start = instant(&iv["startTime"], &at("interval.startTime"))?;
    let end = instant(&iv["endTime"], &at("interval.endTime"))?;
    let start_local = local(
        start,
        offset(&iv["startUtcOffset"], &at("interval.startUtcOffset"))?,
    );
    let end_local = local(
        end,
        offset(&iv["endUtcOffset"], &at("interval.endUtcOffset"))?,
    );
    let Some(date_of_sleep) = end_local.map(|l| l.date()) else {
        return Err(bad(
            &at("interval.endUtcOffset"),
            "missing: the local date of the sleep is unknown",
        ));
    };
    let log_id: Arc<str> = point_id(o)
        .ok_or_else(|| bad(path, "a sleep point without `name`"))?
        .into();
    // A sleep still being processed may lack its type, stages and summary.
    let classic = v["type"].as_str() == Some("CLASSIC");
    let kind = match v["type"].as_str() {
        Some("STAGES") => "stages",
        Some("CLASSIC") => "classic",
        Some(other) => return Err(bad(&at("type"), format!("unknown sleep type {other:?}"))),
        None => "unprocessed",
    };
    let meta = &v["metadata"];
    let is_main = meta["mainSleep"]
        .as_bool()
        .or_else(|| meta["nap"].as_bool().map(|n| !n));
    let s = &v["summary"];
    let has_summary = s.is_object();
    let sum = |k: &str| -> Result<Option<i64>, TransformError> {
        if has_summary {
            count(&s[k], &at(&format!("summary.{k}"))).map(Some)
        } else {
            Ok(None)
        }
    };
    let mut by_stage = std::collections::HashMap::new();
    if let Some(items) = s["stagesSummary"].as_array() {
        for (i, st) in items.iter().enumerate() {
            let t = st["type"].as_str().unwrap_or_default();
            by_stage.insert(
                t.to_string(),
                count(
                    &st["minutes"],
                    &at(&format!("summary.stagesSummary[{i}].minutes")),
                )?,
            );
        }
    }
    let stage_min =
        |t: &str| -> Option<i64> { has_summary.then(|| by_stage.get(t).copied().unwrap_or(0)) };
    let (deep, light, rem, restless) = if classic {
        (None, None, None, stage_min("RESTLESS"))
    } else {
        (
            stage_min("DEEP"),
            stage_min("LIGHT"),
            stage_min("REM"),
            None,
        )
    };
    out.sleep_sessions.push(SleepSession {
        user_id: ctx.user_id.clone(),
        source: source(),
        log_id: log_id.clone(),
        date_of_sleep,
        start_utc: Some(start),
        start_local,
        end_utc: Some(end),
        end_local,
        is_main_sleep: is_main,
        kind: kind.into(),
        log_type: Some(
            if o.get("dataSource").unwrap_or(&Value::Null)["recordingMethod"].as_str()
                == Some("MANUAL")
            {
                "manual"
            } else {
                "auto_detected"
            }
            .into(),
        ),
        minutes_in_bed: sum("minutesInSleepPeriod")?,
        minutes_asleep: sum("minutesAsleep")?,
        minutes_awake: sum("minutesAwake")?,
        minutes_to_fall_asleep: sum("minutesToFallAsleep")?,
        minutes_after_wakeup: sum("minutesAfterWakeUp")?,
        // Google does not send an efficiency; it is not computed here.
        efficiency: None,
        minutes_deep: deep,
        minutes_light: light,
        minutes_rem: rem,
        minutes_wake: stage_min("AWAKE"),
        minutes_restless: restless,
    });
    for (list, is_short) in [("stages", false), ("shortAwakenings", true)] {
        let Some(items) = v[list].as_array() else {
            continue;
        };
        for (j, st) in items.iter().enumerate() {
            let p = |k: &str| at(&format!("{list}[{j}].{k}"));
            let a = instant(&st["startTime"], &p("startTime"))?;
            let b = instant(&st["endTime"], &p("endTime"))?;
            let stage = match (st["type"].as_str(), classic) {
                (Some("AWAKE") | None, false) => "wake",
                (Some("AWAKE") | None, true) => "awake",
                (Some(t), _) => &t.to_ascii_lowercase(),
            };
            out.sleep_stages.push(SleepStage {
                user_id: ctx.user_id.clone(),
                source: source(),
                log_id: log_id.clone(),
                start_utc: a,
                start_local: local(a, offset(&st["startUtcOffset"], &p("startUtcOffset"))?),
                seconds: Some((b - a).num_seconds()),
                stage: stage.into(),
                is_short,
            });
        }
    }
    Ok(())
}

/// The activity sums of a rollup value (an empty value `{}` is zero).
#[derive(Default)]
struct Sums {
    steps: Option<i64>,
    floors: Option<i64>,
    distance_km: Option<f64>,
    calories_kcal: Option<f64>,
}

impl Sums {
    fn of(key: &str, v: &Value, at: &dyn Fn(&str) -> String) -> Result<Sums, TransformError> {
        let mut x = Sums::default();
        match key {
            "steps" => x.steps = Some(count(&v["countSum"], &at("countSum"))?),
            "floors" => x.floors = Some(count(&v["countSum"], &at("countSum"))?),
            "distance" => {
                x.distance_km =
                    Some(count(&v["millimetersSum"], &at("millimetersSum"))? as f64 / 1e6)
            }
            _ => x.calories_kcal = Some(num(&v["kcalSum"], &at("kcalSum"))?.unwrap_or(0.0)),
        }
        Ok(x)
    }
}

fn rollup(
    o: &serde_json::Map<String, Value>,
    path: &str,
    ctx: &Context,
    out: &mut RowSet,
) -> Result<(), TransformError> {
    let uid = &ctx.user_id;
    let Some(key) = o.keys().map(String::as_str).find(|k| {
        !matches!(
            *k,
            "civilStartTime" | "civilEndTime" | "startTime" | "endTime"
        )
    }) else {
        return Ok(());
    };
    let v = &o[key];
    let at = |k: &str| format!("{path}.{key}.{k}");
    if o.contains_key("civilStartTime") {
        // dailyRollUp: one row per civil day; a bucket longer than a day is not a day.
        let a = civil(
            field(o, "civilStartTime"),
            &format!("{path}.civilStartTime"),
        )?;
        let b = civil(field(o, "civilEndTime"), &format!("{path}.civilEndTime"))?;
        if a.time() != chrono::NaiveTime::MIN || b - a > Duration::days(1) {
            return Ok(());
        }
        if key == "activeZoneMinutes" {
            // Minutes in each zone; a cardio or peak minute earns two active zone
            // minutes, as Fitbit counts them (google-health-api.md: the sums are int64
            // strings; whether they are minutes or credits is UNCONFIRMED, minutes read).
            let m = |k: &str| count(&v[k], &at(k));
            let (fat, cardio, peak) = (
                m("sumInFatBurnHeartZone")?,
                m("sumInCardioHeartZone")? * 2,
                m("sumInPeakHeartZone")? * 2,
            );
            out.active_zone_minutes_daily.push(ActiveZoneMinutesDaily {
                user_id: uid.clone(),
                source: source(),
                date: a.date(),
                active_zone_minutes: Some(fat + cardio + peak),
                fat_burn_active_zone_minutes: Some(fat),
                cardio_active_zone_minutes: Some(cardio),
                peak_active_zone_minutes: Some(peak),
            });
            return Ok(());
        }
        let mut row = daily(uid, &source(), a.date());
        match key {
            "steps" | "floors" | "distance" | "totalCalories" => {
                let x = Sums::of(key, v, &at)?;
                (row.steps, row.floors) = (x.steps, x.floors);
                (row.distance_km, row.calories_kcal) = (x.distance_km, x.calories_kcal);
            }
            "activeMinutes" => {
                row.minutes_lightly_active = Some(0);
                row.minutes_fairly_active = Some(0);
                row.minutes_very_active = Some(0);
                for (i, l) in v["activeMinutesRollupByActivityLevel"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                {
                    let m = count(
                        &l["activeMinutesSum"],
                        &at(&format!(
                            "activeMinutesRollupByActivityLevel[{i}].activeMinutesSum"
                        )),
                    )?;
                    match l["activityLevel"].as_str() {
                        Some("LIGHT") => row.minutes_lightly_active = Some(m),
                        Some("MODERATE") => row.minutes_fairly_active = Some(m),
                        Some("VIGOROUS") => row.minutes_very_active = Some(m),
                        _ => {}
                    }
                }
            }
            _ => return Ok(()),
        }
        out.daily_activity.push(row);
        return Ok(());
    }
    // rollUp: physical windows without offsets.
    let a = instant(field(o, "startTime"), &format!("{path}.startTime"))?;
    let b = instant(field(o, "endTime"), &format!("{path}.endTime"))?;
    let local = ctx.tz.map(|tz| a.with_timezone(&tz).naive_local());
    let secs = (b - a).num_seconds();
    if key == "heartRate" {
        if let Some(avg) = num(&v["beatsPerMinuteAvg"], &at("beatsPerMinuteAvg"))? {
            out.heart_rate_intraday.push(HeartRateIntraday {
                user_id: uid.clone(),
                source: source(),
                time_utc: a,
                time_local: local,
                bpm: Some(avg),
                confidence: None,
                interval_seconds: Some(secs),
            });
        }
        return Ok(());
    }
    let mut row = activity_point(uid, &source(), a, local, secs);
    match key {
        "steps" | "floors" | "distance" | "totalCalories" => {
            let x = Sums::of(key, v, &at)?;
            (row.steps, row.floors) = (x.steps, x.floors);
            (row.distance_km, row.calories_kcal) = (x.distance_km, x.calories_kcal);
        }
        _ => return Ok(()),
    }
    out.activity_intraday.push(row);
    Ok(())
}
