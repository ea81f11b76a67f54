//! Serde models of the Google Health API v4 answers (google-health-api.md §4): list,
//! rollup and reconcile pages (or bare arrays of their points), single points, identity
//! and settings. Strings borrow from the body where they can; a value of the wrong form
//! fails with its JSON path (`dataPoints[3].steps.interval.startTime`).
//!
//! The same key names a point and a rollup value of one data type (`steps` is
//! `{interval, count}` in a list and `{countSum}` in a rollup), so each value type holds
//! both forms' fields, all optional; [`super::normalise`] checks which form it has.

// Fields carry the API's names (camelCase in JSON), documented in google-health-api.md.
#![allow(missing_docs)]

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;

/// A number sent as a JSON number or a string (int64 and `"NaN"`); `null`, `"NaN"` and
/// absence are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Num(pub Option<f64>);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number (or a string holding one)")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                Ok(Num(Some(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num(Some(v as f64)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(Some(v as f64)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Num, E> {
                if s.eq_ignore_ascii_case("nan") {
                    return Ok(Num(None));
                }
                s.trim()
                    .parse::<f64>()
                    .map(|x| Num(Some(x)))
                    .map_err(|_| E::custom(format!("expected a number, found {s:?}")))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Num, E> {
                Ok(Num(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Num, E> {
                Ok(Num(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// An int64 (usually a JSON string); absence is `None`, which for a count means zero
/// (proto3 omits zero values).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Int(pub Option<i64>);

impl Int {
    /// The count, zero when omitted.
    pub fn count(self) -> i64 {
        self.0.unwrap_or(0)
    }
}

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number (or a string holding one)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                Ok(Int(Some(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                i64::try_from(v)
                    .map(|v| Int(Some(v)))
                    .map_err(|_| E::custom(format!("{v} is out of range")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Int, E> {
                if v.fract() == 0.0 && v.abs() < 9.0e18 {
                    Ok(Int(Some(v as i64)))
                } else {
                    Err(E::custom(format!("expected a whole number, found {v}")))
                }
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Int, E> {
                if s.eq_ignore_ascii_case("nan") {
                    return Ok(Int(None));
                }
                let t = s.trim();
                if let Ok(v) = t.parse::<i64>() {
                    return Ok(Int(Some(v)));
                }
                match t.parse::<f64>() {
                    Ok(v) => self.visit_f64(v),
                    Err(_) => Err(E::custom(format!("expected a number, found {s:?}"))),
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Int, E> {
                Ok(Int(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// An RFC 3339 instant (`2026-05-18T09:35:00Z`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instant(pub DateTime<Utc>);

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Instant;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an RFC 3339 time")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Instant, E> {
                if let Some(t) = utc_z(s.as_bytes()) {
                    return Ok(Instant(t));
                }
                DateTime::parse_from_rfc3339(s)
                    .map(|t| Instant(t.with_timezone(&Utc)))
                    .map_err(|e| E::custom(format!("{s:?} is not an RFC 3339 time ({e})")))
            }
        }
        d.deserialize_str(V)
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, the form the API sends, read by position (a heart
/// rate page holds 5,000 of them); anything else goes to chrono's RFC 3339 parser.
fn utc_z(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || *b.last()? != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, c| {
            let d = c.wrapping_sub(b'0');
            (d < 10).then(|| n * 10 + u32::from(d))
        })
    };
    let nanos = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            num(20..b.len() - 1)? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?
        .and_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, nanos)
        .map(|t| t.and_utc())
}

/// A UTC offset as a duration string (`"-14400s"`), in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Offset(pub i64);

impl<'de> Deserialize<'de> for Offset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Offset;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an offset such as \"-14400s\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Offset, E> {
                s.strip_suffix('s')
                    .and_then(|n| n.parse::<f64>().ok())
                    .filter(|x| x.is_finite() && x.abs() < 86_400.0 * 2.0)
                    .map(|x| Offset(x as i64))
                    .ok_or_else(|| {
                        E::custom(format!(
                            "expected an offset such as \"-14400s\", found {s:?}"
                        ))
                    })
            }
        }
        d.deserialize_str(V)
    }
}

/// A calendar date `{year, month, day}`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Date(pub NaiveDate);

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Parts {
            year: i32,
            month: u32,
            day: u32,
        }
        let p = Parts::deserialize(d)?;
        NaiveDate::from_ymd_opt(p.year, p.month, p.day)
            .map(Date)
            .ok_or_else(|| {
                de::Error::custom(format!("{}-{}-{} is not a date", p.year, p.month, p.day))
            })
    }
}

/// A `CivilDateTime`: a date and a time of day whose omitted fields are zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Civil(pub NaiveDateTime);

impl<'de> Deserialize<'de> for Civil {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct TimeOfDay {
            hours: u32,
            minutes: u32,
            seconds: u32,
        }
        #[derive(Deserialize)]
        struct Parts {
            date: Date,
            #[serde(default)]
            time: TimeOfDay,
        }
        let p = Parts::deserialize(d)?;
        NaiveTime::from_hms_opt(p.time.hours, p.time.minutes, p.time.seconds)
            .map(|t| Civil(p.date.0.and_time(t)))
            .ok_or_else(|| de::Error::custom("time of day out of range"))
    }
}

/// An interval: physical start and end, with the offsets in force at each.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interval {
    pub start_time: Instant,
    pub end_time: Instant,
    pub start_utc_offset: Option<Offset>,
    pub end_utc_offset: Option<Offset>,
}

/// The time of a sample.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SampleTime {
    pub physical_time: Instant,
    pub utc_offset: Option<Offset>,
    pub civil_time: Option<Civil>,
}

/// The time of a heart-rate sample: its `civilTime` is left unread (the offset gives the
/// wall clock, and a page holds thousands).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalTime {
    pub physical_time: Instant,
    pub utc_offset: Option<Offset>,
}

/// Where a point came from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataSource<'a> {
    #[serde(borrow)]
    pub recording_method: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub platform: Option<Cow<'a, str>>,
}

/// `steps` and `floors`: `{interval, count}` as a point, `{countSum}` as a rollup.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Count {
    pub interval: Option<Interval>,
    pub count: Int,
    pub count_sum: Int,
}

/// `distance`: `{interval, millimeters}` or `{millimetersSum}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Distance {
    pub interval: Option<Interval>,
    pub millimeters: Int,
    pub millimeters_sum: Int,
}

