//! The Google Health API v4 provider (google-health-api.md): OAuth endpoints and scopes,
//! resources, and how a date range becomes the fewest requests the documented caps allow.
//!
//! - Daily totals come from `:dailyRollUp` (one bucket per civil day, the end the next
//!   midnight, exclusive): 90-day windows, 14 for total-calories and active-minutes, with
//!   `pageSize` equal to the days of the window so `windowSizeDays × pageSize` stays
//!   within the cap.
//! - Daily types without rollups (resting heart rate, HRV, SpO2) and weight come from
//!   `list` with a civil date filter, 1000 points a page.
//! - Sleep comes from `list` with `sleep.interval.civil_end_time` (the member the
//!   discovery document and the live probe agree on), whose pages hold at most 25
//!   sessions: 12-day windows, so a main sleep and a nap every day fit one page.
//! - Intraday: heart rate one day per `list` request (about 8,000 samples of 10,000 a
//!   page), steps and distance six days per request (1,440 a day), calories by `:rollUp`
//!   of 60-second windows, six days per request (14-day cap).
//!
//! A window is one request; a page beyond the first (`nextPageToken`) is one more.

use chrono::{DateTime, Datelike, Duration, DurationRound, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};

use crate::provider::Window;
use crate::spec::spec;
use crate::Request;

/// The `source` and provider name.
pub const PROVIDER: &str = "google-health";

/// The production API base.
pub const API_BASE: &str = "https://health.googleapis.com";

const SCOPE_PREFIX: &str = "https://www.googleapis.com/auth/googlehealth.";

/// Scopes fitpipe asks for (read only).
pub const SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/googlehealth.activity_and_fitness.readonly",
    "https://www.googleapis.com/auth/googlehealth.health_metrics_and_measurements.readonly",
    "https://www.googleapis.com/auth/googlehealth.sleep.readonly",
    "https://www.googleapis.com/auth/googlehealth.settings.readonly",
];

/// Extra parameters of the authorization URL: a refresh token, every time.
pub const AUTH_PARAMS: &[(&str, &str)] = &[("access_type", "offline"), ("prompt", "consent")];

/// OAuth endpoints for an API base: Google's own for the production base, the same
/// paths on the base otherwise (the simulator serves both).
pub fn endpoints(base: &str) -> (String, String, String) {
    let base = base.trim_end_matches('/');
    if base == API_BASE {
        (
            "https://accounts.google.com/o/oauth2/v2/auth".into(),
            "https://oauth2.googleapis.com/token".into(),
            "https://oauth2.googleapis.com/revoke".into(),
        )
    } else {
        (
            format!("{base}/o/oauth2/v2/auth"),
            format!("{base}/token"),
            format!("{base}/revoke"),
        )
    }
}

/// The scope area (`sleep`, `activity_and_fitness`) of a granted scope list that is
/// missing among those fitpipe needs.
pub fn missing_scopes(granted: &str) -> Vec<&'static str> {
    SCOPES
        .iter()
        .copied()
        .filter(|s| !granted.split_whitespace().any(|g| g == *s))
        .map(|s| s.trim_start_matches(SCOPE_PREFIX))
        .collect()
}

