//! `normalise`: a parsed Fitbit Web API response to rows of the tidy tables.

use std::collections::BTreeSet;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::model::{BrStage, FitbitDocument, HeartZone, Intraday, Num, SleepLog};
use crate::tables::*;
use crate::time::{offset_at, SeriesClock};
use crate::TransformError;

/// The `source` value of rows from the Fitbit Web API.
pub const SOURCE: &str = "fitbit-web-api";

/// [`SOURCE`] as the shared string every row points to.
fn source() -> Arc<str> {
    // One per thread: threads normalising side by side do not contend for one count.
    thread_local! {
        static S: Arc<str> = Arc::from(SOURCE);
    }
    S.with(Arc::clone)
}

const KM_PER_MILE: f64 = 1.609_344;
const M_PER_FOOT: f64 = 0.3048;

/// The unit system a response was fetched with (the `Accept-Language` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Units {
    /// No `Accept-Language` or anything but `en_US`/`en_GB`: km, metres (fitpipe's requests).
    #[default]
    Metric,
    /// `en_US` (python-fitbit's default): miles, feet.
    Us,
}

/// Who the rows belong to and how to place their local times.
#[derive(Debug, Clone)]
pub struct Context {
    /// Value of `user_id` on every row.
    pub user_id: Arc<str>,
    /// The user's IANA zone, needed for anything with a time of day.
    pub tz: Option<Tz>,
    /// When the response was fetched (the profile's `updated_utc`).
    pub fetched_utc: Option<DateTime<Utc>>,
    /// Unit system of the response.
    pub units: Units,
}

impl Context {
    fn tz(&self, what: &'static str) -> Result<Tz, TransformError> {
        self.tz.ok_or(TransformError::NeedTimezone { what })
    }
}

fn int(v: Option<Num>, path: impl FnOnce() -> String) -> Result<Option<i64>, TransformError> {
    match v {
        None => Ok(None),
        Some(Num(x)) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(Some(x as i64)),
        Some(Num(x)) => Err(TransformError::Value {
            path: path(),
            message: format!("expected a whole number, found {x}"),
        }),
    }
}

fn float(v: Option<Num>) -> Option<f64> {
    v.map(|n| n.0)
}

/// An all-null `daily_activity` row for one day.
pub(crate) fn daily(user_id: &Arc<str>, source: &Arc<str>, date: NaiveDate) -> DailyActivity {
    DailyActivity {
        user_id: user_id.clone(),
        source: source.clone(),
        date,
        steps: None,
        distance_km: None,
        floors: None,
        elevation_m: None,
        calories_kcal: None,
        minutes_sedentary: None,
        minutes_lightly_active: None,
        minutes_fairly_active: None,
        minutes_very_active: None,
        resting_heart_rate_bpm: None,
    }
}

/// An all-null `activity_intraday` row for one instant.
pub(crate) fn activity_point(
    user_id: &Arc<str>,
    source: &Arc<str>,
    time_utc: DateTime<Utc>,
    time_local: Option<NaiveDateTime>,
    interval_seconds: i64,
) -> ActivityIntraday {
    ActivityIntraday {
        user_id: user_id.clone(),
        source: source.clone(),
        time_utc,
        time_local,
        steps: None,
        calories_kcal: None,
        distance_km: None,
        floors: None,
        elevation_m: None,
        activity_level: None,
        mets: None,
        interval_seconds: Some(interval_seconds),
    }
}