/// `altitude`: `{interval, gainMillimeters}` or `{gainMillimetersSum}` (the gain over the
/// interval, not the height above the sea).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Altitude {
    pub interval: Option<Interval>,
    pub gain_millimeters: Int,
    pub gain_millimeters_sum: Int,
}

/// `basalEnergyBurned`: an interval's energy at rest.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Basal {
    pub interval: Option<Interval>,
    #[serde(default)]
    pub kcal: Num,
}

/// `totalCalories` rollup value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Calories {
    pub kcal_sum: Num,
}

/// `heartRate`: `{sampleTime, beatsPerMinute}` or `{beatsPerMinuteAvg, ...}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HeartRate {
    pub sample_time: Option<PhysicalTime>,
    pub beats_per_minute: Num,
    pub beats_per_minute_avg: Num,
}

/// A daily value keyed by its civil date (`dailyRestingHeartRate`, the daily HRV, SpO2,
/// respiratory rate and sleep temperature types): the union of their fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Daily {
    pub date: Date,
    #[serde(default)]
    pub beats_per_minute: Num,
    #[serde(default)]
    pub average_heart_rate_variability_milliseconds: Num,
    #[serde(default)]
    pub deep_sleep_root_mean_square_of_successive_differences_milliseconds: Num,
    #[serde(default)]
    pub non_rem_heart_rate_beats_per_minute: Num,
    #[serde(default)]
    pub entropy: Num,
    #[serde(default)]
    pub breaths_per_minute: Num,
    #[serde(default)]
    pub nightly_temperature_celsius: Num,
    #[serde(default)]
    pub baseline_temperature_celsius: Num,
    #[serde(default)]
    pub average_percentage: Num,
    #[serde(default)]
    pub lower_bound_percentage: Num,
    #[serde(default)]
    pub upper_bound_percentage: Num,
    /// `dailyVo2Max`: ml/kg/min.
    #[serde(default)]
    pub vo2_max: Num,
    /// `dailyVo2Max`: `POOR` .. `EXCELLENT`.
    #[serde(default)]
    pub cardio_fitness_level: Option<String>,
    /// `dailyVo2Max`: the confidence fell far enough to call it an estimate.
    #[serde(default)]
    pub estimated: Option<bool>,
}

