//! Serde models of Fitbit Web API responses: they mirror the API, nothing more.
//!
//! A response is recognised by its top-level keys (see [`FitbitDocument`]); each key's
//! value is parsed straight into its typed model, so a wrong value is reported with its
//! JSON path (`activities-steps[3].value`).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// A number that the API may send as a JSON number or as a string (`"value": "2504"`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Num(pub f64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a string holding a number")
            }
            fn visit_f64<E>(self, v: f64) -> Result<Num, E> {
                Ok(Num(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .map(Num)
                    .ok_or_else(|| E::custom(format!("expected a number, found the string {v:?}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// One point of a daily time series (`activities-steps`, `activities-log-steps`, ...).
#[derive(Debug, Clone, Deserialize)]
pub struct SeriesPoint {
    /// Local calendar day.
    #[serde(rename = "dateTime")]
    pub date_time: NaiveDate,
    /// The day's value (a string in the API).
    pub value: Num,
}

/// One day of the heart-rate time series.
#[derive(Debug, Clone, Deserialize)]
pub struct HeartDay {
    /// Local calendar day.
    #[serde(rename = "dateTime")]
    pub date_time: NaiveDate,
    /// Zones and resting heart rate.
    pub value: HeartValue,
}

/// The `value` object of a heart-rate day.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeartValue {
    /// Standard zones.
    #[serde(default)]
    pub heart_rate_zones: Vec<HeartZone>,
    /// User-defined zones.
    #[serde(default)]
    pub custom_heart_rate_zones: Vec<HeartZone>,
    /// Resting heart rate, absent on days without enough data.
    pub resting_heart_rate: Option<Num>,
}

/// One heart-rate zone of a day.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeartZone {
    /// Zone name.
    pub name: String,
    /// Lower bound, bpm.
    pub min: Option<Num>,
    /// Upper bound, bpm.
    pub max: Option<Num>,
    /// Minutes in the zone.
    pub minutes: Option<Num>,
    /// Calories burned in the zone.
    pub calories_out: Option<Num>,
}

/// An intraday dataset (`activities-heart-intraday`, `activities-steps-intraday`, ...).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Intraday {
    /// Points in time order; minutes without data are left out by the API.
    pub dataset: Vec<IntradayPoint>,
    /// Detail level count (1 for `1min`/`1sec`, 15 for `15min`).
    pub dataset_interval: Option<i64>,
    /// `second` or `minute`.
    pub dataset_type: Option<String>,
}

/// One intraday point. `time` is the local clock time within the requested day.
#[derive(Debug, Clone, Deserialize)]
pub struct IntradayPoint {
    /// Local time of day (`HH:mm:ss`), no offset.
    #[serde(deserialize_with = "hms")]
    pub time: NaiveTime,
    /// The value (a number here, unlike the daily series).
    pub value: Num,
    /// Activity level (calories series only).
    pub level: Option<Num>,
    /// METs times 10 (calories series only).
    pub mets: Option<Num>,
}

/// `HH:MM:SS` read by position (a second of heart rate is one of 86,400 a day), other
/// forms through chrono's parser.
fn hms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = NaiveTime;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a time of day `HH:MM:SS`")
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<NaiveTime, E> {
            if let Some(t) = super::fast::hms(s.as_bytes()) {
                return Ok(t);
            }
            s.parse()
                .map_err(|e| E::custom(format!("`{s}` is not a time of day ({e})")))
        }
    }
    d.deserialize_str(V)
}

/// A sleep log of the v1.2 API.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SleepLog {
    /// Log id, an unsigned 64-bit integer ("All integer ids … unsigned 64 bit").
    pub log_id: u64,
    /// The local date the sleep ended.
    pub date_of_sleep: NaiveDate,
    /// Local start, no offset.
    pub start_time: NaiveDateTime,
    /// Local end, no offset.
    pub end_time: NaiveDateTime,
    /// Length in milliseconds.
    pub duration: Option<Num>,
    /// Efficiency (not the sleep score).
    pub efficiency: Option<Num>,
    /// Main sleep or nap (`mainSleep` in Takeout archives).
    #[serde(alias = "mainSleep")]
    pub is_main_sleep: Option<bool>,
    /// Minutes asleep.
    pub minutes_asleep: Option<Num>,
    /// Minutes awake.
    pub minutes_awake: Option<Num>,
    /// Minutes after wake-up.
    pub minutes_after_wakeup: Option<Num>,
    /// Minutes to fall asleep.
    pub minutes_to_fall_asleep: Option<Num>,
    /// Minutes in bed.
    pub time_in_bed: Option<Num>,
    /// `stages` or `classic`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `auto_detected` or `manual`.
    pub log_type: Option<String>,
    /// Segments and per-level summary.
    pub levels: Option<SleepLevels>,
}