/// Turns one parsed response into table rows.
pub fn normalise(doc: &FitbitDocument, ctx: &Context) -> Result<RowSet, TransformError> {
    let mut out = RowSet::default();
    let uid = &ctx.user_id;
    let src = source();
    let (dist, elev) = match ctx.units {
        Units::Metric => (1.0, 1.0),
        Units::Us => (KM_PER_MILE, M_PER_FOOT),
    };

    for (res, points) in &doc.series {
        for (i, p) in points.iter().enumerate() {
            let mut row = daily(uid, &src, p.date_time);
            let v = Some(p.value);
            let path = || format!("activities-{res}[{i}].value");
            match res.as_str() {
                "steps" => row.steps = int(v, path)?,
                "distance" => row.distance_km = Some(p.value.0 * dist),
                "floors" => row.floors = int(v, path)?,
                "elevation" => row.elevation_m = Some(p.value.0 * elev),
                "calories" => row.calories_kcal = Some(p.value.0),
                "minutesSedentary" => row.minutes_sedentary = int(v, path)?,
                "minutesLightlyActive" => row.minutes_lightly_active = int(v, path)?,
                "minutesFairlyActive" => row.minutes_fairly_active = int(v, path)?,
                "minutesVeryActive" => row.minutes_very_active = int(v, path)?,
                _ => continue,
            }
            out.daily_activity.push(row);
        }
    }

    for (i, day) in doc.heart.iter().enumerate() {
        if let Some(rhr) = day.value.resting_heart_rate {
            let mut row = daily(uid, &src, day.date_time);
            row.resting_heart_rate_bpm = Some(rhr.0);
            out.daily_activity.push(row);
        }
        let zones = day.value.heart_rate_zones.iter().map(|z| (z, false));
        let custom = day.value.custom_heart_rate_zones.iter().map(|z| (z, true));
        for (j, (z, is_custom)) in zones.chain(custom).enumerate() {
            out.heart_rate_zones
                .push(zone_row(uid, day.date_time, z, is_custom, || {
                    format!("activities-heart[{i}].value.heartRateZones[{j}].minutes")
                })?);
        }
    }

    for (res, data) in &doc.intraday {
        intraday(doc, res, data, ctx, &mut out)?;
    }

    for (i, log) in doc.sleep.iter().enumerate() {
        sleep(log, i, ctx, &src, &mut out)?;
    }

    // SpO2 and HRV samples carry the local wall clock only: UTC from the zone, in order
    // through the night (a repeated hour of the autumn change is told apart by order).
    if doc.hrv.iter().any(|d| !d.minutes.is_empty()) || !doc.spo2_nights.is_empty() {
        let tz = ctx.tz("SpO2 and HRV sample times")?;
        for d in &doc.hrv {
            let mut clock = SeriesClock::new(tz);
            for m in &d.minutes {
                let v = &m.value;
                out.hrv_intraday.push(HrvIntraday {
                    user_id: uid.clone(),
                    source: src.clone(),
                    time_utc: clock.to_utc(m.minute),
                    time_local: Some(m.minute),
                    rmssd_ms: float(v.rmssd),
                    coverage: float(v.coverage),
                    hf_power: float(v.hf),
                    lf_power: float(v.lf),
                });
            }
        }
        for night in &doc.spo2_nights {
            let mut clock = SeriesClock::new(tz);
            for m in &night.minutes {
                out.spo2_intraday.push(Spo2Intraday {
                    user_id: uid.clone(),
                    source: src.clone(),
                    time_utc: clock.to_utc(m.minute),
                    time_local: Some(m.minute),
                    percent: float(m.value),
                });
            }
        }
    }
    for d in &doc.hrv {
        let Some(v) = &d.value else { continue };
        out.hrv_daily.push(HrvDaily {
            user_id: uid.clone(),
            source: src.clone(),
            date: d.date_time,
            rmssd_ms: float(v.daily_rmssd),
            deep_rmssd_ms: float(v.deep_rmssd),
            nrem_heart_rate_bpm: None,
            entropy: None,
        });
    }
    for d in &doc.breathing {
        // -1 is no value (br-intraday-date.json).
        let rate = |s: &Option<BrStage>| {
            s.as_ref()
                .and_then(|s| s.breathing_rate)
                .map(|n| n.0)
                .filter(|x| *x >= 0.0)
        };
        let b = &d.value;
        if b.full_sleep_summary.is_some() {
            // The intraday answer: the night by stage.
            out.breathing_rate_sleep.push(BreathingRateSleep {
                user_id: uid.clone(),
                source: src.clone(),
                date: d.date_time,
                time_utc: None,
                time_local: None,
                full_sleep_breaths_per_minute: rate(&b.full_sleep_summary),
                deep_sleep_breaths_per_minute: rate(&b.deep_sleep_summary),
                light_sleep_breaths_per_minute: rate(&b.light_sleep_summary),
                rem_sleep_breaths_per_minute: rate(&b.rem_sleep_summary),
                full_sleep_standard_deviation: None,
                deep_sleep_standard_deviation: None,
                light_sleep_standard_deviation: None,
                rem_sleep_standard_deviation: None,
                full_sleep_signal_to_noise: None,
                deep_sleep_signal_to_noise: None,
                light_sleep_signal_to_noise: None,
                rem_sleep_signal_to_noise: None,
            });
        }
        // The summary's figure, else the intraday answer's full sleep.
        let v = b
            .breathing_rate
            .map(|n| n.0)
            .filter(|x| *x >= 0.0)
            .or_else(|| rate(&b.full_sleep_summary));
        if v.is_none() {
            continue;
        }
        out.breathing_rate_daily.push(BreathingRateDaily {
            user_id: uid.clone(),
            source: src.clone(),
            date: d.date_time,
            breaths_per_minute: v,
        });
    }
    for d in &doc.azm {
        // Zones without minutes are left out of the answer: they are 0 on a day listed.
        let n = |x: Option<Num>| Some(x.map_or(0, |v| v.0.round() as i64));
        let v = &d.value;
        out.active_zone_minutes_daily.push(ActiveZoneMinutesDaily {
            user_id: uid.clone(),
            source: src.clone(),
            date: d.date_time,
            active_zone_minutes: n(v.active_zone_minutes),
            fat_burn_active_zone_minutes: n(v.fat_burn_active_zone_minutes),
            cardio_active_zone_minutes: n(v.cardio_active_zone_minutes),
            peak_active_zone_minutes: n(v.peak_active_zone_minutes),
        });
    }
    for d in &doc.skin {
        out.skin_temperature_daily.push(SkinTemperatureDaily {
            user_id: uid.clone(),
            source: src.clone(),
            date: d.date_time,
            relative_celsius: float(d.value.nightly_relative),
            nightly_celsius: None,
            baseline_celsius: None,
        });
    }
    for (i, d) in doc.cardio.iter().enumerate() {
        // `vo2Max` is a string: a range ("42-46") or one number ("44").
        let bad = || TransformError::Value {
            path: format!("cardioScore[{i}].value.vo2Max"),
            message: format!(
                "expected `low-high` or a number, found {:?}",
                d.value.vo2_max
            ),
        };
        let parts: Vec<f64> = d
            .value
            .vo2_max
            .split('-')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| bad())?;
        let (low, high) = match parts.as_slice() {
            [x] => (*x, *x),
            [a, b] => (*a, *b),
            _ => return Err(bad()),
        };
        out.vo2max_daily.push(Vo2maxDaily {
            user_id: uid.clone(),
            source: src.clone(),
            date: d.date_time,
            vo2max: Some((low + high) / 2.0),
            vo2max_low: Some(low),
            vo2max_high: Some(high),
            vo2max_error: None,
            cardio_fitness_level: None,
            estimated: None,
        });
    }
    for d in &doc.spo2 {
        out.spo2_daily.push(Spo2Daily {
            user_id: uid.clone(),
            source: src.clone(),
            date: d.date_time,
            avg_percent: float(d.value.avg),
            min_percent: float(d.value.min),
            max_percent: float(d.value.max),
        });
    }
    if !doc.body.is_empty() {
        let tz = ctx.tz("weight log times")?;
        let kg = match ctx.units {
            Units::Metric => 1.0,
            Units::Us => 0.453_592_37,
        };
        for b in &doc.body {
            let local = b.date.and_time(b.time.unwrap_or_default());
            out.weight_log.push(WeightLog {
                user_id: uid.clone(),
                source: src.clone(),
                log_id: b.log_id.to_string().into(),
                date: b.date,
                time_local: Some(local),
                time_utc: Some(crate::time::local_to_utc(tz, local)),
                weight_kg: b.weight.map(|w| w.0 * kg),
                bmi: float(b.bmi),
                fat_percent: float(b.fat),
                log_source: b.source.clone(),
            });
        }
    }

    for b in doc.body.iter().filter(|b| b.fat.is_some()) {
        let tz = ctx.tz("body-fat log times")?;
        let local = b.date.and_time(b.time.unwrap_or_default());
        out.body_fat_log.push(BodyFatLog {
            user_id: uid.clone(),
            source: src.clone(),
            time_utc: crate::time::local_to_utc(tz, local),
            time_local: Some(local),
            date: b.date,
            fat_percent: float(b.fat),
            log_source: b.source.clone(),
        });
    }
    for d in &doc.devices {
        out.devices.push(Device {
            user_id: uid.clone(),
            source: src.clone(),
            device_id: d.id.as_str().into(),
            device_type: d.kind.as_deref().map(crate::google::device_type),
            device_version: d.device_version.clone(),
            battery_level: int(d.battery_level, || "devices[].batteryLevel".into())?,
            battery_status: d.battery.as_deref().map(str::to_ascii_lowercase),
            // The wall clock without an offset: its instant only where the zone is known.
            last_sync_utc: d
                .last_sync_time
                .zip(ctx.tz)
                .map(|(l, tz)| crate::time::local_to_utc(tz, l)),
            last_sync_local: d.last_sync_time,
            seen_utc: ctx.fetched_utc,
        });
    }
    for (i, a) in doc.exercises.iter().enumerate() {
        out.exercise_sessions
            .push(exercise(a, ctx, dist, || format!("activities[{i}]"))?);
    }

    if let Some(p) = &doc.profile {
        let offset = match (&p.timezone, p.offset_from_utc_millis) {
            (_, Some(ms)) => {
                int(Some(ms), || "user.offsetFromUTCMillis".into())?.map(|m| m / 60_000)
            }
            (Some(tz), None) => {
                let tz: Tz = tz
                    .parse()
                    .map_err(|_| TransformError::UnknownTimezone(tz.clone()))?;
                ctx.fetched_utc
                    .map(|t| offset_at(tz, t.with_timezone(&tz).naive_local()).num_minutes())
            }
            (None, None) => None,
        };
        out.profile.push(Profile {
            user_id: uid.clone(),
            source: src.clone(),
            timezone: p.timezone.clone(),
            utc_offset_minutes: offset,
            display_name: p.display_name.clone(),
            member_since: p.member_since,
            updated_utc: ctx.fetched_utc,
            legacy_user_id: (&*ctx.user_id != "-").then(|| ctx.user_id.to_string()),
        });
    }
    Ok(out)
}