/// Something fitpipe can fetch from Google Health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `users/me/identity` and `users/me/settings` (ids and time zone).
    Profile,
    /// A daily rollup: data type and its range cap in days.
    Daily(&'static str, i64),
    /// A daily type read by `list` (resting heart rate, HRV, SpO2): data type, filter member.
    DailyList(&'static str, &'static str),
    /// A sample type listed by its civil time, whole days (weight, body fat): data type,
    /// filter member.
    SampleList(&'static str, &'static str),
    /// An interval type listed by the local day its intervals start (sedentary periods):
    /// data type, filter member.
    IntervalList(&'static str, &'static str),
    /// Exercise sessions (`list`, 25 a page, by the local day they started).
    Exercise,
    /// Paired devices (`users/me/pairedDevices`, paged): read whole on every run.
    Devices,
    /// Sleep sessions with stages.
    Sleep,
    /// Intraday heart rate (`list`, one day a request).
    IntradayHeart,
    /// Intraday steps or distance (`list`, six days a request).
    IntradayList(&'static str),
    /// Intraday calories (`:rollUp` with 60-second windows).
    IntradayCalories,
    /// Samples through the night (HRV, SpO2): data type, filter member; six days a
    /// request.
    IntradaySamples(&'static str, &'static str),
}

/// One daily resource, declared once (see [`crate::spec::Spec`]).
pub type Spec = crate::spec::Spec<Resource>;

/// Every daily resource (caps: google-health-live-2026.md, "Rollups").
pub const SPECS: &[Spec] = &[
    spec("profile", Resource::Profile),
    spec("steps", Resource::Daily("steps", 90)),
    spec("calories", Resource::Daily("total-calories", 14)),
    spec("distance", Resource::Daily("distance", 90)),
    spec("floors", Resource::Daily("floors", 90)),
    spec("active-minutes", Resource::Daily("active-minutes", 14)),
    spec(
        "heart",
        Resource::DailyList("daily-resting-heart-rate", "daily_resting_heart_rate"),
    ),
    spec("sleep", Resource::Sleep),
    spec(
        "hrv",
        Resource::DailyList(
            "daily-heart-rate-variability",
            "daily_heart_rate_variability",
        ),
    ),
    spec(
        "spo2",
        Resource::DailyList("daily-oxygen-saturation", "daily_oxygen_saturation"),
    ),
    spec("weight", Resource::SampleList("weight", "weight")),
    spec("body-fat", Resource::SampleList("body-fat", "body_fat")),
    spec("exercise", Resource::Exercise),
    spec("devices", Resource::Devices),
    spec(
        "breathing-rate",
        Resource::DailyList("daily-respiratory-rate", "daily_respiratory_rate"),
    ),
    spec(
        "active-zone-minutes",
        Resource::Daily("active-zone-minutes", 90),
    ),
    spec(
        "skin-temperature",
        Resource::DailyList(
            "daily-sleep-temperature-derivations",
            "daily_sleep_temperature_derivations",
        ),
    ),
    spec(
        "vo2max",
        Resource::DailyList("daily-vo2-max", "daily_vo2_max"),
    ),
    spec(
        "sedentary-periods",
        Resource::IntervalList("sedentary-period", "sedentary_period"),
    ),
];

/// The default daily set.
pub fn default_resources() -> Vec<&'static str> {
    fitpipe_catalog::names(
        fitpipe_catalog::Api::Google,
        fitpipe_catalog::Kind::Daily,
        true,
    )
}

/// Names accepted by `--resources`.
pub fn resource_names() -> Vec<&'static str> {
    fitpipe_catalog::names(
        fitpipe_catalog::Api::Google,
        fitpipe_catalog::Kind::Daily,
        false,
    )
}

impl Resource {
    /// Parses a `--resources` name (the Fitbit names where the data is the same).
    pub fn parse(name: &str) -> Option<Resource> {
        crate::spec::parse(SPECS, name)
    }

    /// Parses an `--intraday` name.
    pub fn parse_intraday(name: &str) -> Option<Resource> {
        match name {
            "heart" => Some(Resource::IntradayHeart),
            "steps" => Some(Resource::IntradayList("steps")),
            "distance" => Some(Resource::IntradayList("distance")),
            "calories" => Some(Resource::IntradayCalories),
            "spo2" => Some(Resource::IntradaySamples(
                "oxygen-saturation",
                "oxygen_saturation",
            )),
            "hrv" => Some(Resource::IntradaySamples(
                "heart-rate-variability",
                "heart_rate_variability",
            )),
            _ => None,
        }
    }

    /// Daily or intraday, in the catalog's words.
    pub fn kind(&self) -> fitpipe_catalog::Kind {
        match self {
            Resource::IntradayHeart
            | Resource::IntradayList(_)
            | Resource::IntradayCalories
            | Resource::IntradaySamples(..) => fitpipe_catalog::Kind::Intraday,
            _ => fitpipe_catalog::Kind::Daily,
        }
    }