/// `levels` of a sleep log.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SleepLevels {
    /// Minutes and counts per level.
    #[serde(default)]
    pub summary: BTreeMap<String, LevelSummary>,
    /// Long segments; they tile the log.
    #[serde(default)]
    pub data: Vec<SleepSegment>,
    /// Short wakes (stages logs); they overlap `data`.
    #[serde(default)]
    pub short_data: Vec<SleepSegment>,
}

/// Minutes of one level in a sleep log.
#[derive(Debug, Clone, Deserialize)]
pub struct LevelSummary {
    /// Minutes in the level.
    pub minutes: Option<Num>,
}

/// One segment of a sleep log.
#[derive(Debug, Clone, Deserialize)]
pub struct SleepSegment {
    /// Local start, no offset. The 2017 docs and old fixtures spell the key `datetime`.
    #[serde(rename = "dateTime", alias = "datetime")]
    pub date_time: NaiveDateTime,
    /// Level name.
    pub level: String,
    /// Length in seconds.
    pub seconds: Num,
}

/// The `user` object of the profile response.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileUser {
    /// The user's encoded id (`26FWFL`).
    pub encoded_id: Option<String>,
    /// IANA time zone name.
    pub timezone: Option<String>,
    /// Current UTC offset in milliseconds.
    #[serde(rename = "offsetFromUTCMillis")]
    pub offset_from_utc_millis: Option<Num>,
    /// Display name.
    pub display_name: Option<String>,
    /// Date the account was created.
    pub member_since: Option<NaiveDate>,
}

/// One day of the HRV summary (`hrv[]`); intraday entries carry `minutes` instead.
#[derive(Debug, Clone, Deserialize)]
pub struct HrvDay {
    /// Local day (the day the sleep ended).
    #[serde(rename = "dateTime")]
    pub date_time: NaiveDate,
    /// The nightly figures (absent in intraday responses).
    pub value: Option<HrvValue>,
    /// The 5-minute samples of the night (intraday responses, `/all.json`).
    #[serde(default)]
    pub minutes: Vec<HrvMinute>,
}

/// One 5-minute HRV sample of the intraday answer.
#[derive(Debug, Clone, Deserialize)]
pub struct HrvMinute {
    /// Local wall clock of the sample (`2021-10-25T09:10:00.000`).
    pub minute: NaiveDateTime,
    /// RMSSD, coverage, HF and LF power.
    pub value: HrvMinuteValue,
}

/// `value` of an HRV sample.
#[derive(Debug, Clone, Deserialize)]
pub struct HrvMinuteValue {
    /// RMSSD, ms.
    pub rmssd: Option<Num>,
    /// Share of the 5 minutes with good data, 0 to 1.
    pub coverage: Option<Num>,
    /// High-frequency power, ms².
    pub hf: Option<Num>,
    /// Low-frequency power, ms².
    pub lf: Option<Num>,
}

/// The SpO2 samples of one night (`{dateTime, minutes}`, an array of them for a range).
#[derive(Debug, Clone, Deserialize)]
pub struct Spo2Night {
    /// Local day the sleep ended.
    #[serde(rename = "dateTime")]
    pub date_time: NaiveDate,
    /// The samples (5-minute moving averages).
    pub minutes: Vec<Spo2Minute>,
}