/// An activity log entry as an exercise session (the Web API's list and Takeout's
/// `exercise-N.json`, whose records are the same but for the start's clock).
pub(crate) fn exercise(
    a: &crate::fitbit::model::ActivityLog,
    ctx: &Context,
    dist: f64,
    path: impl Fn() -> String,
) -> Result<ExerciseSession, TransformError> {
    let start_local = a.start_time.naive_local();
    let start = a.start_time.with_timezone(&Utc);
    let ms = |v: Option<Num>, f: &str| int(v, || format!("{}.{f}", path()));
    let duration = ms(a.duration, "duration")?;
    let end = duration.map(|d| start + chrono::Duration::milliseconds(d));
    // The distance in the entry's own unit (a US account's list is in miles).
    let km = match a.distance_unit.as_deref() {
        Some(u) if u.eq_ignore_ascii_case("mile") => KM_PER_MILE,
        Some(_) => 1.0,
        None => dist,
    };
    Ok(ExerciseSession {
        user_id: ctx.user_id.clone(),
        source: source(),
        exercise_id: a.log_id.to_string().into(),
        date: start_local.date(),
        start_utc: Some(start),
        start_local: Some(start_local),
        end_utc: end,
        end_local: duration.map(|d| start_local + chrono::Duration::milliseconds(d)),
        exercise_type: a.activity_name.as_deref().and_then(exercise_type),
        display_name: a.activity_name.clone(),
        active_seconds: ms(a.active_duration, "activeDuration")?.map(|m| m / 1000),
        calories_kcal: float(a.calories),
        distance_km: a.distance.map(|d| d.0 * km),
        steps: int(a.steps, || format!("{}.steps", path()))?,
        avg_heart_rate_bpm: float(a.average_heart_rate),
        active_zone_minutes: int(
            a.active_zone_minutes.as_ref().and_then(|z| z.total_minutes),
            || format!("{}.activeZoneMinutes.totalMinutes", path()),
        )?,
        has_gps: Some(a.has_gps.unwrap_or(false)),
        log_type: a.log_type.clone(),
    })
}

