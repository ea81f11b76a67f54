//! Takeout and account archives: the legacy JSON families of `Global Export Data/` (and
//! the old `user-site-export/`) into the tables, with `source = takeout`.
//!
//! Each family has its own time rule (reference/takeout.md §0 and §1.2): `heart_rate`,
//! `steps`, `distance` and `altitude` stamps are UTC wall-clock times; `calories` are
//! local (the only measurement says so); daily families are local dates; sleep logs are
//! local, exactly as the API's. Dates are US `MM/DD/YY`.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::fitbit::model::{Num, SleepLog};
use crate::fitbit::normalise::{activity_point, daily, sleep};
use crate::fitbit::Context;
use crate::tables::{HeartRateIntraday, HeartRateZone, RowSet};
use crate::time::SeriesClock;
use crate::TransformError;

/// The `source` value of rows from archives.
pub const SOURCE: &str = "takeout";

/// A file family of `Global Export Data/`, recognised by its name
/// (`<prefix>-YYYY-MM-DD.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// Second-level heart rate with confidence (UTC stamps, one local day per file).
    HeartRate,
    /// Steps per minute (UTC).
    Steps,
    /// Distance per minute in centimetres (UTC).
    Distance,
    /// Calories per minute (local).
    Calories,
    /// Altitude gain per minute, feet (UTC).
    Altitude,
    /// Daily resting heart rate (local dates; `date: null` filler rows).
    RestingHeartRate,
    /// Minutes per heart-rate zone per day.
    TimeInZones,
    /// Daily sedentary minutes (padded into the future).
    Sedentary,
    /// Daily lightly active minutes.
    LightlyActive,
    /// Daily moderately (fairly) active minutes.
    ModeratelyActive,
    /// Daily very active minutes.
    VeryActive,
    /// Sleep logs (v1.2 shape, `mainSleep`).
    Sleep,
}

const PREFIXES: &[(&str, Family)] = &[
    ("heart_rate", Family::HeartRate),
    ("steps", Family::Steps),
    ("distance", Family::Distance),
    ("calories", Family::Calories),
    ("altitude", Family::Altitude),
    ("resting_heart_rate", Family::RestingHeartRate),
    ("time_in_heart_rate_zones", Family::TimeInZones),
    ("sedentary_minutes", Family::Sedentary),
    ("lightly_active_minutes", Family::LightlyActive),
    ("moderately_active_minutes", Family::ModeratelyActive),
    ("very_active_minutes", Family::VeryActive),
    ("sleep", Family::Sleep),
];

impl Family {
    /// The family of a file name such as `heart_rate-2017-07-10.json`.
    pub fn of(file_name: &str) -> Option<Family> {
        let stem = file_name.strip_suffix(".json")?;
        let split = stem.len().checked_sub(11)?;
        let (prefix, date) = (stem.get(..split)?, stem.get(split + 1..)?);
        if stem.as_bytes()[split] != b'-' || date.len() != 10 {
            return None;
        }
        NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
        PREFIXES.iter().find(|(p, _)| *p == prefix).map(|(_, f)| *f)
    }

    /// Whether the family's rows carry a time of day (and so need the user's zone).
    pub fn needs_timezone(self) -> bool {
        !matches!(
            self,
            Family::RestingHeartRate
                | Family::TimeInZones
                | Family::Sedentary
                | Family::LightlyActive
                | Family::ModeratelyActive
                | Family::VeryActive
        )
    }
}

/// `MM/DD/YY HH:MM:SS`, the archive's timestamp format.
#[derive(Debug, Clone, Copy)]
struct UsTime(NaiveDateTime);

impl<'de> Deserialize<'de> for UsTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = UsTime;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a time as `MM/DD/YY HH:MM:SS`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<UsTime, E> {
                NaiveDateTime::parse_from_str(v, "%m/%d/%y %H:%M:%S")
                    .map(UsTime)
                    .map_err(|_| E::custom(format!("expected `MM/DD/YY HH:MM:SS`, found {v:?}")))
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Deserialize)]
struct Point<T> {
    #[serde(rename = "dateTime")]
    date_time: UsTime,
    value: T,
}

#[derive(Deserialize)]
struct Bpm {
    bpm: Num,
    confidence: Option<Num>,
}

#[derive(Deserialize)]
struct Resting {
    date: Option<String>,
    value: Option<Num>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Zones {
    values_in_zones: std::collections::BTreeMap<String, Num>,
}

fn source() -> Arc<str> {
    static S: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
    S.get_or_init(|| Arc::from(SOURCE)).clone()
}

fn parse<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, TransformError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            TransformError::Json(inner.to_string())
        } else {
            TransformError::Value {
                path,
                message: inner.to_string(),
            }
        }
    })
}

fn whole(v: Num, what: &str) -> Result<i64, TransformError> {
    if v.0.fract() == 0.0 {
        Ok(v.0 as i64)
    } else {
        Err(TransformError::Value {
            path: what.into(),
            message: format!("expected a whole number, found {}", v.0),
        })
    }
}