/// `swimLengthsData`: one length of a pool, its stroke and strokes (an int64 string).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwimLength<'a> {
    pub interval: Option<Interval>,
    #[serde(borrow, default)]
    pub swim_stroke_type: Option<Cow<'a, str>>,
    #[serde(default)]
    pub stroke_count: Int,
}

/// `dailyHeartRateZones`: a day's heart-rate zone thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyZones<'a> {
    pub date: Date,
    #[serde(borrow, default)]
    pub heart_rate_zones: Vec<ZoneBounds<'a>>,
}

/// One zone of `dailyHeartRateZones`: its type and bounds (int64 strings).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoneBounds<'a> {
    #[serde(borrow, default)]
    pub heart_rate_zone_type: Option<Cow<'a, str>>,
    #[serde(default)]
    pub min_beats_per_minute: Int,
    #[serde(default)]
    pub max_beats_per_minute: Int,
}

/// A point that is only its interval (`sedentaryPeriod`).
#[derive(Debug, Clone, Deserialize)]
pub struct Span {
    pub interval: Option<Interval>,
}

/// `weight`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Weight {
    pub sample_time: SampleTime,
    #[serde(default)]
    pub weight_grams: Num,
}

/// `activeMinutes` rollup value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ActiveMinutes<'a> {
    #[serde(borrow)]
    pub active_minutes_rollup_by_activity_level: Vec<ActivityLevel<'a>>,
}

/// Minutes at one activity level.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ActivityLevel<'a> {
    #[serde(borrow)]
    pub activity_level: Option<Cow<'a, str>>,
    pub active_minutes_sum: Int,
}

/// `timeInHeartRateZone` rollup value: `{timeInHeartRateZones: [{heartRateZone, duration}]}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ZoneTimes<'a> {
    #[serde(borrow)]
    pub time_in_heart_rate_zones: Vec<ZoneValue<'a>>,
}

/// `caloriesInHeartRateZone` rollup value: `{caloriesInHeartRateZones: [{heartRateZone, kcal}]}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ZoneCalories<'a> {
    #[serde(borrow)]
    pub calories_in_heart_rate_zones: Vec<ZoneValue<'a>>,
}

/// One zone's time or energy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ZoneValue<'a> {
    #[serde(borrow)]
    pub heart_rate_zone: Option<Cow<'a, str>>,
    pub duration: Option<Seconds>,
    pub kcal: Num,
}

/// `activityLevel`: `{interval, activityLevelType}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LevelOfInterval<'a> {
    pub interval: Option<Interval>,
    #[serde(borrow)]
    pub activity_level_type: Option<Cow<'a, str>>,
}

/// `activeZoneMinutes` rollup value: minutes in each heart zone.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ZoneMinutes {
    pub sum_in_fat_burn_heart_zone: Int,
    pub sum_in_cardio_heart_zone: Int,
    pub sum_in_peak_heart_zone: Int,
}

/// `sleep`. A sleep still being processed may lack its type, stages and summary.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sleep<'a> {
    pub interval: Interval,
    #[serde(rename = "type", borrow)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(default)]
    pub metadata: SleepMetadata,
    pub summary: Option<SleepSummary<'a>>,
    #[serde(default, borrow)]
    pub stages: Vec<Stage<'a>>,
    #[serde(default, borrow)]
    pub short_awakenings: Vec<Stage<'a>>,
}

/// `sleep.metadata`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SleepMetadata {
    pub main_sleep: Option<bool>,
    pub nap: Option<bool>,
}

/// `sleep.summary` (omitted counts are zero).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SleepSummary<'a> {
    pub minutes_in_sleep_period: Int,
    pub minutes_asleep: Int,
    pub minutes_awake: Int,
    pub minutes_to_fall_asleep: Int,
    pub minutes_after_wake_up: Int,
    #[serde(borrow)]
    pub stages_summary: Vec<StageSummary<'a>>,
}

/// Minutes in one stage.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StageSummary<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Option<Cow<'a, str>>,
    pub minutes: Int,
}