/// One SpO2 sample.
#[derive(Debug, Clone, Deserialize)]
pub struct Spo2Minute {
    /// Local wall clock of the sample.
    pub minute: NaiveDateTime,
    /// Percent.
    pub value: Option<Num>,
}

/// `value` of an HRV day.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HrvValue {
    /// RMSSD over the night, ms.
    pub daily_rmssd: Option<Num>,
    /// RMSSD in deep sleep, ms.
    pub deep_rmssd: Option<Num>,
}

/// One day of the breathing-rate summary (`br[]`). The intraday answer (`/all.json`)
/// carries per-stage summaries instead; its full-sleep figure is used then.
#[derive(Debug, Clone, Deserialize)]
pub struct BrDay {
    /// Local day (the day the sleep ended).
    #[serde(rename = "dateTime")]
    pub date_time: NaiveDate,
    /// The night's figures.
    pub value: BrValue,
}

/// `value` of a breathing-rate day.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrValue {
    /// Breaths per minute (summary answer).
    pub breathing_rate: Option<Num>,
    /// The whole sleep (intraday answer).
    pub full_sleep_summary: Option<BrStage>,
    /// Deep sleep (intraday answer).
    pub deep_sleep_summary: Option<BrStage>,
    /// Light sleep (intraday answer).
    pub light_sleep_summary: Option<BrStage>,
    /// REM sleep (intraday answer).
    pub rem_sleep_summary: Option<BrStage>,
}

/// One stage's breathing rate; `-1` means no value (br-intraday-date.json).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrStage {
    /// Breaths per minute, or -1.
    pub breathing_rate: Option<Num>,
}

/// One day of active zone minutes. Zones without minutes are left out (azm-range.json).
#[derive(Debug, Clone, Deserialize)]
pub struct AzmDay {
    /// Local day.
    #[serde(rename = "dateTime")]
    pub date_time: NaiveDate,
    /// The day's minutes.
    pub value: AzmValue,
}

/// `value` of an active-zone-minutes day.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzmValue {
    /// All zones.
    pub active_zone_minutes: Option<Num>,
    /// Fat-burn zone.
    pub fat_burn_active_zone_minutes: Option<Num>,
    /// Cardio zone (counted double).
    pub cardio_active_zone_minutes: Option<Num>,
    /// Peak zone (counted double).
    pub peak_active_zone_minutes: Option<Num>,
}

/// One night of skin temperature (`tempSkin[]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TempSkinDay {
    /// Local day (the day the sleep ended).
    pub date_time: NaiveDate,
    /// The night's figure.
    pub value: TempSkinValue,
}

/// `value` of a skin-temperature night.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TempSkinValue {
    /// Degrees Celsius above (or below) the person's baseline.
    pub nightly_relative: Option<Num>,
}

/// One day of the cardio fitness score; `vo2Max` is a string: a range or a number.
#[derive(Debug, Clone, Deserialize)]
pub struct CardioDay {
    /// Local day.
    #[serde(rename = "dateTime")]
    pub date_time: NaiveDate,
    /// The score.
    pub value: CardioValue,
}

/// `value` of a cardio score day.
#[derive(Debug, Clone, Deserialize)]
pub struct CardioValue {
    /// `"42-46"` or `"44"`, ml/kg/min.
    #[serde(rename = "vo2Max")]
    pub vo2_max: String,
}

/// A weight or body-fat log entry (`weight[]`, `fat[]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BodyLog {
    /// Log id.
    pub log_id: u64,
    /// Local date.
    pub date: NaiveDate,
    /// Local time of day.
    pub time: Option<NaiveTime>,
    /// Weight in the unit of the request (kg without `Accept-Language`).
    pub weight: Option<Num>,
    /// Body mass index.
    pub bmi: Option<Num>,
    /// Body fat, percent.
    pub fat: Option<Num>,
    /// What made the entry.
    pub source: Option<String>,
}