    /// The catalog's name of what this fetches.
    pub fn catalog_name(&self) -> &'static str {
        match self {
            Resource::IntradayHeart => "heart",
            Resource::IntradayList(t) => t,
            Resource::IntradayCalories => "calories",
            Resource::IntradaySamples("oxygen-saturation", _) => "spo2",
            Resource::IntradaySamples(..) => "hrv",
            r => crate::spec::name_of(SPECS, r),
        }
    }

    /// The Google Health `dataType` it reads (`None` for the profile).
    pub fn data_type(&self) -> Option<&'static str> {
        match self {
            Resource::Profile | Resource::Devices => None,
            Resource::Daily(t, _)
            | Resource::DailyList(t, _)
            | Resource::SampleList(t, _)
            | Resource::IntervalList(t, _) => Some(t),
            Resource::IntradaySamples(t, _) => Some(t),
            Resource::Exercise => Some("exercise"),
            Resource::Sleep => Some("sleep"),
            Resource::IntradayHeart => Some("heart-rate"),
            Resource::IntradayList(t) => Some(t),
            Resource::IntradayCalories => Some("total-calories"),
        }
    }

    /// A stable name for state, raw files and progress.
    pub fn key(&self) -> String {
        match self {
            Resource::IntradayHeart => "intraday-heart".into(),
            Resource::IntradayList(t) => format!("intraday-{t}"),
            Resource::IntradayCalories => "intraday-calories".into(),
            Resource::IntradaySamples(..) => format!("intraday-{}", self.catalog_name()),
            r => crate::spec::name_of(SPECS, r).to_string(),
        }
    }

    /// Most days one request may cover.
    pub fn max_days(&self) -> i64 {
        match self {
            Resource::Profile | Resource::Devices => i64::MAX,
            Resource::Daily(_, cap) => *cap,
            Resource::DailyList(..) | Resource::SampleList(..) => 1000,
            // A few dozen periods a day: a month fits a page of 1,000.
            Resource::IntervalList(..) => 30,
            // 25 sessions a page: a dozen days of two sessions a day fit one.
            Resource::Sleep | Resource::Exercise => 12,
            Resource::IntradayHeart => 1,
            Resource::IntradayList(_) | Resource::IntradayCalories => 6,
            // About 500 SpO2 samples a night: six nights stay under a 5,000 page.
            Resource::IntradaySamples(..) => 6,
        }
    }

    /// The request for one window of days (`start..=end`, local days of `tz`); physical
    /// ranges end at `now` at the latest (a rollup of minutes still to come would be
    /// empty buckets, and an empty bucket reads as a true zero).
    fn request(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Vec<Request> {
        let next = end + Duration::days(1);
        let days = (next - start).num_days();
        let list = |ty: &str, filter: String, page: i64| Request {
            method: reqwest::Method::GET,
            path: with_query(
                &format!("/v4/users/me/dataTypes/{ty}/dataPoints"),
                &[("filter", filter.as_str()), ("pageSize", &page.to_string())],
            ),
            body: None,
        };
        let civil = |d: NaiveDate| json!({"date": {"year": d.year_ce().1, "month": d.month0() + 1, "day": d.day0() + 1}, "time": {}});
        match self {
            Resource::Profile => vec![
                Request::get("/v4/users/me/identity"),
                Request::get("/v4/users/me/settings"),
            ],
            Resource::Daily(ty, _) => vec![Request {
                method: reqwest::Method::POST,
                path: format!("/v4/users/me/dataTypes/{ty}/dataPoints:dailyRollUp"),
                body: Some(json!({
                    "range": {"start": civil(start), "end": civil(next)},
                    "windowSizeDays": 1,
                    "pageSize": days,
                })),
            }],
            Resource::DailyList(ty, member) => vec![list(
                ty,
                format!("{member}.date >= \"{start}\" AND {member}.date < \"{next}\""),
                1000,
            )],
            Resource::SampleList(ty, member) | Resource::IntradaySamples(ty, member) => {
                vec![list(
                    ty,
                    format!(
                        "{member}.sample_time.civil_time >= \"{start}T00:00:00\" AND {member}.sample_time.civil_time < \"{next}T00:00:00\""
                    ),
                    if matches!(self, Resource::SampleList(..)) { 1000 } else { 5000 },
                )]
            }
            Resource::IntervalList(ty, member) => vec![list(
                ty,
                format!(
                    "{member}.interval.civil_start_time >= \"{start}T00:00:00\" AND {member}.interval.civil_start_time < \"{next}T00:00:00\""
                ),
                1000,
            )],
            // Exercise filters only on its civil start (google-health-live-2026.md).
            Resource::Exercise => vec![list(
                "exercise",
                format!(
                    "exercise.interval.civil_start_time >= \"{start}\" AND exercise.interval.civil_start_time < \"{next}\""
                ),
                25,
            )],
            Resource::Devices => vec![Request::get("/v4/users/me/pairedDevices?pageSize=100")],
            Resource::Sleep => vec![list(
                "sleep",
                format!(
                    "sleep.interval.civil_end_time >= \"{start}\" AND sleep.interval.civil_end_time < \"{next}\""
                ),
                25,
            )],
            Resource::IntradayHeart => vec![list(
                "heart-rate",
                format!(
                    "heart_rate.sample_time.civil_time >= \"{start}T00:00:00\" AND heart_rate.sample_time.civil_time < \"{next}T00:00:00\""
                ),
                10_000,
            )],
            Resource::IntradayList(ty) => vec![list(
                ty,
                format!(
                    "{ty}.interval.civil_start_time >= \"{start}T00:00:00\" AND {ty}.interval.civil_start_time < \"{next}T00:00:00\""
                ),
                10_000,
            )],
            Resource::IntradayCalories => {
                let at = |d: NaiveDate| {
                    tz.from_local_datetime(&d.and_time(NaiveTime::MIN))
                        .earliest()
                        .map(|t| t.with_timezone(&Utc))
                        .unwrap_or_else(|| d.and_time(NaiveTime::MIN).and_utc())
                };
                let now = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
                let (a, b) = (at(start), at(next).min(now).max(at(start) + Duration::minutes(1)));
                let minutes = (b - a).num_minutes();
                vec![Request {
                    method: reqwest::Method::POST,
                    path: "/v4/users/me/dataTypes/total-calories/dataPoints:rollUp".into(),
                    body: Some(json!({
                        "range": {"startTime": a.format("%Y-%m-%dT%H:%M:%SZ").to_string(), "endTime": b.format("%Y-%m-%dT%H:%M:%SZ").to_string()},
                        "windowSize": "60s",
                        "pageSize": minutes,
                    })),
                }]
            }
        }
    }
}