/// A sleep stage or short awakening.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage<'a> {
    pub start_time: Instant,
    pub end_time: Instant,
    pub start_utc_offset: Option<Offset>,
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Cow<'a, str>>,
}

/// A duration string (`"1800s"`, `"1800.500s"`), in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seconds(pub i64);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<str>::deserialize(d)?;
        s.strip_suffix('s')
            .and_then(|n| n.parse::<f64>().ok())
            .filter(|x| x.is_finite() && *x >= 0.0)
            .map(|x| Seconds(x.round() as i64))
            .ok_or_else(|| {
                de::Error::custom(format!(
                    "expected a duration such as \"1800s\", found {s:?}"
                ))
            })
    }
}

/// `exercise`: a session (google-health-api.md §4.4). `distanceMillimeters` is often
/// absent live.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Exercise<'a> {
    pub interval: Interval,
    #[serde(borrow)]
    pub exercise_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub display_name: Option<Cow<'a, str>>,
    pub active_duration: Option<Seconds>,
    #[serde(default)]
    pub metrics_summary: ExerciseMetrics,
    #[serde(default)]
    pub exercise_metadata: ExerciseMetadata,
}

/// `exercise.metricsSummary` (omitted values are absent, not zero: a summary the
/// tracker did not compute is left null).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExerciseMetrics {
    pub calories_kcal: Num,
    pub distance_millimeters: Num,
    pub steps: Int,
    pub average_heart_rate_beats_per_minute: Num,
    pub active_zone_minutes: Int,
}

/// `exercise.exerciseMetadata`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExerciseMetadata {
    pub has_gps: Option<bool>,
}

/// `heartRateVariability`: a 5-minute sample during sleep.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HrvSample {
    pub sample_time: SampleTime,
    #[serde(default)]
    pub root_mean_square_of_successive_differences_milliseconds: Num,
    #[serde(default)]
    pub metadata: HrvMetadata,
}

/// `heartRateVariability.metadata`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HrvMetadata {
    pub high_frequency_power: Num,
    pub low_frequency_power: Num,
}

/// `oxygenSaturation` and `bodyFat`: a sample with a percentage.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Percentage {
    pub sample_time: SampleTime,
    #[serde(default)]
    pub percentage: Num,
}

/// `coreBodyTemperature`: a reading and where it was taken.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Temperature<'a> {
    pub sample_time: SampleTime,
    #[serde(default)]
    pub temperature_celsius: Num,
    #[serde(borrow, default)]
    pub measurement_location: Option<Cow<'a, str>>,
}

/// `bloodGlucose`: a reading and its circumstances (enums, `*_UNSPECIFIED` when unset).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Glucose<'a> {
    pub sample_time: SampleTime,
    #[serde(default)]
    pub blood_glucose_milligrams_per_deciliter: Num,
    #[serde(borrow, default)]
    pub measurement_timing: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub meal_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub specimen: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub measurement_source: Option<Cow<'a, str>>,
}

/// `vo2Max`: an estimate and how it was made.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vo2Max<'a> {
    pub sample_time: SampleTime,
    #[serde(default)]
    pub vo2_max: Num,
    #[serde(borrow, default)]
    pub measurement_method: Option<Cow<'a, str>>,
}

/// `height`: an entry, millimetres as an int64 string.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Height {
    pub sample_time: SampleTime,
    #[serde(default)]
    pub height_millimeters: Int,
}

/// `respiratoryRateSleepSummary`: a sleep's breathing rate, whole and by stage.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BreathingSleep {
    pub sample_time: SampleTime,
    #[serde(default)]
    pub full_sleep_stats: BreathingStats,
    #[serde(default)]
    pub deep_sleep_stats: BreathingStats,
    #[serde(default)]
    pub light_sleep_stats: BreathingStats,
    #[serde(default)]
    pub rem_sleep_stats: BreathingStats,
}

/// One stage's figures (`RespiratoryRateSleepSummaryStatistics`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BreathingStats {
    #[serde(default)]
    pub breaths_per_minute: Num,
    #[serde(default)]
    pub signal_to_noise: Num,
    #[serde(default)]
    pub standard_deviation: Num,
}

