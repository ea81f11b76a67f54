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
use fitpipe_catalog::Kind;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::fitbit::model::{Num, SleepLog};
use crate::fitbit::normalise::{activity_point, daily, sleep};
use crate::fitbit::Context;
use crate::fitbit::Units;
use crate::tables::{
    ActiveZoneMinutesDaily, ActivityIntraday, BreathingRateDaily, HeartRateIntraday, HeartRateZone,
    HrvDaily, RowSet, Spo2Daily, TableSpec, Vo2maxDaily, WeightLog,
};
use crate::time::SeriesClock;
use crate::TransformError;

mod scan;
use scan::{us_time, Columns};

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
    /// Google CSV `heart_rate_*.csv`: `timestamp,beats per minute` (UTC, `Z`).
    CsvHeartRate,
    /// Google CSV `steps_*.csv`: `timestamp,steps`.
    CsvSteps,
    /// Google CSV `calories_*.csv`: `timestamp,calories`.
    CsvCalories,
    /// Google CSV `distance_*.csv`: `timestamp,distance` in metres.
    CsvDistance,
    /// Google CSV `altitude_*.csv`: `timestamp,gain` in millimetres.
    CsvAltitude,
    /// Google CSV `floors_*.csv`: `timestamp,floors`.
    CsvFloors,
    /// `Daily Heart Rate Variability Summary - *.csv`: `timestamp,rmssd,nremhr,entropy` (local).
    HrvCsv,
    /// `Daily SpO2 - *.csv`: `timestamp,average_value,lower_bound,upper_bound`.
    Spo2Csv,
    /// `Daily Respiratory Rate Summary - *.csv`: `timestamp,daily_respiratory_rate` (local day).
    BrCsv,
    /// Google CSV `daily_respiratory_rate[_*].csv`: `timestamp,breaths per minute` (the
    /// timestamp's date is the local day).
    CsvBreathing,
    /// `Active Zone Minutes - *.csv`: `date_time,heart_zone_id,total_minutes`, one row per
    /// minute in a zone, local naive times; the minutes are the zone's credit (two a
    /// minute in cardio and peak).
    AzmCsv,
    /// Google CSV `active_zone_minutes_*.csv`: `timestamp,heart rate zone,total minutes`
    /// (UTC, `Z`; one file per UTC month).
    CsvAzm,
    /// `demographic_vo2_max-*.json`: the daily cardio fitness estimate (local dates).
    DemographicVo2,
    /// `run_vo2_max-*.json`: the estimate from a run (UTC time of the run).
    RunVo2,
    /// `weight-*.json`: weight logs in the account's unit (`date` + `time`, local).
    Weight,
    /// `exercise-N.json` (N = 0, 100, 200, ...): the activity log, up to 100 a file
    /// (`startTime` in UTC).
    Exercise,
}