/// The fewest requests that cover `from..=to` for a resource (local days of `tz`, as
/// of `now`).
pub fn plan(
    r: &Resource,
    from: NaiveDate,
    to: NaiveDate,
    tz: Tz,
    now: DateTime<Utc>,
) -> Vec<Window> {
    if matches!(r, Resource::Profile | Resource::Devices) {
        return r
            .request(to, to, tz, now)
            .into_iter()
            .map(|request| Window {
                start: to,
                end: to,
                request,
            })
            .collect();
    }
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = (start + Duration::days(r.max_days() - 1)).min(to);
        for request in r.request(start, end, tz, now) {
            out.push(Window {
                start,
                end,
                request,
            });
        }
        start = end + Duration::days(1);
    }
    out
}

/// The request for the page after `body`, if the answer has a `nextPageToken`: the same
/// query with the token (AIP-158: every other parameter unchanged).
pub fn next_page(req: &Request, body: &[u8]) -> Option<Request> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let token = v["nextPageToken"].as_str().filter(|t| !t.is_empty())?;
    let mut next = req.clone();
    match &mut next.body {
        Some(b) => b["pageToken"] = json!(token),
        None => {
            // The same query, its page token replaced.
            let (path, query) = next.path.split_once('?').unwrap_or((&next.path, ""));
            let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                .filter(|(k, _)| k != "pageToken")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            pairs.push(("pageToken".into(), token.into()));
            let refs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            next.path = with_query(path, &refs);
        }
    }
    Some(next)
}

/// The sleep list without a filter, newest first: the reference's fallback (§3.3) for an
/// API that refuses the sleep filter (the sources disagree on which members work).
pub fn sleep_unfiltered() -> Request {
    Request::get("/v4/users/me/dataTypes/sleep/dataPoints?pageSize=25")
}

/// Whether the API refused a request's filter (400 `INVALID_DATA_POINT_FILTER`).
pub fn filter_refused(e: &crate::IngestError) -> bool {
    matches!(e, crate::IngestError::Api { status: 400, message, .. } if message.contains("INVALID_DATA_POINT_FILTER"))
}

/// The earliest local end date of the sleep sessions in a list answer.
pub fn oldest_sleep_end(body: &[u8]) -> Option<NaiveDate> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v["dataPoints"]
        .as_array()?
        .iter()
        .filter_map(|p| {
            let iv = &p["sleep"]["interval"];
            let end = DateTime::parse_from_rfc3339(iv["endTime"].as_str()?).ok()?;
            let off = iv["endUtcOffset"]
                .as_str()
                .and_then(|o| o.strip_suffix('s'))
                .and_then(|o| o.parse::<i64>().ok())
                .unwrap_or(0);
            Some((end.naive_utc() + Duration::seconds(off)).date())
        })
        .min()
}