/// Google's exercise type for a Fitbit activity name, where the two name the same thing.
fn exercise_type(name: &str) -> Option<String> {
    let t = match name.to_ascii_lowercase().as_str() {
        "walk" | "walking" => "walking",
        "run" | "running" => "running",
        "hike" | "hiking" => "hiking",
        "bike" | "outdoor bike" | "biking" => "biking",
        "swim" | "swimming" => "swimming",
        "yoga" => "yoga",
        "elliptical" => "elliptical",
        _ => return None,
    };
    Some(t.into())
}

fn zone_row(
    uid: &Arc<str>,
    date: NaiveDate,
    z: &HeartZone,
    is_custom: bool,
    path: impl FnOnce() -> String,
) -> Result<HeartRateZone, TransformError> {
    Ok(HeartRateZone {
        user_id: uid.clone(),
        source: source(),
        date,
        zone: z.name.as_str().into(),
        min_bpm: float(z.min),
        max_bpm: float(z.max),
        minutes: int(z.minutes, path)?,
        calories_kcal: float(z.calories_out),
        is_custom: Some(is_custom),
    })
}

/// The days an intraday dataset covers, from the summary series sent with it.
fn intraday_dates(doc: &FitbitDocument, res: &str) -> Vec<NaiveDate> {
    let dates: BTreeSet<NaiveDate> = if res == "heart" {
        doc.heart.iter().map(|d| d.date_time).collect()
    } else {
        doc.series
            .iter()
            .filter(|(r, _)| r == res)
            .flat_map(|(_, p)| p.iter().map(|p| p.date_time))
            .collect()
    };
    dates.into_iter().collect()
}