/// `hydrationLog`: a drink.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hydration<'a> {
    pub interval: Option<Interval>,
    #[serde(borrow, default)]
    pub amount_consumed: Quantity<'a>,
}

/// A quantity with the unit it was entered in (`VolumeQuantity`, `EnergyQuantity`,
/// `WeightQuantity`): one of `milliliters`, `kcal`, `grams`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quantity<'a> {
    #[serde(default)]
    pub milliliters: Num,
    #[serde(default)]
    pub kcal: Num,
    #[serde(default)]
    pub grams: Num,
    #[serde(borrow, default)]
    pub user_provided_unit: Option<Cow<'a, str>>,
}

/// `nutritionLog`: a food eaten.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Nutrition<'a> {
    pub interval: Option<Interval>,
    #[serde(borrow, default)]
    pub meal_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub food_display_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub food: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub serving: Serving<'a>,
    #[serde(borrow, default)]
    pub energy: Quantity<'a>,
    #[serde(borrow, default)]
    pub energy_from_fat: Quantity<'a>,
    #[serde(borrow, default)]
    pub total_carbohydrate: Quantity<'a>,
    #[serde(borrow, default)]
    pub total_fat: Quantity<'a>,
    #[serde(borrow, default)]
    pub nutrients: Vec<Nutrient<'a>>,
}

/// `food`: a food of the person's catalogue and its figures per default serving.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FoodEntry<'a> {
    #[serde(borrow, default)]
    pub display_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub brand: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub access_level: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub default_serving: Serving<'a>,
    #[serde(borrow, default)]
    pub energy_avg: Quantity<'a>,
    #[serde(borrow, default)]
    pub energy_from_fat: Quantity<'a>,
    #[serde(borrow, default)]
    pub total_carbohydrate: Quantity<'a>,
    #[serde(borrow, default)]
    pub total_fat: Quantity<'a>,
    #[serde(borrow, default)]
    pub nutrients: Vec<Nutrient<'a>>,
}

/// `foodMeasurementUnit`: a unit's names.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FoodUnit<'a> {
    #[serde(borrow, default)]
    pub display_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub plural_display_name: Option<Cow<'a, str>>,
}

/// `Serving`: how much of the food.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Serving<'a> {
    #[serde(default)]
    pub amount: Num,
    #[serde(borrow, default)]
    pub food_measurement_unit: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub food_measurement_unit_display_name: Option<Cow<'a, str>>,
}

impl Serving<'_> {
    /// Its unit's name and resource name, as the tables hold them.
    pub fn unit(&self) -> (Option<String>, Option<String>) {
        let text = |c: &Option<Cow<str>>| c.as_deref().map(str::to_string);
        (
            text(&self.food_measurement_unit_display_name),
            text(&self.food_measurement_unit),
        )
    }
}

/// `NutrientQuantity`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Nutrient<'a> {
    #[serde(borrow, default)]
    pub nutrient: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub quantity: Quantity<'a>,
}

/// `electrocardiogram`: a reading and its waveform.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ecg<'a> {
    pub interval: Option<Interval>,
    #[serde(default)]
    pub beats_per_minute_avg: Int,
    #[serde(default)]
    pub lead_number: Int,
    #[serde(default)]
    pub sampling_frequency_hertz: Int,
    #[serde(default)]
    pub millivolts_scaling_factor: Int,
    #[serde(borrow, default)]
    pub result_classification: Option<Cow<'a, str>>,
    #[serde(default)]
    pub waveform_samples: Vec<i64>,
    #[serde(default)]
    pub medical_device_info: DeviceInfo,
}

/// `MedicalDeviceInfo`: what took a reading.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeviceInfo {
    pub device_model: Option<String>,
    pub algorithm_version: Option<String>,
}

/// `irregularRhythmNotification`: its windows of heart beats.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Irn {
    pub interval: Option<Interval>,
    #[serde(default)]
    pub alert_windows: Vec<AlertWindow>,
    #[serde(default)]
    pub medical_device_info: DeviceInfo,
}

/// `AlertWindow`: a span of heart beats and whether it was irregular.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertWindow {
    pub start_time: Instant,
    pub end_time: Option<Instant>,
    pub start_utc_offset: Option<Offset>,
    pub end_utc_offset: Option<Offset>,
    #[serde(default)]
    pub positive: Option<bool>,
    #[serde(default)]
    pub heart_beats: Vec<HeartBeat>,
}