/// One paired device (`devices.json`, a bare array). The MAC address is not read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    /// The device's id (a string of digits).
    pub id: String,
    /// `TRACKER` or `SCALE`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The product (`Charge 6`).
    pub device_version: Option<String>,
    /// Battery level, percent.
    pub battery_level: Option<Num>,
    /// `High`, `Medium`, `Low` or `Empty`.
    pub battery: Option<String>,
    /// The last sync, the account's wall clock without an offset
    /// (`2019-11-07T12:00:58.000`).
    pub last_sync_time: Option<NaiveDateTime>,
}

/// One entry of the activity log list (`activities/list.json`): an exercise session.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityLog {
    /// Log id.
    pub log_id: u64,
    /// The activity's name (`Walk`, `Run`, `Outdoor Bike`).
    pub activity_name: Option<String>,
    /// Start with its offset (`2021-01-04T07:23:34.000-05:00`).
    pub start_time: chrono::DateTime<chrono::FixedOffset>,
    /// Length in milliseconds.
    pub duration: Option<Num>,
    /// Time moving in milliseconds.
    pub active_duration: Option<Num>,
    /// Energy, kcal.
    pub calories: Option<Num>,
    /// Steps.
    pub steps: Option<Num>,
    /// Distance in `distance_unit`.
    pub distance: Option<Num>,
    /// `Kilometer` or `Mile`.
    pub distance_unit: Option<String>,
    /// Average heart rate, bpm.
    pub average_heart_rate: Option<Num>,
    /// Active zone minutes of the session.
    pub active_zone_minutes: Option<ActivityAzm>,
    /// Whether the session has a GPS route (a TCX link).
    pub has_gps: Option<bool>,
    /// `auto_detected`, `manual`, `tracker`, `mobile_run`.
    pub log_type: Option<String>,
}

/// `activeZoneMinutes` of an activity log entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityAzm {
    /// Active zone minutes in all zones.
    pub total_minutes: Option<Num>,
}

/// One day of the SpO2 summary.
#[derive(Debug, Clone, Deserialize)]
pub struct Spo2Day {
    /// Local day.
    #[serde(rename = "dateTime")]
    pub date_time: NaiveDate,
    /// Average, lowest and highest percent.
    pub value: Spo2Value,
}

/// `value` of an SpO2 day.
#[derive(Debug, Clone, Deserialize)]
pub struct Spo2Value {
    /// Average percent.
    pub avg: Option<Num>,
    /// Lowest percent.
    pub min: Option<Num>,
    /// Highest percent.
    pub max: Option<Num>,
}

/// A parsed Fitbit Web API response. One response can carry several parts (an intraday
/// response has the day's summary series and the intraday dataset).
#[derive(Debug, Clone, Default)]
pub struct FitbitDocument {
    /// Daily series by resource name (`steps`, `calories`, ...), from `activities-{r}` and
    /// the tutorial's `activities-log-{r}`.
    pub series: Vec<(String, Vec<SeriesPoint>)>,
    /// `activities-heart`.
    pub heart: Vec<HeartDay>,
    /// Intraday datasets by resource name (`heart`, `steps`, ...).
    pub intraday: Vec<(String, Intraday)>,
    /// `sleep` logs.
    pub sleep: Vec<SleepLog>,
    /// `user` of a profile response.
    pub profile: Option<ProfileUser>,
    /// HRV summary days.
    pub hrv: Vec<HrvDay>,
    /// Cardio fitness score days.
    pub cardio: Vec<CardioDay>,
    /// Weight and body-fat log entries.
    pub body: Vec<BodyLog>,
    /// SpO2 summary days (the endpoint has no wrapper key).
    pub spo2: Vec<Spo2Day>,
    /// SpO2 samples by night (`/all.json`, no wrapper key either).
    pub spo2_nights: Vec<Spo2Night>,
    /// Breathing-rate days.
    pub breathing: Vec<BrDay>,
    /// Active-zone-minutes days.
    pub azm: Vec<AzmDay>,
    /// Skin-temperature nights.
    pub skin: Vec<TempSkinDay>,
    /// Paired devices.
    pub devices: Vec<DeviceInfo>,
    /// Exercise sessions of the activity log list.
    pub exercises: Vec<ActivityLog>,
    /// Recognised content that no table holds (devices, error bodies, ...), described.
    pub ignored: Vec<String>,
    /// Top-level keys not recognised.
    pub unknown: Vec<String>,
    /// Top-level keys recognised as a known response part, empty or not: `{"sleep": []}`
    /// (a range without logs) is a valid answer with no rows, not an unknown shape.
    pub recognised: Vec<String>,
}