fn intraday(
    doc: &FitbitDocument,
    res: &str,
    data: &Intraday,
    ctx: &Context,
    out: &mut RowSet,
) -> Result<(), TransformError> {
    if data.dataset.is_empty() {
        return Ok(());
    }
    let dates = intraday_dates(doc, res);
    let Some(&first) = dates.first() else {
        return Err(TransformError::Value {
            path: format!("activities-{res}-intraday"),
            message: format!(
                "the dataset has no date: the response lacks its `activities-{res}` summary"
            ),
        });
    };
    let tz = ctx.tz("intraday times")?;
    let step = match data.dataset_type.as_deref() {
        Some("second") => 1,
        Some("minute") | None => 60,
        Some(other) => {
            return Err(TransformError::Value {
                path: format!("activities-{res}-intraday.datasetType"),
                message: format!("unknown dataset type `{other}`"),
            })
        }
    } * data.dataset_interval.unwrap_or(1).max(1);
    let interval = if step == 1 { 1 } else { step };
    let (dist, elev) = match ctx.units {
        Units::Metric => (1.0, 1.0),
        Units::Us => (KM_PER_MILE, M_PER_FOOT),
    };
    let mut clock = SeriesClock::new(tz);
    let src_i = source();
    // A count of this answer's own: threads normalising other answers of the same user
    // do not contend for one shared count, row by row.
    let uid: Arc<str> = Arc::from(&*ctx.user_id);
    if res == "heart" {
        out.heart_rate_intraday.reserve(data.dataset.len());
    } else {
        out.activity_intraday.reserve(data.dataset.len());
    }
    // A range request concatenates days; a time going backwards starts the next day.
    let mut date = first;
    let mut prev_time = None;
    for (i, p) in data.dataset.iter().enumerate() {
        if prev_time.is_some_and(|t| p.time <= t) {
            date = date.succ_opt().unwrap_or(date);
        }
        prev_time = Some(p.time);
        let local = date.and_time(p.time);
        let utc = clock.to_utc(local);
        let path = || format!("activities-{res}-intraday.dataset[{i}].value");
        if res == "heart" {
            out.heart_rate_intraday.push(HeartRateIntraday {
                user_id: uid.clone(),
                source: src_i.clone(),
                time_utc: utc,
                time_local: Some(local),
                bpm: Some(p.value.0),
                confidence: None,
                interval_seconds: Some(interval),
            });
            continue;
        }
        let mut row = activity_point(&uid, &src_i, utc, Some(local), interval);
        match res {
            "steps" => row.steps = int(Some(p.value), path)?,
            "calories" => {
                row.calories_kcal = Some(p.value.0);
                row.activity_level = int(p.level, || {
                    format!("activities-{res}-intraday.dataset[{i}].level")
                })?;
                row.mets = p.mets.map(|m| m.0 / 10.0);
            }
            "distance" => row.distance_km = Some(p.value.0 * dist),
            "floors" => row.floors = int(Some(p.value), path)?,
            "elevation" => row.elevation_m = Some(p.value.0 * elev),
            _ => return Ok(()),
        }
        out.activity_intraday.push(row);
    }
    Ok(())
}