/// `HeartBeat`: the rate at one beat.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeartBeat {
    #[serde(default)]
    pub beats_per_minute: Int,
}

/// `runVo2Max`: a sample with the run's VO2 max.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunVo2Max {
    pub sample_time: SampleTime,
    #[serde(default)]
    pub run_vo2_max: Num,
}

/// One of `users.pairedDevices.list`. The field names are UNCONFIRMED (no live body is
/// public): the discovery document's "battery, type and so on", read tolerantly.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PairedDevice {
    pub name: Option<String>,
    #[serde(alias = "deviceId")]
    pub id: Option<String>,
    #[serde(alias = "productName", alias = "model")]
    pub display_name: Option<String>,
    #[serde(alias = "type", alias = "formFactor")]
    pub device_type: Option<String>,
    pub battery_level: Int,
    #[serde(alias = "battery")]
    pub battery_status: Option<String>,
    pub last_sync_time: Option<Instant>,
}

/// A data point or rollup point: its envelope, its time (rollups), and its value under
/// the data type's key. Keys of types without a table are skipped.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item<'a> {
    #[serde(borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub data_point_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub data_source: Option<Box<DataSource<'a>>>,
    pub civil_start_time: Option<Civil>,
    pub civil_end_time: Option<Civil>,
    pub start_time: Option<Instant>,
    pub end_time: Option<Instant>,
    pub steps: Option<Count>,
    pub floors: Option<Box<Count>>,
    pub distance: Option<Box<Distance>>,
    pub altitude: Option<Box<Altitude>>,
    pub basal_energy_burned: Option<Box<Basal>>,
    pub active_energy_burned: Option<Box<Basal>>,
    #[serde(borrow)]
    pub activity_level: Option<Box<LevelOfInterval<'a>>>,
    pub total_calories: Option<Box<Calories>>,
    pub heart_rate: Option<HeartRate>,
    pub daily_resting_heart_rate: Option<Box<Daily>>,
    pub daily_heart_rate_variability: Option<Box<Daily>>,
    pub daily_respiratory_rate: Option<Box<Daily>>,
    pub daily_sleep_temperature_derivations: Option<Box<Daily>>,
    pub daily_oxygen_saturation: Option<Box<Daily>>,
    pub daily_vo2_max: Option<Box<Daily>>,
    pub sedentary_period: Option<Box<Span>>,
    pub weight: Option<Box<Weight>>,
    #[serde(borrow)]
    pub active_minutes: Option<Box<ActiveMinutes<'a>>>,
    pub active_zone_minutes: Option<Box<ZoneMinutes>>,
    #[serde(borrow)]
    pub time_in_heart_rate_zone: Option<Box<ZoneTimes<'a>>>,
    #[serde(borrow)]
    pub calories_in_heart_rate_zone: Option<Box<ZoneCalories<'a>>>,
    #[serde(borrow)]
    pub sleep: Option<Box<Sleep<'a>>>,
    #[serde(borrow)]
    pub exercise: Option<Box<Exercise<'a>>>,
    pub heart_rate_variability: Option<Box<HrvSample>>,
    pub oxygen_saturation: Option<Box<Percentage>>,
    pub body_fat: Option<Box<Percentage>>,
    pub run_vo2_max: Option<Box<RunVo2Max>>,
    #[serde(borrow)]
    pub core_body_temperature: Option<Box<Temperature<'a>>>,
    #[serde(borrow)]
    pub blood_glucose: Option<Box<Glucose<'a>>>,
    #[serde(borrow)]
    pub vo2_max: Option<Box<Vo2Max<'a>>>,
    pub height: Option<Box<Height>>,
    pub respiratory_rate_sleep_summary: Option<Box<BreathingSleep>>,
    #[serde(borrow)]
    pub hydration_log: Option<Box<Hydration<'a>>>,
    #[serde(borrow)]
    pub nutrition_log: Option<Box<Nutrition<'a>>>,
    #[serde(borrow)]
    pub food: Option<Box<FoodEntry<'a>>>,
    #[serde(borrow)]
    pub food_measurement_unit: Option<Box<FoodUnit<'a>>>,
    #[serde(borrow)]
    pub electrocardiogram: Option<Box<Ecg<'a>>>,
    pub irregular_rhythm_notification: Option<Box<Irn>>,
    #[serde(borrow)]
    pub swim_lengths_data: Option<Box<SwimLength<'a>>>,
    #[serde(borrow)]
    pub daily_heart_rate_zones: Option<Box<DailyZones<'a>>>,
}