impl FitbitDocument {
    /// Whether anything in the document was recognised (an empty list counts: it is the
    /// API's answer for a window without data).
    pub fn is_recognised(&self) -> bool {
        !(self.recognised.is_empty()
            && self.series.is_empty()
            && self.heart.is_empty()
            && self.intraday.is_empty()
            && self.sleep.is_empty()
            && self.profile.is_none()
            && self.hrv.is_empty()
            && self.cardio.is_empty()
            && self.body.is_empty()
            && self.spo2.is_empty()
            && self.spo2_nights.is_empty()
            && self.breathing.is_empty()
            && self.azm.is_empty()
            && self.skin.is_empty()
            && self.devices.is_empty()
            && self.exercises.is_empty()
            && self.ignored.is_empty())
    }
}

/// Daily series that land in `daily_activity`.
pub const DAILY_RESOURCES: &[&str] = &[
    "steps",
    "distance",
    "floors",
    "elevation",
    "calories",
    "minutesSedentary",
    "minutesLightlyActive",
    "minutesFairlyActive",
    "minutesVeryActive",
];

/// Keys of responses that fitpipe recognises but that hold no table's data (yet).
const IGNORED_KEYS: &[(&str, &str)] = &[
    ("errors", "an API error response"),
    (
        "meta",
        "a sleep response still being processed (`meta.state`)",
    ),
    ("access_token", "an OAuth token response"),
];

impl<'de> Deserialize<'de> for FitbitDocument {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DocVisitor)
    }
}

struct DocVisitor;

