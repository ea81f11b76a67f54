//! The Google Health API v4 (google-health-api.md §4): list, reconcile and rollup
//! responses (or bare arrays of their points), identity and settings, to rows of the
//! same tables the Fitbit Web API fills (`source = google-health`).
//!
//! The answers are read into serde models ([`model`]), so a value of the wrong form is
//! reported with its JSON path.
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

pub mod model;

pub use model::Document;
use model::{Count, Daily, Item, Offset, Page};

use crate::fitbit::normalise::{activity_point, daily};
use crate::tables::*;
use crate::TransformError;

/// The `source` value of rows from the Google Health API.
pub const SOURCE: &str = "google-health";

fn source() -> Arc<str> {
    // One per thread: threads normalising side by side do not contend for one count.
    thread_local! {
        static S: Arc<str> = Arc::from(SOURCE);
    }
    S.with(Arc::clone)
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

/// Parses a response body into its model; a value of the wrong form fails with its path.
pub fn parse(bytes: &[u8]) -> Result<Document<'_>, TransformError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        return crate::from_json(bytes).map(Document::Points);
    }
    let page: Page = crate::from_json(bytes)?;
    let known = page.data_points.is_some()
        || page.rollup_data_points.is_some()
        || page.health_user_id.is_some()
        || page.time_zone.is_some()
        || page.paired_devices.is_some()
        || page.error.is_some();
    if known {
        return Ok(Document::Page(page));
    }
    // Rare shapes: an empty answer, one point, or something else (named by its keys).
    let keys: std::collections::BTreeMap<String, serde::de::IgnoredAny> = crate::from_json(bytes)?;
    let keys: Vec<String> = keys.into_keys().collect();
    if keys.iter().all(|k| k == "nextPageToken") {
        return Ok(Document::Page(page));
    }
    let item: Item = crate::from_json(bytes)?;
    // A point names its data type by its union key: any type the catalog declares.
    let has_value = keys
        .iter()
        .any(|k| fitpipe_catalog::by_google_key(k).is_some());
    if item.id().is_some() || has_value {
        return Ok(Document::Point(Box::new(item)));
    }
    Ok(Document::Unknown(keys))
}

fn bad(path: &str, message: impl Into<String>) -> TransformError {
    TransformError::Value {
        path: path.to_string(),
        message: message.into(),
    }
}

fn local(t: DateTime<Utc>, off: Option<Offset>) -> Option<NaiveDateTime> {
    off.map(|o| t.naive_utc() + Duration::seconds(o.0))
}