/// Rows of one archive file of `family`. `ctx.tz` places UTC stamps on the user's clock
/// and local ones in UTC.
pub fn normalise(family: Family, bytes: &[u8], ctx: &Context) -> Result<RowSet, TransformError> {
    let mut out = RowSet::default();
    let src = source();
    let uid = &ctx.user_id;
    let tz = if family.needs_timezone() {
        Some(ctx.tz.ok_or(TransformError::NeedTimezone {
            what: "archive times of day",
        })?)
    } else {
        None
    };
    let local_of = |utc: DateTime<Utc>| tz.map(|z| utc.with_timezone(&z).naive_local());
    match family {
        Family::HeartRate => {
            for p in parse::<Vec<Point<Bpm>>>(bytes)? {
                let t = p.date_time.0.and_utc();
                out.heart_rate_intraday.push(HeartRateIntraday {
                    user_id: uid.clone(),
                    source: src.clone(),
                    time_utc: t,
                    time_local: local_of(t),
                    bpm: Some(p.value.bpm.0),
                    confidence: p.value.confidence.map(|c| c.0),
                    interval_seconds: Some(1),
                });
            }
        }
        Family::Steps | Family::Distance | Family::Altitude => {
            for (i, p) in parse::<Vec<Point<Num>>>(bytes)?.into_iter().enumerate() {
                let t = p.date_time.0.and_utc();
                let mut row = activity_point(uid, &src, t, local_of(t), 60);
                match family {
                    Family::Steps => row.steps = Some(whole(p.value, &format!("[{i}].value"))?),
                    // Centimetres (reference/takeout.md §1.2).
                    Family::Distance => row.distance_km = Some(p.value.0 / 100_000.0),
                    _ => row.elevation_m = Some(p.value.0 * 0.3048),
                }
                out.activity_intraday.push(row);
            }
        }
        Family::Calories => {
            let mut clock = SeriesClock::new(tz.expect("needs_timezone"));
            for p in parse::<Vec<Point<Num>>>(bytes)? {
                let mut row = activity_point(
                    uid,
                    &src,
                    clock.to_utc(p.date_time.0),
                    Some(p.date_time.0),
                    60,
                );
                row.calories_kcal = Some(p.value.0);
                out.activity_intraday.push(row);
            }
        }
        Family::RestingHeartRate => {
            for p in parse::<Vec<Point<Resting>>>(bytes)? {
                // Filler rows: `{"date": null, "value": 0.0, "error": 0.0}`.
                let (Some(_), Some(v)) = (p.value.date, p.value.value) else {
                    continue;
                };
                let mut row = daily(uid, &src, p.date_time.0.date());
                row.resting_heart_rate_bpm = Some(v.0);
                out.daily_activity.push(row);
            }
        }
        Family::TimeInZones => {
            for (i, p) in parse::<Vec<Point<Zones>>>(bytes)?.into_iter().enumerate() {
                for (zone, minutes) in p.value.values_in_zones {
                    let path = format!("[{i}].value.valuesInZones.{zone}");
                    out.heart_rate_zones.push(HeartRateZone {
                        user_id: uid.clone(),
                        source: src.clone(),
                        date: p.date_time.0.date(),
                        zone: zone.as_str().into(),
                        min_bpm: None,
                        max_bpm: None,
                        minutes: Some(whole(minutes, &path)?),
                        calories_kcal: None,
                        is_custom: Some(false),
                    });
                }
            }
        }
        Family::Sedentary
        | Family::LightlyActive
        | Family::ModeratelyActive
        | Family::VeryActive => {
            for (i, p) in parse::<Vec<Point<Num>>>(bytes)?.into_iter().enumerate() {
                let v = Some(whole(p.value, &format!("[{i}].value"))?);
                let mut row = daily(uid, &src, p.date_time.0.date());
                match family {
                    Family::Sedentary => row.minutes_sedentary = v,
                    Family::LightlyActive => row.minutes_lightly_active = v,
                    Family::ModeratelyActive => row.minutes_fairly_active = v,
                    _ => row.minutes_very_active = v,
                }
                out.daily_activity.push(row);
            }
        }
        Family::Sleep => {
            for (i, log) in parse::<Vec<SleepLog>>(bytes)?.iter().enumerate() {
                sleep(log, i, ctx, &src, &mut out)?;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_by_file_name() {
        assert_eq!(
            Family::of("heart_rate-2017-07-10.json"),
            Some(Family::HeartRate)
        );
        assert_eq!(
            Family::of("resting_heart_rate-2017-05-16.json"),
            Some(Family::RestingHeartRate)
        );
        assert_eq!(
            Family::of("time_in_heart_rate_zones-2017-07-10.json"),
            Some(Family::TimeInZones)
        );
        assert_eq!(Family::of("sleep-2018-04-01.json"), Some(Family::Sleep));
        assert_eq!(Family::of("exercise-700.json"), None);
        assert_eq!(Family::of("food_logs-2018-04-01.json"), None);
        assert_eq!(Family::of("steps-2018-4-1.json"), None);
    }
}