impl<'de> Visitor<'de> for DocVisitor {
    type Value = FitbitDocument;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Fitbit Web API response (a JSON object or array)")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Two documented responses are bare arrays: devices and SpO2 by interval.
        let mut doc = FitbitDocument::default();
        let mut what = None;
        while let Some(item) = seq.next_element::<serde_json::Value>()? {
            if item.get("value").and_then(|v| v.get("avg")).is_some() {
                doc.spo2
                    .push(serde_json::from_value(item).map_err(de::Error::custom)?);
                what = Some("");
                continue;
            }
            if item.get("deviceVersion").is_some() || item.get("lastSyncTime").is_some() {
                doc.devices
                    .push(serde_json::from_value(item).map_err(de::Error::custom)?);
                what = Some("");
                continue;
            }
            if item.get("dateTime").is_some() && item.get("minutes").is_some() {
                doc.spo2_nights
                    .push(serde_json::from_value(item).map_err(de::Error::custom)?);
                what = Some("");
                continue;
            }
            if what.is_none() {
                what = Some("an unrecognised array");
            }
        }
        match what {
            Some("") => {}
            Some("an unrecognised array") => doc.unknown.push("[array]".into()),
            Some(w) => doc.ignored.push(w.into()),
            None => doc.ignored.push("an empty array".into()),
        }
        Ok(doc)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut doc = FitbitDocument::default();
        let (mut spo2_date, mut spo2_value, mut spo2_minutes) = (None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            let known = doc.unknown.len();
            let key_seen = key.clone();
            if key == "sleep" {
                doc.sleep = map.next_value()?;
            } else if key == "user" {
                doc.profile = Some(map.next_value()?);
            } else if key == "activities-heart" {
                doc.heart = map.next_value()?;
            } else if key == "hrv" {
                doc.hrv = map.next_value()?;
            } else if key == "br" {
                doc.breathing = map.next_value()?;
            } else if key == "activities-active-zone-minutes" {
                doc.azm = map.next_value()?;
            } else if key == "tempSkin" {
                doc.skin = map.next_value()?;
            } else if key == "activities" {
                // The activity log list; a day's summary has `activities` too, whose
                // entries carry a time of day only: those are not sessions read here.
                let items: Vec<serde_json::Value> = map.next_value()?;
                for (i, item) in items.into_iter().enumerate() {
                    let whole = item["startTime"]
                        .as_str()
                        .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok());
                    if whole {
                        doc.exercises.push(
                            serde_json::from_value(item)
                                .map_err(|e| de::Error::custom(format!("activities[{i}]: {e}")))?,
                        );
                    } else if !doc.ignored.iter().any(|w| w.starts_with("a day's logged")) {
                        doc.ignored
                            .push("a day's logged activities without start instants".into());
                    }
                }
            } else if key == "cardioScore" {
                doc.cardio = map.next_value()?;
            } else if key == "weight" || key == "fat" {
                let logs: Vec<BodyLog> = map.next_value()?;
                doc.body.extend(logs);
            } else if key == "dateTime" {
                // The SpO2 summary of one day is a bare object: `{dateTime, value}`.
                spo2_date = Some(map.next_value::<NaiveDate>()?);
            } else if key == "value" {
                let v: serde_json::Value = map.next_value()?;
                if v.get("avg").is_some() {
                    spo2_value =
                        Some(serde_json::from_value::<Spo2Value>(v).map_err(de::Error::custom)?);
                }
            } else if key == "minutes" {
                // The SpO2 samples of one night: `{dateTime, minutes}`.
                spo2_minutes = Some(map.next_value::<Vec<Spo2Minute>>()?);
            } else if key == "summary" || key == "pagination" {
                // Totals of the sleep-by-date response, paging links: derived or not data.
                map.next_value::<IgnoredAny>()?;
            } else if let Some(res) = key
                .strip_prefix("activities-")
                .and_then(|r| r.strip_suffix("-intraday"))
            {
                let res = res.strip_prefix("log-").unwrap_or(res).to_string();
                doc.intraday.push((res, map.next_value()?));
            } else if let Some(res) = key
                .strip_prefix("activities-log-")
                .or_else(|| key.strip_prefix("activities-"))
                .filter(|r| DAILY_RESOURCES.contains(r))
            {
                doc.series.push((res.to_string(), map.next_value()?));
            } else if let Some((_, what)) = IGNORED_KEYS.iter().find(|(k, _)| *k == key) {
                map.next_value::<IgnoredAny>()?;
                if !doc.ignored.iter().any(|w| w == what) {
                    doc.ignored.push((*what).to_string());
                }
            } else if key.starts_with("activities-") || key.starts_with("body-") {
                map.next_value::<IgnoredAny>()?;
                doc.ignored
                    .push(format!("the series `{key}` (no table holds it)"));
            } else {
                map.next_value::<IgnoredAny>()?;
                doc.unknown.push(key);
            }
            // `summary`, `pagination` and the SpO2 day's loose fields are parts of a
            // response, not a response of their own.
            let part_only = ["summary", "pagination", "dateTime", "value", "minutes"];
            if doc.unknown.len() == known && !part_only.contains(&key_seen.as_str()) {
                doc.recognised.push(key_seen);
            }
        }
        match (spo2_date, spo2_value, spo2_minutes) {
            (Some(date_time), Some(value), _) => doc.spo2.push(Spo2Day { date_time, value }),
            (Some(date_time), None, Some(minutes)) => {
                doc.spo2_nights.push(Spo2Night { date_time, minutes })
            }
            (_, _, Some(_)) => doc.unknown.push("minutes".into()),
            _ => {}
        }
        Ok(doc)
    }
}