/// A path with its query string, encoded by the `url` crate (form encoding: `+` for a
/// space, as Google's front ends and the simulator decode it).
fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{path}?{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn windows_respect_the_caps_and_cover_every_day_once() {
        let tz: Tz = "America/New_York".parse().unwrap();
        for (name, days, want) in [
            ("steps", 90, 1),
            ("steps", 91, 2),
            ("calories", 14, 1),
            ("calories", 15, 2),
            ("sleep", 12, 1),
            ("sleep", 25, 3),
            ("heart", 1000, 1),
            ("profile", 500, 2),
        ] {
            let r = Resource::parse(name).unwrap();
            let from = d("2021-01-01");
            let w = plan(&r, from, from + Duration::days(days - 1), tz, far());
            assert_eq!(w.len(), want, "{name} {days}");
        }
        let w = plan(
            &Resource::parse("calories").unwrap(),
            d("2021-01-01"),
            d("2021-01-20"),
            tz,
            far(),
        );
        let body = w[0].request.body.as_ref().unwrap();
        assert_eq!(body["pageSize"], 14);
        assert_eq!(body["range"]["end"]["date"]["day"], 15);
        assert_eq!(body["range"]["end"]["time"], json!({}));
        assert_eq!(w[1].start, d("2021-01-15"));
        // Intraday calories: physical bounds of the local days, across the DST change.
        let w = plan(
            &Resource::IntradayCalories,
            d("2021-03-13"),
            d("2021-03-14"),
            tz,
            far(),
        );
        let b = w[0].request.body.as_ref().unwrap();
        assert_eq!(b["range"]["startTime"], "2021-03-13T05:00:00Z");
        assert_eq!(b["range"]["endTime"], "2021-03-15T04:00:00Z");
        assert_eq!(b["pageSize"], 47 * 60);
        // Today's window ends at the current minute, not at midnight.
        let now = "2021-03-14T17:30:45Z".parse().unwrap();
        let w = plan(
            &Resource::IntradayCalories,
            d("2021-03-14"),
            d("2021-03-14"),
            tz,
            now,
        );
        let b = w[0].request.body.as_ref().unwrap();
        assert_eq!(b["range"]["endTime"], "2021-03-14T17:30:00Z");
        assert_eq!(b["pageSize"], 17 * 60 + 30 - 5 * 60);
    }

    #[test]
    fn every_spec_is_parsed_keyed_and_asked_for_by_its_scope() {
        // The catalog and this table name the same resources, in the same order, and
        // agree on the data type asked for.
        let names: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
        assert_eq!(names, resource_names());
        for s in SPECS {
            assert_eq!(Resource::parse(s.name), Some(s.resource.clone()));
            assert_eq!(s.resource.key(), s.name);
            let t = fitpipe_catalog::get(fitpipe_catalog::Kind::Daily, s.name).unwrap();
            assert_eq!(s.resource.data_type(), t.google_id, "{}", s.name);
            let scope = t.google.unwrap().scope;
            assert!(
                SCOPES.iter().any(|x| x.contains(&format!(".{scope}."))),
                "{}: fitpipe does not ask for `{scope}`",
                s.name,
            );
        }
        for n in fitpipe_catalog::names(
            fitpipe_catalog::Api::Google,
            fitpipe_catalog::Kind::Intraday,
            false,
        ) {
            let r = Resource::parse_intraday(n).unwrap_or_else(|| panic!("intraday {n}"));
            let t = fitpipe_catalog::get(fitpipe_catalog::Kind::Intraday, n).unwrap();
            assert_eq!(r.data_type(), t.google_id, "intraday {n}");
        }
        assert!(default_resources().contains(&"sleep"));
        assert!(resource_names().contains(&"exercise"));
        assert!(!default_resources().contains(&"hrv"));
    }

    fn far() -> DateTime<Utc> {
        "2100-01-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn next_page_repeats_the_query_with_the_token() {
        let tz: Tz = "UTC".parse().unwrap();
        let w = plan(
            &Resource::Sleep,
            d("2021-01-01"),
            d("2021-01-05"),
            tz,
            far(),
        );
        let req = &w[0].request;
        assert!(
            req.path
                .contains("sleep.interval.civil_end_time+%3E%3D+%222021-01-01%22"),
            "{}",
            req.path
        );
        let n = next_page(req, br#"{"dataPoints":[],"nextPageToken":"a/b"}"#).unwrap();
        assert!(
            n.path.ends_with("&pageSize=25&pageToken=a%2Fb"),
            "{}",
            n.path
        );
        let n2 = next_page(&n, br#"{"nextPageToken":"c"}"#).unwrap();
        assert!(n2.path.ends_with("&pageSize=25&pageToken=c"), "{}", n2.path);
        assert_eq!(
            next_page(req, br#"{"dataPoints":[],"nextPageToken":""}"#),
            None
        );
        assert_eq!(next_page(req, br#"{}"#), None);
        let w = plan(
            &Resource::parse("steps").unwrap(),
            d("2021-01-01"),
            d("2021-01-05"),
            tz,
            far(),
        );
        let n = next_page(&w[0].request, br#"{"nextPageToken":"t1"}"#).unwrap();
        assert_eq!(n.body.unwrap()["pageToken"], "t1");
    }
}