/// Turns one parsed answer into table rows.
pub fn normalise(doc: &Document, ctx: &Context) -> Result<RowSet, TransformError> {
    let mut out = RowSet::default();
    match doc {
        Document::Points(items) => {
            for (i, p) in items.iter().enumerate() {
                item(p, &|| format!("[{i}]"), ctx, &mut out)?;
            }
        }
        Document::Point(p) => item(p, &String::new, ctx, &mut out)?,
        Document::Unknown(keys) => return Err(TransformError::UnknownShape { keys: keys.clone() }),
        Document::Page(page) => {
            if let Some(e) = &page.error {
                return Err(bad(
                    "error",
                    format!(
                        "the body is an API error: {}",
                        e.message.as_deref().unwrap_or("(no message)")
                    ),
                ));
            }
            for (k, items) in [
                ("dataPoints", &page.data_points),
                ("rollupDataPoints", &page.rollup_data_points),
            ] {
                for (i, p) in items.iter().flatten().enumerate() {
                    item(p, &|| format!("{k}[{i}]"), ctx, &mut out)?;
                }
            }
            if let Some(id) = &page.health_user_id {
                let mut p = profile(ctx);
                p.user_id = id.as_str().into();
                p.legacy_user_id = page.legacy_user_id.as_deref().map(Into::into);
                out.profile.push(p);
            } else if let Some(devices) = &page.paired_devices {
                for d in devices {
                    out.devices.push(device(d, ctx));
                }
            } else if let Some(zone) = &page.time_zone {
                let mut p = profile(ctx);
                zone.parse::<Tz>()
                    .map_err(|_| TransformError::UnknownTimezone(zone.clone()))?;
                p.timezone = Some(zone.as_str().into());
                p.utc_offset_minutes = page.utc_offset.map(|o| o.0 / 60);
                out.profile.push(p);
            }
        }
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

/// The path of an item, built only when an error needs it.
type Path<'p> = &'p dyn Fn() -> String;

fn item(p: &Item, path: Path, ctx: &Context, out: &mut RowSet) -> Result<(), TransformError> {
    if p.is_rollup() {
        rollup(p, path, ctx, out)
    } else {
        point(p, path, ctx, out)
    }
}

/// An interval point's interval: start (UTC, local) and length in seconds.
fn interval(
    c: &Option<model::Interval>,
    at: impl Fn() -> String,
) -> Result<(DateTime<Utc>, Option<NaiveDateTime>, i64), TransformError> {
    let Some(iv) = c else {
        return Err(bad(&at(), "missing `interval`"));
    };
    let start = iv.start_time.0;
    Ok((
        start,
        local(start, iv.start_utc_offset),
        (iv.end_time.0 - start).num_seconds(),
    ))
}

fn point(p: &Item, path: Path, ctx: &Context, out: &mut RowSet) -> Result<(), TransformError> {
    let uid = &ctx.user_id;
    let counted = |key: &str, c: &Count| -> Result<_, TransformError> {
        let (start, local, secs) = interval(&c.interval, || format!("{}.{key}.interval", path()))?;
        Ok((
            activity_point(uid, &source(), start, local, secs),
            c.count.count(),
        ))
    };
    if let Some(c) = &p.steps {
        let (mut row, n) = counted("steps", c)?;
        row.steps = Some(n);
        out.activity_intraday.push(row);
    }
    if let Some(c) = &p.floors {
        let (mut row, n) = counted("floors", c)?;
        row.floors = Some(n);
        out.activity_intraday.push(row);
    }
    if let Some(d) = &p.distance {
        let (start, local, secs) =
            interval(&d.interval, || format!("{}.distance.interval", path()))?;
        let mut row = activity_point(uid, &source(), start, local, secs);
        row.distance_km = Some(d.millimeters.count() as f64 / 1e6);
        out.activity_intraday.push(row);
    }
    if let Some(a) = &p.altitude {
        let (start, local, secs) =
            interval(&a.interval, || format!("{}.altitude.interval", path()))?;
        let mut row = activity_point(uid, &source(), start, local, secs);
        row.elevation_m = Some(a.gain_millimeters.count() as f64 / 1000.0);
        out.activity_intraday.push(row);
    }
    // Energy of an interval, basal or burned by activity (the same shape): start, wall
    // clock, seconds and kcal.
    let energy = |key: &str, b: &model::Basal| {
        let (start, local, secs) = interval(&b.interval, || format!("{}.{key}.interval", path()))?;
        Ok::<_, TransformError>((start, local, Some(secs), b.kcal.0))
    };
    if let Some(b) = &p.basal_energy_burned {
        let (time_utc, time_local, interval_seconds, calories_kcal) =
            energy("basalEnergyBurned", b)?;
        out.basal_energy.push(BasalEnergy {
            user_id: uid.clone(),
            source: source(),
            time_utc,
            time_local,
            interval_seconds,
            calories_kcal,
        });
    }
    if let Some(b) = &p.active_energy_burned {
        let (time_utc, time_local, interval_seconds, calories_kcal) =
            energy("activeEnergyBurned", b)?;
        out.active_energy.push(ActiveEnergy {
            user_id: uid.clone(),
            source: source(),
            time_utc,
            time_local,
            interval_seconds,
            calories_kcal,
        });
    }
    if let Some(a) = &p.activity_level {
        let at = || format!("{}.activityLevel", path());
        let (start, local, secs) = interval(&a.interval, || format!("{}.interval", at()))?;
        // Fitbit's levels: 0 sedentary to 3 very active.
        let level = match a.activity_level_type.as_deref() {
            Some("SEDENTARY") => Some(0),
            Some("LIGHTLY_ACTIVE") => Some(1),
            Some("MODERATELY_ACTIVE") => Some(2),
            Some("VERY_ACTIVE") => Some(3),
            None | Some("ACTIVITY_LEVEL_TYPE_UNSPECIFIED") => None,
            other => {
                return Err(bad(
                    &format!("{}.activityLevelType", at()),
                    format!("unknown activity level {other:?}"),
                ))
            }
        };
        let mut row = activity_point(uid, &source(), start, local, secs);
        row.activity_level = level;
        out.activity_intraday.push(row);
    }
    if let Some(h) = &p.heart_rate {
        let Some(st) = &h.sample_time else {
            return Err(bad(
                &format!("{}.heartRate", path()),
                "missing `sampleTime`",
            ));
        };
        if let Some(bpm) = h.beats_per_minute.0 {
            let t = st.physical_time.0;
            out.heart_rate_intraday.push(HeartRateIntraday {
                user_id: uid.clone(),
                source: source(),
                time_utc: t,
                time_local: local(t, st.utc_offset),
                bpm: Some(bpm),
                confidence: None,
                interval_seconds: None,
            });
        }
    }
    if let Some(v) = &p.daily_resting_heart_rate {
        let mut row = daily(uid, &source(), v.date.0);
        row.resting_heart_rate_bpm = v.beats_per_minute.0;
        out.daily_activity.push(row);
    }
    if let Some(v) = &p.daily_heart_rate_variability {
        out.hrv_daily.push(HrvDaily {
            user_id: uid.clone(),
            source: source(),
            date: v.date.0,
            rmssd_ms: v.average_heart_rate_variability_milliseconds.0,
            deep_rmssd_ms: v
                .deep_sleep_root_mean_square_of_successive_differences_milliseconds
                .0,
            nrem_heart_rate_bpm: v.non_rem_heart_rate_beats_per_minute.0,
            entropy: v.entropy.0,
        });
    }
    if let Some(v) = &p.daily_respiratory_rate {
        out.breathing_rate_daily.push(BreathingRateDaily {
            user_id: uid.clone(),
            source: source(),
            date: v.date.0,
            breaths_per_minute: v.breaths_per_minute.0,
        });
    }
    if let Some(v) = &p.daily_sleep_temperature_derivations {
        out.skin_temperature_daily.push(skin_temperature(uid, v));
    }
    if let Some(v) = &p.daily_oxygen_saturation {
        out.spo2_daily.push(Spo2Daily {
            user_id: uid.clone(),
            source: source(),
            date: v.date.0,
            avg_percent: v.average_percentage.0,
            min_percent: v.lower_bound_percentage.0,
            max_percent: v.upper_bound_percentage.0,
        });
    }
    if let Some(v) = &p.daily_vo2_max {
        out.vo2max_daily.push(Vo2maxDaily {
            user_id: uid.clone(),
            source: source(),
            date: v.date.0,
            vo2max: v.vo2_max.0,
            vo2max_low: None,
            vo2max_high: None,
            vo2max_error: None,
            cardio_fitness_level: enum_text(v.cardio_fitness_level.as_deref()),
            estimated: v.estimated,
        });
    }
    // The times of a point that is an interval (`key` names it in errors).
    let spanned = |key: &str, iv: &Option<model::Interval>| {
        let at = || format!("{}.{key}.interval", path());
        let Some(iv) = iv else {
            return Err(bad(&at(), "missing `interval`"));
        };
        started(iv, ctx, at)
    };
    if let Some(v) = &p.sedentary_period {
        let t = spanned("sedentaryPeriod", &v.interval)?;
        out.sedentary_periods.push(SedentaryPeriod {
            user_id: uid.clone(),
            source: source(),
            date: t.date,
            start_utc: t.start,
            start_local: t.start_local,
            end_utc: Some(t.end),
            end_local: t.end_local,
            duration_seconds: t.seconds(),
        });
    }
    if let Some(v) = &p.daily_heart_rate_zones {
        // Each zone's bounds, the zone named as Google names it (as the rollups of time
        // and energy per zone name it: their columns of the same rows).
        for z in &v.heart_rate_zones {
            let Some(mut row) = zone_row(uid, v.date.0, z.heart_rate_zone_type.as_deref()) else {
                continue;
            };
            row.min_bpm = z.min_beats_per_minute.0.map(|b| b as f64);
            row.max_bpm = z.max_beats_per_minute.0.map(|b| b as f64);
            out.heart_rate_zones.push(row);
        }
    }
    if let Some(v) = &p.swim_lengths_data {
        let t = spanned("swimLengthsData", &v.interval)?;
        out.swim_lengths.push(SwimLength {
            user_id: uid.clone(),
            source: source(),
            date: t.date,
            start_utc: t.start,
            start_local: t.start_local,
            end_utc: Some(t.end),
            end_local: t.end_local,
            duration_seconds: t.seconds(),
            stroke_type: enum_text(v.swim_stroke_type.as_deref()),
            stroke_count: v.stroke_count.0,
        });
    }
    if let Some(w) = &p.weight {
        let st = &w.sample_time;
        let t = st.physical_time.0;
        let local = local(t, st.utc_offset);
        let Some(d) = st
            .civil_time
            .map(|c| c.0.date())
            .or(local.map(|l| l.date()))
        else {
            return Err(bad(
                &format!("{}.weight.sampleTime", path()),
                "neither `utcOffset` nor `civilTime`: the local day is unknown",
            ));
        };
        out.weight_log.push(WeightLog {
            user_id: uid.clone(),
            source: source(),
            log_id: p
                .id()
                .map(str::to_string)
                .unwrap_or_else(|| t.timestamp_millis().to_string())
                .into(),
            date: d,
            time_local: local,
            time_utc: Some(t),
            weight_kg: w.weight_grams.0.map(|g| g / 1000.0),
            bmi: None,
            fat_percent: None,
            log_source: platform(p),
        });
    }
    if let Some(s) = &p.sleep {
        sleep(p, s, path, ctx, out)?;
    }
    if let Some(e) = &p.exercise {
        out.exercise_sessions.push(exercise(p, e, path, ctx)?);
    }
    if let Some(h) = &p.heart_rate_variability {
        let t = h.sample_time.physical_time.0;
        out.hrv_intraday.push(HrvIntraday {
            user_id: uid.clone(),
            source: source(),
            time_utc: t,
            time_local: sample_local(&h.sample_time, ctx),
            rmssd_ms: h.root_mean_square_of_successive_differences_milliseconds.0,
            coverage: None,
            hf_power: h.metadata.high_frequency_power.0,
            lf_power: h.metadata.low_frequency_power.0,
        });
    }
    if let Some(s) = &p.oxygen_saturation {
        let t = s.sample_time.physical_time.0;
        out.spo2_intraday.push(Spo2Intraday {
            user_id: uid.clone(),
            source: source(),
            time_utc: t,
            time_local: sample_local(&s.sample_time, ctx),
            percent: s.percentage.0,
        });
    }
    if let Some(f) = &p.body_fat {
        let st = &f.sample_time;
        let t = st.physical_time.0;
        let (time_local, date) = sample_day(st, ctx, || format!("{}.bodyFat", path()))?;
        out.body_fat_log.push(BodyFatLog {
            user_id: uid.clone(),
            source: source(),
            time_utc: t,
            time_local,
            date,
            fat_percent: f.percentage.0,
            log_source: platform(p),
        });
    }
    if let Some(v) = &p.run_vo2_max {
        let st = &v.sample_time;
        let (time_local, date) = sample_day(st, ctx, || format!("{}.runVo2Max", path()))?;
        out.run_vo2max.push(RunVo2max {
            user_id: uid.clone(),
            source: source(),
            time_utc: st.physical_time.0,
            time_local,
            date,
            vo2max: v.run_vo2_max.0,
        });
    }
    if let Some(v) = &p.core_body_temperature {
        let st = &v.sample_time;
        let (time_local, date) = sample_day(st, ctx, || format!("{}.coreBodyTemperature", path()))?;
        out.body_temperature_log.push(BodyTemperatureLog {
            user_id: uid.clone(),
            source: source(),
            time_utc: st.physical_time.0,
            time_local,
            date,
            temperature_celsius: v.temperature_celsius.0,
            measurement_location: enum_text(v.measurement_location.as_deref()),
        });
    }
    if let Some(v) = &p.blood_glucose {
        let st = &v.sample_time;
        let (time_local, date) = sample_day(st, ctx, || format!("{}.bloodGlucose", path()))?;
        let mg = v.blood_glucose_milligrams_per_deciliter.0;
        out.blood_glucose_log.push(BloodGlucoseLog {
            user_id: uid.clone(),
            source: source(),
            time_utc: st.physical_time.0,
            time_local,
            date,
            glucose_mg_dl: mg,
            glucose_mmol_l: mg.map(|x| x / 18.016),
            measurement_timing: enum_text(v.measurement_timing.as_deref()),
            meal_type: enum_text(v.meal_type.as_deref()),
            specimen: enum_text(v.specimen.as_deref()),
            measurement_source: enum_text(v.measurement_source.as_deref()),
        });
    }
    if let Some(v) = &p.vo2_max {
        let st = &v.sample_time;
        let (time_local, date) = sample_day(st, ctx, || format!("{}.vo2Max", path()))?;
        out.vo2max_log.push(Vo2maxLog {
            user_id: uid.clone(),
            source: source(),
            time_utc: st.physical_time.0,
            time_local,
            date,
            vo2max: v.vo2_max.0,
            measurement_method: enum_text(v.measurement_method.as_deref()),
        });
    }
    if let Some(v) = &p.height {
        let st = &v.sample_time;
        let (time_local, date) = sample_day(st, ctx, || format!("{}.height", path()))?;
        out.height_log.push(HeightLog {
            user_id: uid.clone(),
            source: source(),
            time_utc: st.physical_time.0,
            time_local,
            date,
            height_cm: v.height_millimeters.0.map(|mm| mm as f64 / 10.0),
        });
    }
    if let Some(v) = &p.respiratory_rate_sleep_summary {
        let st = &v.sample_time;
        let (time_local, date) = sample_day(st, ctx, || {
            format!("{}.respiratoryRateSleepSummary", path())
        })?;
        let (full, deep, light, rem) = (
            &v.full_sleep_stats,
            &v.deep_sleep_stats,
            &v.light_sleep_stats,
            &v.rem_sleep_stats,
        );
        out.breathing_rate_sleep.push(BreathingRateSleep {
            user_id: uid.clone(),
            source: source(),
            date,
            time_utc: Some(st.physical_time.0),
            time_local,
            full_sleep_breaths_per_minute: full.breaths_per_minute.0,
            deep_sleep_breaths_per_minute: deep.breaths_per_minute.0,
            light_sleep_breaths_per_minute: light.breaths_per_minute.0,
            rem_sleep_breaths_per_minute: rem.breaths_per_minute.0,
            full_sleep_standard_deviation: full.standard_deviation.0,
            deep_sleep_standard_deviation: deep.standard_deviation.0,
            light_sleep_standard_deviation: light.standard_deviation.0,
            rem_sleep_standard_deviation: rem.standard_deviation.0,
            full_sleep_signal_to_noise: full.signal_to_noise.0,
            deep_sleep_signal_to_noise: deep.signal_to_noise.0,
            light_sleep_signal_to_noise: light.signal_to_noise.0,
            rem_sleep_signal_to_noise: rem.signal_to_noise.0,
        });
    }
    if let Some(v) = &p.hydration_log {
        let at = || format!("{}.hydrationLog.interval", path());
        let t = started(
            v.interval.as_ref().ok_or_else(|| bad(&at(), "missing"))?,
            ctx,
            at,
        )?;
        out.hydration_log.push(HydrationLog {
            user_id: uid.clone(),
            source: source(),
            log_id: log_id(p, t.start),
            date: t.date,
            start_utc: Some(t.start),
            start_local: t.start_local,
            amount_ml: v.amount_consumed.milliliters.0,
            entered_unit: enum_text(v.amount_consumed.user_provided_unit.as_deref()),
        });
    }
    if let Some(v) = &p.nutrition_log {
        nutrition(p, v, path, ctx, out)?;
    }
    if let Some(f) = &p.food {
        let Some(name) = p.resource_name() else {
            return Err(bad(
                &format!("{}.name", path()),
                "a food without its resource name",
            ));
        };
        let (serving_unit, serving_unit_id) = f.default_serving.unit();
        out.foods.push(Food {
            user_id: uid.clone(),
            source: source(),
            food_id: name.into(),
            food_name: f.display_name.as_deref().map(str::to_string),
            brand: f.brand.as_deref().map(str::to_string),
            access_level: enum_text(f.access_level.as_deref()),
            serving_amount: f.default_serving.amount.0,
            serving_unit,
            serving_unit_id,
            calories_kcal: f.energy_avg.kcal.0,
            calories_from_fat_kcal: f.energy_from_fat.kcal.0,
            carbohydrate_g: f.total_carbohydrate.grams.0,
            fat_g: f.total_fat.grams.0,
            protein_g: protein(&f.nutrients),
        });
    }
    if let Some(u) = &p.food_measurement_unit {
        let Some(name) = p.resource_name() else {
            return Err(bad(
                &format!("{}.name", path()),
                "a unit without its resource name",
            ));
        };
        out.food_units.push(FoodUnit {
            user_id: uid.clone(),
            source: source(),
            unit_id: name.into(),
            display_name: u.display_name.as_deref().map(str::to_string),
            plural_display_name: u.plural_display_name.as_deref().map(str::to_string),
        });
    }
    if let Some(v) = &p.electrocardiogram {
        ecg(p, v, path, ctx, out)?;
    }
    if let Some(v) = &p.irregular_rhythm_notification {
        irn(p, v, path, ctx, out)?;
    }
    Ok(())
}

/// The wall clock of a sample: its `civilTime`, else the instant plus its offset, else the
/// instant in the user's zone.
fn sample_local(st: &model::SampleTime, ctx: &Context) -> Option<NaiveDateTime> {
    let t = st.physical_time.0;
    st.civil_time
        .map(|c| c.0)
        .or_else(|| local(t, st.utc_offset))
        .or_else(|| ctx.tz.map(|z| t.with_timezone(&z).naive_local()))
}

/// An enum value in lower case, null when absent, empty or `*_UNSPECIFIED`.
fn enum_text(v: Option<&str>) -> Option<String> {
    v.filter(|v| !v.is_empty() && !v.ends_with("_UNSPECIFIED"))
        .map(str::to_ascii_lowercase)
}

/// A sample's wall clock ([`sample_local`]) and its local day, or an error naming the
/// sample (`at` is its path) when neither offset, civil time nor zone gives the day.
fn sample_day(
    st: &model::SampleTime,
    ctx: &Context,
    at: impl Fn() -> String,
) -> Result<(Option<NaiveDateTime>, NaiveDate), TransformError> {
    let local = sample_local(st, ctx);
    match local {
        Some(l) => Ok((local, l.date())),
        None => Err(bad(
            &format!("{}.sampleTime", at()),
            "neither `utcOffset` nor `civilTime`: the local day is unknown",
        )),
    }
}

/// The platform a point came from (`FITBIT`, `HEALTH_CONNECT`, ...).
fn platform(p: &Item) -> Option<String> {
    p.data_source
        .as_ref()
        .and_then(|s| s.platform.as_deref())
        .map(Into::into)
}

/// An interval's instants, its wall clocks and the local day it started on.
struct Started {
    start: DateTime<Utc>,
    start_local: Option<NaiveDateTime>,
    end: DateTime<Utc>,
    end_local: Option<NaiveDateTime>,
    date: NaiveDate,
}

impl Started {
    /// Its length in seconds, from the instants (right across a DST change).
    fn seconds(&self) -> Option<i64> {
        Some((self.end - self.start).num_seconds())
    }
}

/// The times of a session or period: wall clocks from the offsets in force, else from the
/// user's zone; an error naming `at` (the interval's path) when neither gives the local
/// day it started on.
fn started(
    iv: &model::Interval,
    ctx: &Context,
    at: impl Fn() -> String,
) -> Result<Started, TransformError> {
    let (start, end) = (iv.start_time.0, iv.end_time.0);
    let in_zone = |t: DateTime<Utc>| ctx.tz.map(|z| t.with_timezone(&z).naive_local());
    let start_local = local(start, iv.start_utc_offset).or_else(|| in_zone(start));
    let Some(date) = start_local.map(|l| l.date()) else {
        return Err(bad(
            &format!("{}.startUtcOffset", at()),
            "missing, and no time zone given: the local day it started on is unknown",
        ));
    };
    Ok(Started {
        start,
        start_local,
        end,
        end_local: local(end, iv.end_utc_offset).or_else(|| in_zone(end)),
        date,
    })
}

/// A logged point's id: its name's last segment, else its start in epoch milliseconds.
fn log_id(p: &Item, start: DateTime<Utc>) -> Arc<str> {
    p.id()
        .map(Arc::from)
        .unwrap_or_else(|| start.timestamp_millis().to_string().into())
}

/// An empty row of a day's heart-rate zone, named as Google names it, for one data type to
/// fill its columns (time, energy, bounds); none for an unspecified zone.
fn zone_row(uid: &Arc<str>, date: NaiveDate, zone: Option<&str>) -> Option<HeartRateZone> {
    let zone = zone.filter(|z| !z.is_empty() && !z.ends_with("_UNSPECIFIED"))?;
    Some(HeartRateZone {
        user_id: uid.clone(),
        source: source(),
        date,
        zone: zone.into(),
        min_bpm: None,
        max_bpm: None,
        minutes: None,
        calories_kcal: None,
        is_custom: None,
    })
}

/// The grams of protein among a food's nutrients.
fn protein(nutrients: &[model::Nutrient]) -> Option<f64> {
    nutrients
        .iter()
        .find(|n| {
            n.nutrient
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case("PROTEIN"))
        })
        .and_then(|n| n.quantity.grams.0)
}

/// A food log: one `nutrition_log` row and a `nutrition_nutrients` row per nutrient.
fn nutrition(
    p: &Item,
    v: &model::Nutrition,
    path: Path,
    ctx: &Context,
    out: &mut RowSet,
) -> Result<(), TransformError> {
    let at = || format!("{}.nutritionLog.interval", path());
    let t = started(
        v.interval.as_ref().ok_or_else(|| bad(&at(), "missing"))?,
        ctx,
        at,
    )?;
    let (uid, source) = (&ctx.user_id, source());
    let id = log_id(p, t.start);
    for n in &v.nutrients {
        let Some(name) = enum_text(n.nutrient.as_deref()) else {
            continue;
        };
        out.nutrition_nutrients.push(NutritionNutrient {
            user_id: uid.clone(),
            source: source.clone(),
            log_id: id.clone(),
            date: t.date,
            nutrient: name.into(),
            grams: n.quantity.grams.0,
        });
    }
    let (serving_unit, serving_unit_id) = v.serving.unit();
    out.nutrition_log.push(NutritionLog {
        user_id: uid.clone(),
        source,
        log_id: id,
        date: t.date,
        start_utc: Some(t.start),
        start_local: t.start_local,
        meal_type: enum_text(v.meal_type.as_deref()),
        food_name: v.food_display_name.as_deref().map(str::to_string),
        food_id: v.food.as_deref().map(str::to_string),
        serving_amount: v.serving.amount.0,
        serving_unit,
        serving_unit_id,
        calories_kcal: v.energy.kcal.0,
        calories_from_fat_kcal: v.energy_from_fat.kcal.0,
        carbohydrate_g: v.total_carbohydrate.grams.0,
        fat_g: v.total_fat.grams.0,
        protein_g: protein(&v.nutrients),
    });
    Ok(())
}

/// An ECG reading: its `ecg_readings` row and a `ecg_waveform` row per sample.
fn ecg(
    p: &Item,
    v: &model::Ecg,
    path: Path,
    ctx: &Context,
    out: &mut RowSet,
) -> Result<(), TransformError> {
    let at = || format!("{}.electrocardiogram.interval", path());
    let t = started(
        v.interval.as_ref().ok_or_else(|| bad(&at(), "missing"))?,
        ctx,
        at,
    )?;
    let (uid, source) = (&ctx.user_id, source());
    let id = log_id(p, t.start);
    let (hz, scale) = (v.sampling_frequency_hertz.0, v.millivolts_scaling_factor.0);
    let step =
        match hz {
            Some(h) if h > 0 => h,
            _ if v.waveform_samples.is_empty() => 1,
            _ => return Err(bad(
                &format!("{}.electrocardiogram.samplingFrequencyHertz", path()),
                "missing or not positive, and there are waveform samples: their times are unknown",
            )),
        };
    out.ecg_waveform.reserve(v.waveform_samples.len());
    for (i, raw) in v.waveform_samples.iter().enumerate() {
        let i = i as i64;
        out.ecg_waveform.push(EcgSample {
            user_id: uid.clone(),
            source: source.clone(),
            reading_id: id.clone(),
            date: t.date,
            sample_index: Some(i),
            // Exact in microseconds for the frequencies ECGs use (250, 500 Hz).
            time_utc: t.start + Duration::microseconds(i * 1_000_000 / step),
            raw: Some(*raw),
            millivolts: scale.filter(|s| *s != 0).map(|s| *raw as f64 / s as f64),
        });
    }
    out.ecg_readings.push(EcgReading {
        user_id: uid.clone(),
        source,
        reading_id: id,
        date: t.date,
        start_utc: Some(t.start),
        start_local: t.start_local,
        end_utc: Some(t.end),
        end_local: t.end_local,
        result_classification: enum_text(v.result_classification.as_deref()),
        avg_heart_rate_bpm: v.beats_per_minute_avg.0,
        lead_number: v.lead_number.0,
        sampling_frequency_hz: hz,
        millivolts_scaling_factor: scale,
        sample_count: Some(v.waveform_samples.len() as i64),
        device_model: v.medical_device_info.device_model.clone(),
        algorithm_version: v.medical_device_info.algorithm_version.clone(),
    });
    Ok(())
}

/// An irregular-rhythm notification: its row and a row per alert window.
fn irn(
    p: &Item,
    v: &model::Irn,
    path: Path,
    ctx: &Context,
    out: &mut RowSet,
) -> Result<(), TransformError> {
    let at = || format!("{}.irregularRhythmNotification.interval", path());
    let t = started(
        v.interval.as_ref().ok_or_else(|| bad(&at(), "missing"))?,
        ctx,
        at,
    )?;
    let (uid, source) = (&ctx.user_id, source());
    let id = log_id(p, t.start);
    let in_zone = |t: DateTime<Utc>, o| {
        local(t, o).or_else(|| ctx.tz.map(|z| t.with_timezone(&z).naive_local()))
    };
    for w in &v.alert_windows {
        let start_local = in_zone(w.start_time.0, w.start_utc_offset);
        let bpm: Vec<i64> = w
            .heart_beats
            .iter()
            .filter_map(|b| b.beats_per_minute.0)
            .collect();
        out.irregular_rhythm_windows.push(IrregularRhythmWindow {
            user_id: uid.clone(),
            source: source.clone(),
            notification_id: id.clone(),
            date: start_local.map_or(t.date, |l| l.date()),
            start_utc: w.start_time.0,
            start_local,
            end_utc: w.end_time.map(|e| e.0),
            end_local: w.end_time.and_then(|e| in_zone(e.0, w.end_utc_offset)),
            positive: w.positive,
            beats: Some(w.heart_beats.len() as i64),
            avg_heart_rate_bpm: (!bpm.is_empty())
                .then(|| bpm.iter().sum::<i64>() as f64 / bpm.len() as f64),
        });
    }
    out.irregular_rhythm_notifications
        .push(IrregularRhythmNotification {
            user_id: uid.clone(),
            source,
            notification_id: id,
            date: t.date,
            start_utc: Some(t.start),
            start_local: t.start_local,
            end_utc: Some(t.end),
            end_local: t.end_local,
            windows: Some(v.alert_windows.len() as i64),
            positive_windows: Some(
                v.alert_windows
                    .iter()
                    .filter(|w| w.positive == Some(true))
                    .count() as i64,
            ),
            device_model: v.medical_device_info.device_model.clone(),
            algorithm_version: v.medical_device_info.algorithm_version.clone(),
        });
    Ok(())
}

/// An exercise session; its local day is the day it started.
fn exercise(
    p: &Item,
    e: &model::Exercise,
    path: Path,
    ctx: &Context,
) -> Result<ExerciseSession, TransformError> {
    let Started {
        start,
        start_local,
        end,
        end_local,
        date,
    } = started(&e.interval, ctx, || format!("{}.exercise.interval", path()))?;
    let id = p
        .id()
        .ok_or_else(|| bad(&path(), "an exercise point without `name`"))?;
    let m = &e.metrics_summary;
    Ok(ExerciseSession {
        user_id: ctx.user_id.clone(),
        source: source(),
        exercise_id: id.into(),
        date,
        start_utc: Some(start),
        start_local,
        end_utc: Some(end),
        end_local,
        exercise_type: enum_text(e.exercise_type.as_deref()),
        display_name: e.display_name.as_deref().map(Into::into),
        active_seconds: e
            .active_duration
            .map(|s| s.0)
            .or(Some((end - start).num_seconds())),
        calories_kcal: m.calories_kcal.0,
        distance_km: m.distance_millimeters.0.map(|mm| mm / 1e6),
        steps: m.steps.0,
        avg_heart_rate_bpm: m.average_heart_rate_beats_per_minute.0,
        active_zone_minutes: m.active_zone_minutes.0,
        has_gps: Some(e.exercise_metadata.has_gps.unwrap_or(false)),
        log_type: p
            .data_source
            .as_ref()
            .and_then(|s| s.recording_method.as_deref())
            .map(|m| match m {
                "MANUAL" => "manual".to_string(),
                "ACTIVELY_MEASURED" => "tracker".to_string(),
                "PASSIVELY_MEASURED" | "DERIVED" => "auto_detected".to_string(),
                other => other.to_ascii_lowercase(),
            }),
    })
}

/// A paired device; no MAC address is read.
fn device(d: &model::PairedDevice, ctx: &Context) -> Device {
    let id =
        d.id.clone()
            .or_else(|| {
                d.name
                    .as_deref()
                    .and_then(|n| n.rsplit('/').next())
                    .map(Into::into)
            })
            .unwrap_or_else(|| d.display_name.clone().unwrap_or_else(|| "-".into()));
    let last = d.last_sync_time.map(|t| t.0);
    Device {
        user_id: ctx.user_id.clone(),
        source: source(),
        device_id: id.into(),
        device_type: d.device_type.as_deref().map(device_type),
        device_version: d.display_name.clone(),
        battery_level: d.battery_level.0,
        battery_status: d.battery_status.as_deref().map(|b| {
            b.trim_start_matches("BATTERY_STATUS_")
                .trim_start_matches("BATTERY_")
                .to_ascii_lowercase()
        }),
        last_sync_utc: last,
        last_sync_local: last.and_then(|t| ctx.tz.map(|z| t.with_timezone(&z).naive_local())),
        seen_utc: ctx.fetched_utc,
    }
}

/// `tracker` for anything worn, `scale` for a scale, else the source's word in lower case.
pub(crate) fn device_type(t: &str) -> String {
    let l = t.to_ascii_lowercase();
    if l.contains("scale") {
        "scale".into()
    } else if ["tracker", "watch", "band", "wrist", "ring"]
        .iter()
        .any(|w| l.contains(w))
    {
        "tracker".into()
    } else {
        l
    }
}

fn skin_temperature(uid: &Arc<str>, v: &Daily) -> SkinTemperatureDaily {
    let (nightly, baseline) = (
        v.nightly_temperature_celsius.0,
        v.baseline_temperature_celsius.0,
    );
    SkinTemperatureDaily {
        user_id: uid.clone(),
        source: source(),
        date: v.date.0,
        // Fitbit's `nightlyRelative` is the same difference.
        relative_celsius: nightly.zip(baseline).map(|(n, b)| n - b),
        nightly_celsius: nightly,
        baseline_celsius: baseline,
    }
}

fn sleep(
    p: &Item,
    v: &model::Sleep,
    path: Path,
    ctx: &Context,
    out: &mut RowSet,
) -> Result<(), TransformError> {
    let at = |k: &str| format!("{}.sleep.{k}", path());
    let iv = &v.interval;
    let (start, end) = (iv.start_time.0, iv.end_time.0);
    let start_local = local(start, iv.start_utc_offset);
    let end_local = local(end, iv.end_utc_offset);
    let Some(date_of_sleep) = end_local.map(|l| l.date()) else {
        return Err(bad(
            &at("interval.endUtcOffset"),
            "missing: the local date of the sleep is unknown",
        ));
    };
    let log_id: Arc<str> = p
        .id()
        .ok_or_else(|| bad(&path(), "a sleep point without `name`"))?
        .into();
    let kind = match v.kind.as_deref() {
        Some("STAGES") => "stages",
        Some("CLASSIC") => "classic",
        Some(other) => return Err(bad(&at("type"), format!("unknown sleep type {other:?}"))),
        None => "unprocessed",
    };
    let classic = kind == "classic";
    let is_main = v.metadata.main_sleep.or(v.metadata.nap.map(|n| !n));
    let s = v.summary.as_ref();
    let stage_min = |t: &str| -> Option<i64> {
        s.map(|s| {
            s.stages_summary
                .iter()
                .rev()
                .find(|x| x.kind.as_deref() == Some(t))
                .map_or(0, |x| x.minutes.count())
        })
    };
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
    let manual = p
        .data_source
        .as_ref()
        .and_then(|d| d.recording_method.as_deref())
        == Some("MANUAL");
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
        log_type: Some(if manual { "manual" } else { "auto_detected" }.into()),
        minutes_in_bed: s.map(|s| s.minutes_in_sleep_period.count()),
        minutes_asleep: s.map(|s| s.minutes_asleep.count()),
        minutes_awake: s.map(|s| s.minutes_awake.count()),
        minutes_to_fall_asleep: s.map(|s| s.minutes_to_fall_asleep.count()),
        minutes_after_wakeup: s.map(|s| s.minutes_after_wake_up.count()),
        // Google does not send an efficiency; it is not computed here.
        efficiency: None,
        minutes_deep: deep,
        minutes_light: light,
        minutes_rem: rem,
        minutes_wake: stage_min("AWAKE"),
        minutes_restless: restless,
    });
    for (list, is_short) in [(&v.stages, false), (&v.short_awakenings, true)] {
        for st in list {
            let (a, b) = (st.start_time.0, st.end_time.0);
            let stage = match (st.kind.as_deref(), classic) {
                (Some("AWAKE") | None, false) => "wake".to_string(),
                (Some("AWAKE") | None, true) => "awake".to_string(),
                (Some(t), _) => t.to_ascii_lowercase(),
            };
            out.sleep_stages.push(SleepStage {
                user_id: ctx.user_id.clone(),
                source: source(),
                log_id: log_id.clone(),
                start_utc: a,
                start_local: local(a, st.start_utc_offset),
                seconds: Some((b - a).num_seconds()),
                stage: stage.as_str().into(),
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
    elevation_m: Option<f64>,
}

impl Sums {
    fn of(p: &Item) -> Option<Sums> {
        let mut x = Sums::default();
        if let Some(c) = &p.steps {
            x.steps = Some(c.count_sum.count());
        } else if let Some(c) = &p.floors {
            x.floors = Some(c.count_sum.count());
        } else if let Some(d) = &p.distance {
            x.distance_km = Some(d.millimeters_sum.count() as f64 / 1e6);
        } else if let Some(c) = &p.total_calories {
            x.calories_kcal = Some(c.kcal_sum.0.unwrap_or(0.0));
        } else if let Some(a) = &p.altitude {
            x.elevation_m = Some(a.gain_millimeters_sum.count() as f64 / 1000.0);
        } else {
            return None;
        }
        Some(x)
    }
}

fn rollup(p: &Item, path: Path, ctx: &Context, out: &mut RowSet) -> Result<(), TransformError> {
    let uid = &ctx.user_id;
    if let Some(a) = p.civil_start_time {
        // dailyRollUp: one row per civil day; a bucket longer than a day is not a day.
        let Some(b) = p.civil_end_time else {
            return Err(bad(&format!("{}.civilEndTime", path()), "missing"));
        };
        let (a, b) = (a.0, b.0);
        if a.time() != chrono::NaiveTime::MIN || b - a > Duration::days(1) {
            return Ok(());
        }
        if let Some(z) = &p.active_zone_minutes {
            // Minutes in each zone; a cardio or peak minute earns two active zone
            // minutes, as Fitbit counts them (google-health-api.md: the sums are int64
            // strings; whether they are minutes or credits is UNCONFIRMED, minutes read).
            let (fat, cardio, peak) = (
                z.sum_in_fat_burn_heart_zone.count(),
                z.sum_in_cardio_heart_zone.count() * 2,
                z.sum_in_peak_heart_zone.count() * 2,
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
        // Minutes or energy per heart-rate zone, the zone named as Google names it; each
        // type fills its own column of the day's zone rows.
        let zones = (p.time_in_heart_rate_zone.as_ref())
            .map(|z| (&z.time_in_heart_rate_zones, true))
            .or(p
                .calories_in_heart_rate_zone
                .as_ref()
                .map(|z| (&z.calories_in_heart_rate_zones, false)));
        if let Some((zones, time)) = zones {
            for z in zones {
                let Some(mut row) = zone_row(uid, a.date(), z.heart_rate_zone.as_deref()) else {
                    continue;
                };
                if time {
                    row.minutes = Some(z.duration.map_or(0, |d| d.0) / 60);
                } else {
                    row.calories_kcal = Some(z.kcal.0.unwrap_or(0.0));
                }
                out.heart_rate_zones.push(row);
            }
            return Ok(());
        }
        let mut row = daily(uid, &source(), a.date());
        if let Some(x) = Sums::of(p) {
            (row.steps, row.floors, row.elevation_m) = (x.steps, x.floors, x.elevation_m);
            (row.distance_km, row.calories_kcal) = (x.distance_km, x.calories_kcal);
        } else if let Some(m) = &p.active_minutes {
            row.minutes_lightly_active = Some(0);
            row.minutes_fairly_active = Some(0);
            row.minutes_very_active = Some(0);
            for l in &m.active_minutes_rollup_by_activity_level {
                let n = Some(l.active_minutes_sum.count());
                match l.activity_level.as_deref() {
                    Some("LIGHT") => row.minutes_lightly_active = n,
                    Some("MODERATE") => row.minutes_fairly_active = n,
                    Some("VIGOROUS") => row.minutes_very_active = n,
                    _ => {}
                }
            }
        } else {
            return Ok(());
        }
        out.daily_activity.push(row);
        return Ok(());
    }
    // rollUp: physical windows without offsets.
    let (Some(a), Some(b)) = (p.start_time, p.end_time) else {
        return Err(bad(&format!("{}.endTime", path()), "missing"));
    };
    let (a, b) = (a.0, b.0);
    let local = ctx.tz.map(|tz| a.with_timezone(&tz).naive_local());
    let secs = (b - a).num_seconds();
    if let Some(h) = &p.heart_rate {
        if let Some(avg) = h.beats_per_minute_avg.0 {
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
    let Some(x) = Sums::of(p) else {
        return Ok(());
    };
    let mut row = activity_point(uid, &source(), a, local, secs);
    (row.steps, row.floors, row.elevation_m) = (x.steps, x.floors, x.elevation_m);
    (row.distance_km, row.calories_kcal) = (x.distance_km, x.calories_kcal);
    out.activity_intraday.push(row);
    Ok(())
}