/// How a family's files are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    /// `<prefix>-YYYY-MM-DD.json` (the legacy Fitbit export).
    Json(&'static str),
    /// `<prefix>-N.json` with N a number (`exercise-700.json`).
    Numbered(&'static str),
    /// `<prefix>_YYYY-MM-DD.csv` (Google's CSV streams).
    DatedCsv(&'static str),
    /// Any `.csv` whose name starts with this (`Daily SpO2 - 2023-01-01.csv`).
    CsvStarting(&'static str),
    /// `<stem>.csv` or `<stem>_<anything>.csv`.
    CsvStem(&'static str),
}

impl Name {
    fn matches(self, file_name: &str) -> bool {
        let dated = |stem: &str, prefix: &str, sep: u8| {
            stem.len() == prefix.len() + 11
                && stem.starts_with(prefix)
                && stem.as_bytes()[prefix.len()] == sep
                && NaiveDate::parse_from_str(&stem[prefix.len() + 1..], "%Y-%m-%d").is_ok()
        };
        match self {
            Name::Json(prefix) => file_name
                .strip_suffix(".json")
                .is_some_and(|s| dated(s, prefix, b'-')),
            Name::Numbered(prefix) => file_name
                .strip_suffix(".json")
                .and_then(|s| s.strip_prefix(prefix))
                .and_then(|s| s.strip_prefix('-'))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
            Name::DatedCsv(prefix) => file_name
                .strip_suffix(".csv")
                .is_some_and(|s| dated(s, prefix, b'_')),
            Name::CsvStarting(start) => file_name.ends_with(".csv") && file_name.starts_with(start),
            Name::CsvStem(stem) => file_name.strip_suffix(".csv").is_some_and(|s| {
                s == stem || s.strip_prefix(stem).is_some_and(|r| r.starts_with('_'))
            }),
        }
    }

    /// An example file name of the family (for help and tests).
    pub fn example(self) -> String {
        match self {
            Name::Json(p) => format!("{p}-2024-09-01.json"),
            Name::Numbered(p) => format!("{p}-700.json"),
            Name::DatedCsv(p) => format!("{p}_2024-09-01.csv"),
            Name::CsvStarting(p) => format!("{p} - 2024-09-01.csv"),
            Name::CsvStem(p) => format!("{p}.csv"),
        }
    }
}

/// A Takeout file family, declared once: how its files are named, whether its rows carry
/// a time of day (and so need the user's zone), the tables it fills, and for Google's CSV
/// streams the value column.
#[derive(Debug, Clone, Copy)]
pub struct FamilySpec {
    /// The family.
    pub family: Family,
    /// Its file names.
    pub name: Name,
    /// Its rows carry times of day, so the import needs the user's time zone.
    pub timed: bool,
    /// The tables it fills.
    pub tables: &'static [&'static str],
    /// The value column of a Google CSV stream.
    pub value_column: Option<&'static str>,
    /// The catalog's data type whose rows it holds (kind and name): its Takeout source.
    pub data_type: Option<(Kind, &'static str)>,
}

impl FamilySpec {
    /// The same family, holding rows of the catalog's data type `name` of `kind`.
    const fn of(self, kind: Kind, name: &'static str) -> FamilySpec {
        FamilySpec {
            data_type: Some((kind, name)),
            ..self
        }
    }
}

const fn fam(
    family: Family,
    name: Name,
    timed: bool,
    tables: &'static [&'static str],
) -> FamilySpec {
    FamilySpec {
        family,
        name,
        timed,
        tables,
        value_column: None,
        data_type: None,
    }
}

const fn csv_stream(
    family: Family,
    prefix: &'static str,
    column: &'static str,
    table: &'static [&'static str],
) -> FamilySpec {
    FamilySpec {
        family,
        name: Name::DatedCsv(prefix),
        timed: true,
        tables: table,
        value_column: Some(column),
        data_type: Some((Kind::Intraday, prefix)),
    }
}

const HR: &[&str] = &["heart_rate_intraday"];
const AI: &[&str] = &["activity_intraday"];
const DA: &[&str] = &["daily_activity"];

/// Every file family fitpipe reads, in the order names are tried (first match wins).
pub const FAMILIES: &[FamilySpec] = &[
    fam(Family::HeartRate, Name::Json("heart_rate"), true, HR).of(Kind::Intraday, "heart"),
    fam(Family::Steps, Name::Json("steps"), true, AI).of(Kind::Intraday, "steps"),
    fam(Family::Distance, Name::Json("distance"), true, AI).of(Kind::Intraday, "distance"),
    fam(Family::Calories, Name::Json("calories"), true, AI).of(Kind::Intraday, "calories"),
    fam(Family::Altitude, Name::Json("altitude"), true, AI).of(Kind::Intraday, "elevation"),
    fam(
        Family::RestingHeartRate,
        Name::Json("resting_heart_rate"),
        false,
        DA,
    )
    .of(Kind::Daily, "heart"),
    fam(
        Family::TimeInZones,
        Name::Json("time_in_heart_rate_zones"),
        false,
        &["heart_rate_zones"],
    )
    .of(Kind::Daily, "heart"),
    fam(
        Family::Sedentary,
        Name::Json("sedentary_minutes"),
        false,
        DA,
    )
    .of(Kind::Daily, "sedentary"),
    fam(
        Family::LightlyActive,
        Name::Json("lightly_active_minutes"),
        false,
        DA,
    )
    .of(Kind::Daily, "lightly-active"),
    fam(
        Family::ModeratelyActive,
        Name::Json("moderately_active_minutes"),
        false,
        DA,
    )
    .of(Kind::Daily, "fairly-active"),
    fam(
        Family::VeryActive,
        Name::Json("very_active_minutes"),
        false,
        DA,
    )
    .of(Kind::Daily, "very-active"),
    fam(
        Family::Sleep,
        Name::Json("sleep"),
        true,
        &["sleep_sessions", "sleep_stages"],
    )
    .of(Kind::Daily, "sleep"),
    fam(
        Family::DemographicVo2,
        Name::Json("demographic_vo2_max"),
        false,
        &["vo2max_daily"],
    )
    .of(Kind::Daily, "vo2max"),
    fam(
        Family::RunVo2,
        Name::Json("run_vo2_max"),
        true,
        &["vo2max_daily"],
    )
    .of(Kind::Daily, "vo2max"),
    fam(Family::Weight, Name::Json("weight"), true, &["weight_log"]).of(Kind::Daily, "weight"),
    fam(
        Family::Exercise,
        Name::Numbered("exercise"),
        true,
        &["exercise_sessions"],
    )
    .of(Kind::Daily, "exercise"),
    csv_stream(Family::CsvHeartRate, "heart_rate", "beats per minute", HR)
        .of(Kind::Intraday, "heart"),
    csv_stream(Family::CsvSteps, "steps", "steps", AI),
    csv_stream(Family::CsvCalories, "calories", "calories", AI),
    csv_stream(Family::CsvDistance, "distance", "distance", AI),
    csv_stream(Family::CsvAltitude, "altitude", "gain", AI).of(Kind::Intraday, "elevation"),
    csv_stream(Family::CsvFloors, "floors", "floors", AI),
    fam(
        Family::HrvCsv,
        Name::CsvStarting("Daily Heart Rate Variability Summary"),
        false,
        &["hrv_daily"],
    )
    .of(Kind::Daily, "hrv"),
    fam(
        Family::Spo2Csv,
        Name::CsvStarting("Daily SpO2"),
        false,
        &["spo2_daily"],
    )
    .of(Kind::Daily, "spo2"),
    fam(
        Family::BrCsv,
        Name::CsvStarting("Daily Respiratory Rate Summary"),
        false,
        &["breathing_rate_daily"],
    )
    .of(Kind::Daily, "breathing-rate"),
    fam(
        Family::AzmCsv,
        Name::CsvStarting("Active Zone Minutes"),
        false,
        &["active_zone_minutes_daily"],
    )
    .of(Kind::Daily, "active-zone-minutes"),
    fam(
        Family::CsvBreathing,
        Name::CsvStem("daily_respiratory_rate"),
        false,
        &["breathing_rate_daily"],
    )
    .of(Kind::Daily, "breathing-rate"),
    fam(
        Family::CsvAzm,
        Name::CsvStem("active_zone_minutes"),
        true,
        &["active_zone_minutes_daily"],
    )
    .of(Kind::Daily, "active-zone-minutes"),
];

impl Family {
    /// The family of a file name such as `heart_rate-2017-07-10.json` (legacy JSON) or
    /// `steps_2024-09-01.csv` (Google CSV), from [`FAMILIES`].
    pub fn of(file_name: &str) -> Option<Family> {
        FAMILIES
            .iter()
            .find(|f| f.name.matches(file_name))
            .map(|f| f.family)
    }

    /// The family's declaration.
    pub fn spec(self) -> &'static FamilySpec {
        FAMILIES
            .iter()
            .find(|f| f.family == self)
            .expect("every family is declared in FAMILIES")
    }

    /// Whether the family's rows carry a time of day (and so need the user's zone).
    pub fn needs_timezone(self) -> bool {
        self.spec().timed
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
                us_time(v)
                    .map(UsTime)
                    .ok_or_else(|| E::custom(format!("expected `MM/DD/YY HH:MM:SS`, found {v:?}")))
            }
        }
        d.deserialize_str(V)
    }
}