/// Rows of one sleep log (shared with the Takeout reader, whose sleep files hold the same logs).
pub(crate) fn sleep(
    log: &SleepLog,
    i: usize,
    ctx: &Context,
    src: &Arc<str>,
    out: &mut RowSet,
) -> Result<(), TransformError> {
    let tz = ctx.tz("sleep start and end times")?;
    let log_id: Arc<str> = log.log_id.to_string().into();
    let levels = log.levels.clone().unwrap_or_default();
    let kind = match log.kind.as_deref() {
        Some(k) => k.to_string(),
        None if levels.summary.contains_key("deep") || levels.summary.contains_key("rem") => {
            "stages".into()
        }
        None => "classic".into(),
    };
    // Fitbit stamps a whole sleep log with the offset in force when it started
    // (reference/fitbit-web-api.md §5, "DST caveat (sleep)"), so every time of the log is
    // placed with that one offset: segments then tile the log in UTC as they do locally.
    let offset = offset_at(tz, log.start_time);
    let utc = |local: NaiveDateTime| (local - offset).and_utc();
    let start_utc = utc(log.start_time);
    let minutes = |level: &str| -> Result<Option<i64>, TransformError> {
        int(levels.summary.get(level).and_then(|s| s.minutes), || {
            format!("sleep[{i}].levels.summary.{level}.minutes")
        })
    };
    let p = |field: &str| format!("sleep[{i}].{field}");
    out.sleep_sessions.push(SleepSession {
        user_id: ctx.user_id.clone(),
        source: src.clone(),
        log_id: log_id.clone(),
        date_of_sleep: log.date_of_sleep,
        start_utc: Some(start_utc),
        start_local: Some(log.start_time),
        end_utc: Some(utc(log.end_time)),
        end_local: Some(log.end_time),
        is_main_sleep: log.is_main_sleep,
        kind: kind.as_str().into(),
        log_type: log.log_type.clone(),
        minutes_in_bed: int(log.time_in_bed, || p("timeInBed"))?,
        minutes_asleep: int(log.minutes_asleep, || p("minutesAsleep"))?,
        minutes_awake: int(log.minutes_awake, || p("minutesAwake"))?,
        minutes_to_fall_asleep: int(log.minutes_to_fall_asleep, || p("minutesToFallAsleep"))?,
        minutes_after_wakeup: int(log.minutes_after_wakeup, || p("minutesAfterWakeup"))?,
        efficiency: float(log.efficiency),
        minutes_deep: minutes("deep")?,
        minutes_light: minutes("light")?,
        minutes_rem: minutes("rem")?,
        minutes_wake: if kind == "classic" {
            minutes("awake")?
        } else {
            minutes("wake")?
        },
        minutes_restless: minutes("restless")?,
    });
    for (is_short, segs, name) in [
        (false, &levels.data, "data"),
        (true, &levels.short_data, "shortData"),
    ] {
        for (j, s) in segs.iter().enumerate() {
            out.sleep_stages.push(SleepStage {
                user_id: ctx.user_id.clone(),
                source: src.clone(),
                log_id: log_id.clone(),
                start_utc: utc(s.date_time),
                start_local: Some(s.date_time),
                seconds: int(Some(s.seconds), || {
                    format!("sleep[{i}].levels.{name}[{j}].seconds")
                })?,
                stage: s.level.to_lowercase().into(),
                is_short,
            });
        }
    }
    Ok(())
}