impl Item<'_> {
    /// A rollup point (it has a window of its own).
    pub fn is_rollup(&self) -> bool {
        self.civil_start_time.is_some() || self.start_time.is_some()
    }

    /// The id of an identifiable point: the last segment of its `name` (`dataPointName`
    /// in reconcile answers).
    pub fn id(&self) -> Option<&str> {
        self.resource_name()?.rsplit('/').next()
    }

    /// Its whole resource name: `name` (`dataPointName` in reconcile answers).
    pub fn resource_name(&self) -> Option<&str> {
        self.name.as_deref().or(self.data_point_name.as_deref())
    }
}

/// The API's error body.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApiError {
    pub message: Option<String>,
}

/// A page or a settings/identity answer: the fields fitpipe reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<'a> {
    #[serde(borrow)]
    pub data_points: Option<Vec<Item<'a>>>,
    #[serde(borrow)]
    pub rollup_data_points: Option<Vec<Item<'a>>>,
    pub next_page_token: Option<IgnoredAny>,
    pub health_user_id: Option<String>,
    pub legacy_user_id: Option<String>,
    pub time_zone: Option<String>,
    pub utc_offset: Option<Offset>,
    pub error: Option<ApiError>,
    pub paired_devices: Option<Vec<PairedDevice>>,
}

/// One answer of the Google Health API, as [`super::parse`] reads it.
#[derive(Debug, Clone)]
pub enum Document<'a> {
    /// A list, rollup or reconcile page, identity, settings or an error body.
    Page(Page<'a>),
    /// A bare array of points (as the reference's samples keep them).
    Points(Vec<Item<'a>>),
    /// One point (`dataPoints.get`).
    Point(Box<Item<'a>>),
    /// An object with no key fitpipe knows.
    Unknown(Vec<String>),
}

#[cfg(test)]
mod tests {
    // A page holds up to 5,000 points: the rare types are boxed so a point stays small.
    // The common ones (steps, heart rate) are inline, about 300 bytes with the envelope;
    // each boxed type adds a pointer, so the bound grows by 8 a type (41 boxed now: a
    // page of 5,000 heart-rate points is 2.8 MB of points at 560 bytes). A flattened
    // box of the rare types would keep it flat, but serde buffers every key of a
    // flattened struct, which the heart-rate pages cannot afford.
    #[test]
    fn a_point_is_small() {
        assert!(
            std::mem::size_of::<super::Item>() <= 560,
            "{}",
            std::mem::size_of::<super::Item>()
        );
    }
}

#[cfg(test)]
mod instant_tests {
    use super::*;

    // The positional reader agrees with chrono on what it takes and leaves the rest to it.
    #[test]
    fn the_fast_instant_reader_agrees_with_chrono() {
        for s in [
            "2026-05-18T09:35:00Z",
            "2026-05-18T09:35:00.5Z",
            "2026-05-18T09:35:00.123456789Z",
            "2024-02-29T23:59:59Z",
            "1999-12-31T00:00:00.000Z",
        ] {
            let want = DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
            assert_eq!(utc_z(s.as_bytes()), Some(want), "{s}");
        }
        for s in [
            "2026-05-18T09:35:00+02:00",
            "2026-02-30T09:35:00Z",
            "2026-05-18T25:35:00Z",
            "2026-05-18 09:35:00Z",
            "2026-05-18T09:35:00.Z",
            "2026-05-18T09:35:00.1234567890Z",
            "2026-o5-18T09:35:00Z",
        ] {
            assert_eq!(utc_z(s.as_bytes()), None, "{s}");
        }
        let parsed: Instant = serde_json::from_str("\"2026-05-18T11:35:00+02:00\"").unwrap();
        assert_eq!(parsed.0, utc_z(b"2026-05-18T09:35:00Z").unwrap());
    }
}