/// The points of a steps, distance, calories or altitude file: the scanner, else serde.
fn points(b: &[u8]) -> Result<Columns, TransformError> {
    match scan::points(b) {
        Some(c) => Ok(c),
        None => Ok(Columns::of_rows(
            crate::from_json::<Vec<Point<Num>>>(b)?
                .iter()
                .map(|p| (p.date_time.0, p.value.0, None)),
            false,
        )),
    }
}

/// The records of a heart-rate file: the scanner for its fixed record layout, with serde
/// (and its error paths) for anything the scanner does not recognise.
fn heart_points(b: &[u8]) -> Result<Columns, TransformError> {
    match scan::heart_rate(b) {
        Some(c) => Ok(c),
        None => Ok(Columns::of_rows(
            crate::from_json::<Vec<Point<Bpm>>>(b)?.iter().map(|p| {
                (
                    p.date_time.0,
                    p.value.bpm.0,
                    p.value.confidence.map(|c| c.0),
                )
            }),
            true,
        )),
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
struct DemographicVo2 {
    demographic_v_o2_max: Option<Num>,
    demographic_v_o2_max_error: Option<Num>,
    filtered_demographic_v_o2_max: Option<Num>,
    filtered_demographic_v_o2_max_error: Option<Num>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunVo2 {
    run_v_o2_max: Option<Num>,
    run_v_o2_max_error: Option<Num>,
    filtered_run_v_o2_max: Option<Num>,
    filtered_run_v_o2_max_error: Option<Num>,
}

/// An activity log record of `exercise-N.json` (export2018_exercise-700.one-record.json).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TakeoutExercise {
    log_id: u64,
    activity_name: Option<String>,
    start_time: UsTime,
    duration: Option<Num>,
    active_duration: Option<Num>,
    calories: Option<Num>,
    steps: Option<Num>,
    distance: Option<Num>,
    distance_unit: Option<String>,
    average_heart_rate: Option<Num>,
    has_gps: Option<bool>,
    log_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WeightEntry {
    log_id: u64,
    weight: Num,
    bmi: Option<Num>,
    fat: Option<Num>,
    date: String,
    time: Option<String>,
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Zones {
    values_in_zones: std::collections::BTreeMap<String, Num>,
}

fn source() -> Arc<str> {
    // One per thread: threads normalising side by side do not contend for one count.
    thread_local! {
        static S: Arc<str> = Arc::from(SOURCE);
    }
    S.with(Arc::clone)
}

/// Fitbit's filtered (smoothed) estimate where present, else the raw one.
fn filtered_first(
    filtered: (Option<Num>, Option<Num>),
    raw: (Option<Num>, Option<Num>),
) -> (Option<Num>, Option<Num>) {
    if filtered.0.is_some() {
        filtered
    } else {
        raw
    }
}

fn vo2_row(
    uid: &Arc<str>,
    src: &Arc<str>,
    date: NaiveDate,
    est: Option<Num>,
    err: Option<Num>,
) -> Vo2maxDaily {
    Vo2maxDaily {
        user_id: uid.clone(),
        source: src.clone(),
        date,
        vo2max: est.map(|n| n.0),
        vo2max_low: None,
        vo2max_high: None,
        vo2max_error: err.map(|n| n.0),
        cardio_fitness_level: None,
        estimated: None,
    }
}

fn whole(v: Num, what: impl FnOnce() -> String) -> Result<i64, TransformError> {
    if v.0.fract() == 0.0 {
        Ok(v.0 as i64)
    } else {
        Err(TransformError::Value {
            path: what(),
            message: format!("expected a whole number, found {}", v.0),
        })
    }
}

/// Like [`normalise`], as one Arrow batch per table. Heart rate, by far the largest
/// family, goes straight from the scanner into Arrow columns, without row structs.
pub fn normalise_batches(
    family: Family,
    bytes: &[u8],
    ctx: &Context,
) -> Result<Vec<(&'static TableSpec, arrow::record_batch::RecordBatch)>, TransformError> {
    let fast = matches!(
        family,
        Family::HeartRate | Family::Steps | Family::Distance | Family::Altitude | Family::Calories
    );
    if fast {
        let tz = ctx.tz.ok_or(TransformError::NeedTimezone {
            what: "archive times of day",
        })?;
        if family == Family::HeartRate {
            let cols = heart_points(bytes)?;
            return Ok(vec![(&HeartRateIntraday::SPEC, heart_batch(cols, tz, ctx))]);
        }
        let cols = points(bytes)?;
        // Steps must be whole; anything else takes the rows path, which names the value.
        if family != Family::Steps || cols.value.iter().all(|v| v.fract() == 0.0) {
            return Ok(vec![(
                &ActivityIntraday::SPEC,
                activity_batch(family, cols, tz, ctx),
            )]);
        }
    }
    Ok(normalise(family, bytes, ctx)?.batches())
}

/// Local wall-clock microseconds of UTC microseconds: offsets change only at transitions,
/// which fall on whole quarter hours, so there is one zone lookup per quarter hour.
fn local_micros(utc: &[i64], tz: chrono_tz::Tz) -> Vec<i64> {
    let mut cache: Option<(i64, i64)> = None;
    utc.iter()
        .map(|&t| {
            let quarter = t.div_euclid(900_000_000);
            let off = match cache {
                Some((q, o)) if q == quarter => o,
                _ => {
                    let at = DateTime::from_timestamp_micros(t).unwrap_or_default();
                    let o = chrono::Offset::fix(&chrono::TimeZone::offset_from_utc_datetime(
                        &tz,
                        &at.naive_utc(),
                    ))
                    .local_minus_utc() as i64
                        * 1_000_000;
                    cache = Some((quarter, o));
                    o
                }
            };
            t + off
        })
        .collect()
}

/// The `activity_intraday` batch of a steps, distance, altitude (UTC stamps) or calories
/// (local stamps) file's points; one measure column filled, the others null.
fn activity_batch(
    family: Family,
    points: Columns,
    tz: chrono_tz::Tz,
    ctx: &Context,
) -> arrow::record_batch::RecordBatch {
    use arrow::array::TimestampMicrosecondArray as Ts;
    use arrow::array::{new_null_array, ArrayRef, Float64Array, Int64Array};
    let n = points.at.len();
    let (utc, local): (Vec<i64>, Vec<i64>) = if family == Family::Calories {
        let mut clock = SeriesClock::new(tz);
        let utc = points
            .rows()
            .map(|(at, _, _)| clock.to_utc(at).timestamp_micros())
            .collect();
        (utc, points.at)
    } else {
        let local = local_micros(&points.at, tz);
        (points.at, local)
    };
    let values = || points.value.iter().copied();
    let float = |f: fn(f64) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(values().map(f)))
    };
    let null_f = || new_null_array(&arrow::datatypes::DataType::Float64, n);
    let null_i = || new_null_array(&arrow::datatypes::DataType::Int64, n);
    let (steps, calories, distance, elevation) = match family {
        Family::Steps => (
            Arc::new(Int64Array::from_iter_values(values().map(|v| v as i64))) as ArrayRef,
            null_f(),
            null_f(),
            null_f(),
        ),
        Family::Calories => (null_i(), float(|v| v), null_f(), null_f()),
        // Centimetres (reference/takeout.md §1.2), as the rows path converts them.
        Family::Distance => (null_i(), null_f(), float(|v| v / 100_000.0), null_f()),
        _ => (null_i(), null_f(), null_f(), float(|v| v * 0.3048)),
    };
    let [user, source] = id_columns(ctx, n);
    let columns: Vec<ArrayRef> = vec![
        user,
        source,
        Arc::new(Ts::from(utc).with_timezone("UTC")),
        Arc::new(Ts::from(local)),
        steps,
        calories,
        distance,
        null_i(),
        elevation,
        null_i(),
        null_f(),
        Arc::new(Int64Array::from_iter_values(std::iter::repeat_n(60, n))),
    ];
    arrow::record_batch::RecordBatch::try_new(ActivityIntraday::SPEC.schema(), columns)
        .expect("columns follow the declared schema")
}

/// The `user_id` and `source` columns of `n` rows.
fn id_columns(ctx: &Context, n: usize) -> [arrow::array::ArrayRef; 2] {
    [repeated(&ctx.user_id, n), repeated(SOURCE, n)]
}

/// A string column holding `value` in each of `n` rows, built whole: the bytes repeated
/// and evenly spaced offsets, not a value pushed at a time.
fn repeated(value: &str, n: usize) -> arrow::array::ArrayRef {
    use arrow::array::StringArray;
    use arrow::buffer::{Buffer, OffsetBuffer, ScalarBuffer};
    let len = value.len();
    // An archive file is at most 128 MiB, so its rows' ids stay far below 2^31 bytes.
    let offsets: ScalarBuffer<i32> = (0..=n).map(|i| (i * len) as i32).collect();
    // `new` checks the offsets against the bytes.
    Arc::new(StringArray::new(
        OffsetBuffer::new(offsets),
        Buffer::from(value.repeat(n).into_bytes()),
        None,
    ))
}

/// The `heart_rate_intraday` batch of a heart-rate file's records (UTC stamps).
fn heart_batch(
    cols: Columns,
    tz: chrono_tz::Tz,
    ctx: &Context,
) -> arrow::record_batch::RecordBatch {
    use arrow::array::{ArrayRef, Float64Array, Int64Array, TimestampMicrosecondArray};
    use arrow::buffer::{NullBuffer, ScalarBuffer};
    let n = cols.at.len();
    let local = local_micros(&cols.at, tz);
    let [user, source] = id_columns(ctx, n);
    let nulls = (!cols.missing.is_empty()).then(|| {
        let mut valid = arrow::array::BooleanBufferBuilder::new(n);
        valid.append_n(n, true);
        for &i in &cols.missing {
            valid.set_bit(i, false);
        }
        NullBuffer::new(valid.finish())
    });
    let columns: Vec<ArrayRef> = vec![
        user,
        source,
        Arc::new(TimestampMicrosecondArray::from(cols.at.clone()).with_timezone("UTC")),
        Arc::new(TimestampMicrosecondArray::from(local)),
        Arc::new(Float64Array::from(cols.value.clone())),
        Arc::new(Float64Array::new(
            ScalarBuffer::from(cols.confidence.clone()),
            nulls,
        )),
        Arc::new(Int64Array::from_iter_values(std::iter::repeat_n(1, n))),
    ];
    arrow::record_batch::RecordBatch::try_new(HeartRateIntraday::SPEC.schema(), columns)
        .expect("columns follow the declared schema")
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
            let cols = heart_points(bytes)?;
            out.heart_rate_intraday.reserve(cols.at.len());
            for (at, bpm, confidence) in cols.rows() {
                let t = at.and_utc();
                out.heart_rate_intraday.push(HeartRateIntraday {
                    user_id: uid.clone(),
                    source: src.clone(),
                    time_utc: t,
                    time_local: local_of(t),
                    bpm: Some(bpm),
                    confidence,
                    interval_seconds: Some(1),
                });
            }
        }
        Family::Steps | Family::Distance | Family::Altitude => {
            let cols = points(bytes)?;
            out.activity_intraday.reserve(cols.at.len());
            for (i, (at, value, _)) in cols.rows().enumerate() {
                let t = at.and_utc();
                let mut row = activity_point(uid, &src, t, local_of(t), 60);
                match family {
                    Family::Steps => {
                        row.steps = Some(whole(Num(value), || format!("[{i}].value"))?)
                    }
                    // Centimetres (reference/takeout.md §1.2).
                    Family::Distance => row.distance_km = Some(value / 100_000.0),
                    _ => row.elevation_m = Some(value * 0.3048),
                }
                out.activity_intraday.push(row);
            }
        }
        Family::Calories => {
            let mut clock = SeriesClock::new(tz.expect("needs_timezone"));
            let cols = points(bytes)?;
            out.activity_intraday.reserve(cols.at.len());
            for (at, kcal, _) in cols.rows() {
                let mut row = activity_point(uid, &src, clock.to_utc(at), Some(at), 60);
                row.calories_kcal = Some(kcal);
                out.activity_intraday.push(row);
            }
        }
        Family::RestingHeartRate => {
            for p in crate::from_json::<Vec<Point<Resting>>>(bytes)? {
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
            for (i, p) in crate::from_json::<Vec<Point<Zones>>>(bytes)?
                .into_iter()
                .enumerate()
            {
                for (zone, minutes) in p.value.values_in_zones {
                    let path = format!("[{i}].value.valuesInZones.{zone}");
                    out.heart_rate_zones.push(HeartRateZone {
                        user_id: uid.clone(),
                        source: src.clone(),
                        date: p.date_time.0.date(),
                        zone: zone.as_str().into(),
                        min_bpm: None,
                        max_bpm: None,
                        minutes: Some(whole(minutes, || path.clone())?),
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
            let mut points = crate::from_json::<Vec<Point<Num>>>(bytes)?;
            // The files are padded into the future with placeholder days (1440 sedentary
            // minutes, 0 for the others): a trailing run of them is not data.
            let pad = if family == Family::Sedentary {
                1440.0
            } else {
                0.0
            };
            while points.last().is_some_and(|p| p.value.0 == pad) {
                points.pop();
            }
            for (i, p) in points.into_iter().enumerate() {
                let v = Some(whole(p.value, || format!("[{i}].value"))?);
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
            for (i, log) in crate::from_json::<Vec<SleepLog>>(bytes)?.iter().enumerate() {
                sleep(log, i, ctx, &src, &mut out)?;
            }
        }
        Family::DemographicVo2 => {
            for p in crate::from_json::<Vec<Point<DemographicVo2>>>(bytes)? {
                let v = &p.value;
                let (est, err) = filtered_first(
                    (
                        v.filtered_demographic_v_o2_max,
                        v.filtered_demographic_v_o2_max_error,
                    ),
                    (v.demographic_v_o2_max, v.demographic_v_o2_max_error),
                );
                out.vo2max_daily
                    .push(vo2_row(uid, &src, p.date_time.0.date(), est, err));
            }
        }
        Family::RunVo2 => {
            let zone = tz.expect("needs_timezone");
            for p in crate::from_json::<Vec<Point<RunVo2>>>(bytes)? {
                let v = &p.value;
                let (est, err) = filtered_first(
                    (v.filtered_run_v_o2_max, v.filtered_run_v_o2_max_error),
                    (v.run_v_o2_max, v.run_v_o2_max_error),
                );
                let date = p.date_time.0.and_utc().with_timezone(&zone).date_naive();
                out.vo2max_daily.push(vo2_row(uid, &src, date, est, err));
            }
        }
        Family::Exercise => {
            // `startTime` is UTC (takeout.md: verified against heart rate); the session's
            // wall clock and local day come from the user's zone.
            let zone = tz.expect("needs_timezone");
            for (i, e) in crate::from_json::<Vec<TakeoutExercise>>(bytes)?
                .into_iter()
                .enumerate()
            {
                let start = e.start_time.0.and_utc().with_timezone(&zone).fixed_offset();
                let log = crate::fitbit::model::ActivityLog {
                    log_id: e.log_id,
                    activity_name: e.activity_name,
                    start_time: start,
                    duration: e.duration,
                    active_duration: e.active_duration,
                    calories: e.calories,
                    steps: e.steps,
                    distance: e.distance,
                    distance_unit: e.distance_unit,
                    average_heart_rate: e.average_heart_rate,
                    active_zone_minutes: None,
                    has_gps: e.has_gps,
                    log_type: e.log_type,
                };
                let mut row = crate::fitbit::normalise::exercise(&log, ctx, 1.0, || {
                    format!("exercise[{i}]")
                })?;
                row.source = src.clone();
                out.exercise_sessions.push(row);
            }
        }
        Family::Weight => {
            // The archive keeps the account's unit; the caller says which (never guessed).
            let kg_per_unit = match ctx.units {
                Units::Us => 0.453_592_37,
                Units::Metric => 1.0,
            };
            let mut clock = SeriesClock::new(tz.expect("needs_timezone"));
            for (i, w) in crate::from_json::<Vec<WeightEntry>>(bytes)?
                .into_iter()
                .enumerate()
            {
                let stamp = format!("{} {}", w.date, w.time.as_deref().unwrap_or("00:00:00"));
                let local = us_time(&stamp).ok_or_else(|| TransformError::Value {
                    path: format!("[{i}].date"),
                    message: format!("expected `MM/DD/YY` and `HH:MM:SS`, found {stamp:?}"),
                })?;
                out.weight_log.push(WeightLog {
                    user_id: uid.clone(),
                    source: src.clone(),
                    log_id: w.log_id.to_string().into(),
                    date: local.date(),
                    time_local: Some(local),
                    time_utc: Some(clock.to_utc(local)),
                    weight_kg: Some(w.weight.0 * kg_per_unit),
                    bmi: w.bmi.map(|n| n.0),
                    fat_percent: w.fat.map(|n| n.0),
                    log_source: w.source,
                });
            }
        }
        Family::HrvCsv | Family::Spo2Csv | Family::BrCsv | Family::CsvBreathing => {
            daily_csv(family, bytes, ctx, &src, &mut out)?
        }
        Family::AzmCsv | Family::CsvAzm => azm_csv(family, bytes, ctx, &src, &mut out)?,
        _ => csv(family, bytes, ctx, &src, &mut out)?,
    }
    Ok(out)
}

/// CSV records with the line each starts on.
type CsvRecords = Vec<(usize, csv::StringRecord)>;

/// A CSV file's header (trimmed, lower case) and its records with their line numbers (the
/// header is line 1), read by the `csv` crate: quoted fields may hold commas and quotes,
/// and a UTF-8 byte-order mark before the header is dropped.
fn csv_table(bytes: &[u8]) -> Result<(Vec<String>, CsvRecords), TransformError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let bad = |e: csv::Error| TransformError::Value {
        path: e
            .position()
            .map_or("the CSV file".into(), |p| format!("line {}", p.line())),
        message: match e.kind() {
            csv::ErrorKind::Utf8 { .. } => "the CSV file is not UTF-8".into(),
            _ => e.to_string(),
        },
    };
    let header = r
        .headers()
        .map_err(bad)?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(bad)?;
        if rec.iter().all(str::is_empty) {
            continue;
        }
        let line = rec.position().map_or(0, |p| p.line() as usize);
        rows.push((line, rec));
    }
    Ok((header, rows))
}

/// A record as the line it came from, for messages.
fn line_of(rec: &csv::StringRecord) -> String {
    rec.iter().collect::<Vec<_>>().join(",")
}

/// The daily HRV and SpO2 summaries: `timestamp` holds the local day (`2024-07-21T00:00:00`).
fn daily_csv(
    family: Family,
    bytes: &[u8],
    ctx: &Context,
    src: &Arc<str>,
    out: &mut RowSet,
) -> Result<(), TransformError> {
    let (header, lines) = csv_table(bytes)?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let Some(ti) = col("timestamp") else {
        return Err(TransformError::Value {
            path: "header".into(),
            message: format!("no `timestamp` column in `{}`", header.join(",")),
        });
    };
    for (n, rec) in lines {
        let line = line_of(&rec);
        let cells: Vec<&str> = rec.iter().collect();
        let at = |m: String| TransformError::Value {
            path: format!("line {n}"),
            message: m,
        };
        let day = cells
            .get(ti)
            .and_then(|c| c.get(..10))
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or_else(|| at(format!("bad timestamp in `{line}`")))?;
        let num = |name: &str| -> Result<Option<f64>, TransformError> {
            match col(name).and_then(|i| cells.get(i)) {
                None | Some(&"") => Ok(None),
                Some(c) => c
                    .parse()
                    .map(Some)
                    .map_err(|_| at(format!("`{name}` is not a number in `{line}`"))),
            }
        };
        if family == Family::BrCsv || family == Family::CsvBreathing {
            let v = num(if family == Family::BrCsv {
                "daily_respiratory_rate"
            } else {
                "breaths per minute"
            })?;
            if v.is_some() {
                out.breathing_rate_daily.push(BreathingRateDaily {
                    user_id: ctx.user_id.clone(),
                    source: src.clone(),
                    date: day,
                    breaths_per_minute: v,
                });
            }
            continue;
        }
        if family == Family::HrvCsv {
            out.hrv_daily.push(HrvDaily {
                user_id: ctx.user_id.clone(),
                source: src.clone(),
                date: day,
                rmssd_ms: num("rmssd")?,
                deep_rmssd_ms: None,
                nrem_heart_rate_bpm: num("nremhr")?,
                entropy: num("entropy")?,
            });
        } else {
            out.spo2_daily.push(Spo2Daily {
                user_id: ctx.user_id.clone(),
                source: src.clone(),
                date: day,
                avg_percent: num("average_value")?,
                min_percent: num("lower_bound")?,
                max_percent: num("upper_bound")?,
            });
        }
    }
    Ok(())
}

/// Active zone minutes, one row per minute in a zone, summed per local day and zone.
/// The legacy file stamps local times; the Google CSV stream UTC with a `Z` (local days
/// then come from the zone). A day a file holds only part of (a Google file ends at a UTC
/// month) gets that part; the next file's part of it replaces it (docs/schema.md).
fn azm_csv(
    family: Family,
    bytes: &[u8],
    ctx: &Context,
    src: &Arc<str>,
    out: &mut RowSet,
) -> Result<(), TransformError> {
    let (header, lines) = csv_table(bytes)?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let legacy = family == Family::AzmCsv;
    let names = if legacy {
        ("date_time", "heart_zone_id", "total_minutes")
    } else {
        ("timestamp", "heart rate zone", "total minutes")
    };
    let (Some(ti), Some(zi), Some(mi)) = (col(names.0), col(names.1), col(names.2)) else {
        return Err(TransformError::Value {
            path: "header".into(),
            message: format!(
                "expected columns `{}`, `{}` and `{}`, found `{}`",
                names.0,
                names.1,
                names.2,
                header.join(",")
            ),
        });
    };
    let tz = if legacy {
        None
    } else {
        Some(ctx.tz.ok_or(TransformError::NeedTimezone {
            what: "archive times of day",
        })?)
    };
    let mut days: std::collections::BTreeMap<NaiveDate, [i64; 3]> = Default::default();
    for (n, rec) in lines {
        let at = |m: String| TransformError::Value {
            path: format!("line {n}"),
            message: m,
        };
        let stamp = rec.get(ti).unwrap_or("");
        let day = match tz {
            None => stamp
                .get(..10)
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
            Some(tz) => DateTime::parse_from_rfc3339(stamp)
                .ok()
                .map(|t| t.with_timezone(&tz).date_naive()),
        }
        .ok_or_else(|| at(format!("bad time in `{}`", line_of(&rec))))?;
        let zone = match rec
            .get(zi)
            .unwrap_or("")
            .to_ascii_lowercase()
            .replace(['_', ' '], "")
            .as_str()
        {
            "fatburn" => 0,
            "cardio" => 1,
            "peak" => 2,
            other => return Err(at(format!("unknown heart-rate zone `{other}`"))),
        };
        let minutes: i64 = rec
            .get(mi)
            .and_then(|m| m.parse::<f64>().ok())
            .map(|m| m.round() as i64)
            .ok_or_else(|| at(format!("bad minutes in `{}`", line_of(&rec))))?;
        days.entry(day).or_default()[zone] += minutes;
    }
    for (date, [fat, cardio, peak]) in days {
        out.active_zone_minutes_daily.push(ActiveZoneMinutesDaily {
            user_id: ctx.user_id.clone(),
            source: src.clone(),
            date,
            active_zone_minutes: Some(fat + cardio + peak),
            fat_burn_active_zone_minutes: Some(fat),
            cardio_active_zone_minutes: Some(cardio),
            peak_active_zone_minutes: Some(peak),
        });
    }
    Ok(())
}

/// A Google CSV stream: `timestamp,<value>[,data source]`, timestamps UTC with `Z`.
/// Several devices can report the same instant (`data source`); the last row read wins.
fn csv(
    family: Family,
    bytes: &[u8],
    ctx: &Context,
    src: &Arc<str>,
    out: &mut RowSet,
) -> Result<(), TransformError> {
    let want = family.spec().value_column.unwrap_or("");
    let (header, lines) = csv_table(bytes)?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(ti), Some(vi)) = (col("timestamp"), col(want)) else {
        return Err(TransformError::Value {
            path: "header".into(),
            message: format!(
                "expected columns `timestamp` and `{want}`, found `{}`",
                header.join(",")
            ),
        });
    };
    let tz = ctx.tz.ok_or(TransformError::NeedTimezone {
        what: "archive times of day",
    })?;
    for (n, rec) in lines {
        let line = line_of(&rec);
        let cells: Vec<&str> = rec.iter().collect();
        let at = |m: String| TransformError::Value {
            path: format!("line {n}"),
            message: m,
        };
        let t = cells
            .get(ti)
            .and_then(|c| DateTime::parse_from_rfc3339(c.trim()).ok())
            .ok_or_else(|| at(format!("bad timestamp in `{line}`")))?
            .with_timezone(&Utc);
        let v: f64 = cells
            .get(vi)
            .and_then(|c| c.trim().parse().ok())
            .ok_or_else(|| at(format!("bad value in `{line}`")))?;
        let local = Some(t.with_timezone(&tz).naive_local());
        if family == Family::CsvHeartRate {
            out.heart_rate_intraday.push(HeartRateIntraday {
                user_id: ctx.user_id.clone(),
                source: src.clone(),
                time_utc: t,
                time_local: local,
                bpm: Some(v),
                confidence: None,
                interval_seconds: None,
            });
            continue;
        }
        let mut row = activity_point(&ctx.user_id, src, t, local, 60);
        match family {
            Family::CsvSteps => row.steps = Some(v.round() as i64),
            Family::CsvCalories => row.calories_kcal = Some(v),
            Family::CsvDistance => row.distance_km = Some(v / 1000.0),
            Family::CsvAltitude => row.elevation_m = Some(v / 1000.0),
            _ => row.floors = Some(v.round() as i64),
        }
        out.activity_intraday.push(row);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every family is declared exactly once, its example name is recognised as itself,
    // and it fills tables the contract has.
    #[test]
    fn every_family_holds_rows_of_a_catalog_type() {
        // Each family names the data type it is a Takeout source of, and fills only
        // tables that type fills.
        for f in FAMILIES {
            let (kind, name) = f
                .data_type
                .unwrap_or_else(|| panic!("{:?} names no data type", f.family));
            let t = fitpipe_catalog::get(kind, name)
                .unwrap_or_else(|| panic!("{:?}: no {kind:?} type `{name}`", f.family));
            for table in f.tables {
                assert!(
                    t.tables.contains(table),
                    "{:?} fills `{table}`, which `{name}` does not",
                    f.family
                );
            }
        }
    }

    #[test]
    fn every_family_is_declared_once() {
        // An exhaustive match: a new variant fails to compile here until it is listed.
        let listed = |f: Family| match f {
            Family::HeartRate
            | Family::Steps
            | Family::Distance
            | Family::Calories
            | Family::Altitude
            | Family::RestingHeartRate
            | Family::TimeInZones
            | Family::Sedentary
            | Family::LightlyActive
            | Family::ModeratelyActive
            | Family::VeryActive
            | Family::Sleep
            | Family::CsvHeartRate
            | Family::CsvSteps
            | Family::CsvCalories
            | Family::CsvDistance
            | Family::CsvAltitude
            | Family::CsvFloors
            | Family::HrvCsv
            | Family::Spo2Csv
            | Family::BrCsv
            | Family::CsvBreathing
            | Family::AzmCsv
            | Family::CsvAzm
            | Family::DemographicVo2
            | Family::RunVo2
            | Family::Weight
            | Family::Exercise => 28,
        };
        assert_eq!(FAMILIES.len(), listed(Family::Weight));
        let names: Vec<&str> = crate::tables::ALL_TABLES.iter().map(|t| t.name).collect();
        for (i, f) in FAMILIES.iter().enumerate() {
            assert!(
                FAMILIES[..i].iter().all(|g| g.family != f.family),
                "{:?} declared twice",
                f.family
            );
            assert_eq!(
                Family::of(&f.name.example()),
                Some(f.family),
                "{:?}",
                f.name
            );
            for t in f.tables {
                assert!(names.contains(t), "{:?} fills unknown table {t}", f.family);
            }
            assert_eq!(
                f.value_column.is_some(),
                matches!(f.name, Name::DatedCsv(_)),
                "{:?}",
                f.family
            );
        }
    }

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
        assert_eq!(Family::of("exercise-700.json"), Some(Family::Exercise));
        assert_eq!(Family::of("exercise-.json"), None);
        assert_eq!(Family::of("exercise-7a.json"), None);
        assert_eq!(Family::of("food_logs-2018-04-01.json"), None);
        assert_eq!(Family::of("steps-2018-4-1.json"), None);
        assert_eq!(
            Family::of("heart_rate_2024-09-26.csv"),
            Some(Family::CsvHeartRate)
        );
        assert_eq!(Family::of("steps_2024-09-01.csv"), Some(Family::CsvSteps));
        assert_eq!(Family::of("active_minutes_2023-07-01.csv"), None);
    }

    #[test]
    fn heart_rate_scanner_agrees_with_serde_and_refuses_what_it_does_not_know() {
        let good = br#"[{
  "dateTime" : "07/09/17 14:00:04",
  "value" : {
    "bpm" : 61,
    "confidence" : 3
  }
},{"dateTime":"07/09/17 14:00:09","value":{"bpm":60.5}}]"#;
        let fast: Vec<_> = scan::heart_rate(good).unwrap().rows().collect();
        let slow: Vec<Point<Bpm>> = crate::from_json(good).unwrap();
        assert_eq!(fast.len(), 2);
        for (f, s) in fast.iter().zip(&slow) {
            assert_eq!(
                (f.0, f.1, f.2),
                (
                    s.date_time.0,
                    s.value.bpm.0,
                    s.value.confidence.map(|c| c.0)
                )
            );
        }
        assert_eq!(scan::heart_rate(b" [ ] "), Some(Columns::default()));
        for bad in [
            &br#"[{"dateTime" : "07/09/17 14:00:04", "value" : {"bpm" : 61, "confidence" : 3}},{"dateTime" : "07/09"#[..],
            br#"[{"value" : {"bpm" : 61}, "dateTime" : "07/09/17 14:00:04"}]"#,
            br#"[{"dateTime" : "07/09/17 14:00:04", "value" : {"bpm" : 61}}] trailing"#,
            br#"[{"dateTime" : "2017-07-09 14:00", "value" : {"bpm" : 61}}]"#,
        ] {
            assert!(scan::heart_rate(bad).is_none(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn heart_rate_batches_equal_the_rows_path_across_a_dst_change() {
        // 2017-03-12 07:00Z is the New York spring-forward change: offsets -5 h, then -4 h.
        let body = br#"[{"dateTime":"03/12/17 06:59:55","value":{"bpm":61,"confidence":3}},
            {"dateTime":"03/12/17 07:00:05","value":{"bpm":62}},
            {"dateTime":"03/12/17 07:14:59","value":{"bpm":63,"confidence":1}}]"#;
        let ctx = Context {
            user_id: "U".into(),
            tz: Some("America/New_York".parse().unwrap()),
            fetched_utc: None,
            units: Units::Metric,
        };
        let fast = normalise_batches(Family::HeartRate, body, &ctx).unwrap();
        let rows = normalise(Family::HeartRate, body, &ctx).unwrap().batches();
        assert_eq!(fast.len(), 1);
        assert_eq!(fast[0].0.name, rows[0].0.name);
        assert_eq!(fast[0].1, rows[0].1);
        let text = crate::tables::cells_text(&fast[0].1);
        assert!(text.contains("2017-03-12T01:59:55"), "{text}");
        assert!(text.contains("2017-03-12T03:00:05"), "{text}");
    }

    #[test]
    fn activity_batches_equal_the_rows_path() {
        let ctx = Context {
            user_id: "U".into(),
            tz: Some("Europe/Berlin".parse().unwrap()),
            fetched_utc: None,
            units: Units::Metric,
        };
        // Calories are local times across the fall-back change (the repeated hour).
        let cal = br#"[{"dateTime":"10/29/17 02:30:00","value":"1.5"},{"dateTime":"10/29/17 02:59:00","value":"1.25"},
            {"dateTime":"10/29/17 02:00:00","value":"2"},{"dateTime":"10/29/17 02:30:00","value":"1"}]"#;
        let steps = br#"[{"dateTime":"10/29/17 00:59:00","value":"12"},{"dateTime":"10/29/17 01:00:00","value":"0"}]"#;
        let dist = br#"[{"dateTime":"10/29/17 00:59:00","value":"1234.5"}]"#;
        let alt = br#"[{"dateTime":"10/29/17 00:59:00","value":"10"}]"#;
        for (family, body) in [
            (Family::Calories, &cal[..]),
            (Family::Steps, &steps[..]),
            (Family::Distance, &dist[..]),
            (Family::Altitude, &alt[..]),
        ] {
            let fast = normalise_batches(family, body, &ctx).unwrap();
            let rows = normalise(family, body, &ctx).unwrap().batches();
            assert_eq!(fast[0].1, rows[0].1, "{family:?}");
        }
        // A fractional step count takes the rows path and its named error.
        let e = normalise_batches(
            Family::Steps,
            br#"[{"dateTime":"10/29/17 00:59:00","value":"1.5"}]"#,
            &ctx,
        )
        .unwrap_err();
        assert!(e.to_string().contains("[0].value"), "{e}");
    }

    #[test]
    fn points_scanner_agrees_with_serde_and_refuses_what_it_does_not_know() {
        let good = br#"[{
  "dateTime" : "07/09/17 14:00:00",
  "value" : "112"
},{"dateTime":"07/09/17 14:01:00","value":0.25},{"dateTime":"07/09/17 14:02:00","value":"-3.5"}]"#;
        let fast: Vec<_> = scan::points(good).unwrap().rows().collect();
        let slow: Vec<Point<Num>> = crate::from_json(good).unwrap();
        assert_eq!(
            fast,
            slow.iter()
                .map(|p| (p.date_time.0, p.value.0, None))
                .collect::<Vec<_>>()
        );
        assert_eq!(fast[0].1, 112.0);
        for bad in [
            &br#"[{"dateTime" : "07/09/17 14:00:00", "value" : "1"#[..],
            br#"[{"dateTime" : "07/09/17 14:00:00", "value" : "1e3"}]"#,
            br#"[{"dateTime" : "07/09/17 14:00:00", "value" : null}]"#,
            br#"[{"dateTime" : "07/09/17 14:00:00", "value" : "12", "extra" : 1}]"#,
            br#"{"dateTime" : "07/09/17 14:00:00", "value" : "12"}"#,
        ] {
            assert!(
                scan::points(bad).is_none(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        // What the scanner refuses still gets serde's named error, or its value.
        assert_eq!(
            points(br#"[{"dateTime":"07/09/17 14:00:00","value":"1e3"}]"#)
                .unwrap()
                .value[0],
            1000.0
        );
        let e = points(br#"[{"dateTime":"07/09/17 14:00:00","value":null}]"#).unwrap_err();
        assert!(e.to_string().contains("[0].value"), "{e}");
    }

    #[test]
    fn us_times() {
        assert_eq!(
            us_time("07/09/17 14:00:04").unwrap().to_string(),
            "2017-07-09 14:00:04"
        );
        assert_eq!(
            us_time("12/31/12 23:59:59").unwrap().to_string(),
            "2012-12-31 23:59:59"
        );
        for bad in [
            "13/01/17 00:00:00",
            "07/09/2017 14:00:04",
            "07-09-17 14:00:04",
            "07/09/17 24:00:00",
            "ab/09/17 14:00:04",
            "",
        ] {
            assert!(us_time(bad).is_none(), "{bad}");
        }
    }
}
