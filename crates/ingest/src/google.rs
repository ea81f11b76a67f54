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

use fitpipe_catalog::{Api, DataType, GoogleOp, Kind};

use crate::provider::Window;
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
    // Optional (google-health-api.md §2.2): people may untick them at the consent screen,
    // and then the types they guard are left out and named.
    "https://www.googleapis.com/auth/googlehealth.nutrition.readonly",
    "https://www.googleapis.com/auth/googlehealth.ecg.readonly",
    "https://www.googleapis.com/auth/googlehealth.irn.readonly",
    "https://www.googleapis.com/auth/googlehealth.location.readonly",
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

/// Something fitpipe can fetch from Google Health: a catalog row the Google Health API
/// reads, asked for as the row's [`GoogleOp`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    ty: &'static DataType,
    op: GoogleOp,
}

/// The default daily set.
pub fn default_resources() -> Vec<&'static str> {
    fitpipe_catalog::names(Api::Google, Kind::Daily, true)
}

/// Names accepted by `--resources`.
pub fn resource_names() -> Vec<&'static str> {
    fitpipe_catalog::names(Api::Google, Kind::Daily, false)
}

impl Resource {
    fn of(kind: Kind, name: &str) -> Option<Resource> {
        let ty = fitpipe_catalog::get(kind, name)?;
        Some(Resource {
            ty,
            op: ty.google_op?,
        })
    }

    /// Parses a `--resources` name (the Fitbit names where the data is the same).
    pub fn parse(name: &str) -> Option<Resource> {
        Resource::of(Kind::Daily, name)
    }

    /// Parses an `--intraday` name.
    pub fn parse_intraday(name: &str) -> Option<Resource> {
        Resource::of(Kind::Intraday, name)
    }

    /// How it is asked for.
    pub fn op(&self) -> GoogleOp {
        self.op
    }

    /// Daily or intraday, in the catalog's words.
    pub fn kind(&self) -> Kind {
        self.ty.kind
    }

    /// The catalog's name of what this fetches.
    pub fn catalog_name(&self) -> &'static str {
        self.ty.name
    }

    /// The Google Health `dataType` it reads (`None` for the profile and devices).
    pub fn data_type(&self) -> Option<&'static str> {
        self.ty.google_id
    }

    /// A stable name for state, raw files and progress.
    pub fn key(&self) -> String {
        match self.ty.kind {
            Kind::Daily => self.ty.name.to_string(),
            Kind::Intraday => format!("intraday-{}", self.ty.name),
        }
    }

    /// Most days one request may cover.
    pub fn max_days(&self) -> i64 {
        match self.op {
            GoogleOp::Profile | GoogleOp::Devices | GoogleOp::ListAll(_) => i64::MAX,
            GoogleOp::DailyRollUp(cap) | GoogleOp::MinuteRollUp(cap) => cap,
            GoogleOp::ListByDate(p)
            | GoogleOp::ListBySample(p)
            | GoogleOp::ListByStart(p)
            | GoogleOp::ListByStartTime(p) => p.days,
            // 25 sessions a page: a dozen days of two sessions a day fit one.
            GoogleOp::Sessions { .. } | GoogleOp::Routes => 12,
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
        // Every op but the profile's and the devices' reads a data type (the catalog's
        // test: a Google row has an id unless it is one of those two).
        let ty = self.ty.google_id.unwrap_or_default();
        let member = ty.replace('-', "_");
        let from_to = |field: &str, a: String, b: String| {
            format!("{member}.{field} >= \"{a}\" AND {member}.{field} < \"{b}\"")
        };
        let midnight = |d: NaiveDate| format!("{d}T00:00:00");
        // The instant a local day begins (01:00 where a DST change skips midnight).
        let midnight_at = |d: NaiveDate| {
            tz.from_local_datetime(&d.and_time(NaiveTime::MIN))
                .earliest()
                // A one-hour gap at midnight (America/Santiago, Asia/Beirut): 01:00.
                .or_else(|| {
                    tz.from_local_datetime(&d.and_hms_opt(1, 0, 0).expect("01:00"))
                        .earliest()
                })
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| d.and_time(NaiveTime::MIN).and_utc())
        };
        let midnight_utc = |d: NaiveDate| midnight_at(d).format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let request = match self.op {
            GoogleOp::Profile => {
                return vec![
                    Request::get("/v4/users/me/identity"),
                    Request::get("/v4/users/me/settings"),
                ]
            }
            GoogleOp::Devices => Request::get("/v4/users/me/pairedDevices?pageSize=100"),
            GoogleOp::DailyRollUp(_) => Request {
                method: reqwest::Method::POST,
                path: format!("/v4/users/me/dataTypes/{ty}/dataPoints:dailyRollUp"),
                body: Some(json!({
                    "range": {"start": civil(start), "end": civil(next)},
                    "windowSizeDays": 1,
                    "pageSize": days,
                })),
            },
            GoogleOp::ListByDate(p) => list(
                ty,
                from_to("date", start.to_string(), next.to_string()),
                p.size,
            ),
            GoogleOp::ListBySample(p) => list(
                ty,
                from_to("sample_time.civil_time", midnight(start), midnight(next)),
                p.size,
            ),
            GoogleOp::ListByStart(p) => list(
                ty,
                from_to("interval.civil_start_time", midnight(start), midnight(next)),
                p.size,
            ),
            GoogleOp::ListByStartTime(p) => list(
                ty,
                from_to(
                    "interval.start_time",
                    midnight_utc(start),
                    midnight_utc(next),
                ),
                p.size,
            ),
            // No member filters (google-health-api.md §6): the whole list, newest first.
            GoogleOp::ListAll(p) => Request::get(&with_query(
                &format!("/v4/users/me/dataTypes/{ty}/dataPoints"),
                &[("pageSize", &p.size.to_string())],
            )),
            // Sessions filter on the civil day alone (google-health-live-2026.md); the
            // routes' list is the exercise list.
            op @ (GoogleOp::Sessions { .. } | GoogleOp::Routes) => list(
                ty,
                from_to(
                    if op == (GoogleOp::Sessions { by_end: true }) {
                        "interval.civil_end_time"
                    } else {
                        "interval.civil_start_time"
                    },
                    start.to_string(),
                    next.to_string(),
                ),
                25,
            ),
            GoogleOp::MinuteRollUp(_) => {
                let at = midnight_at;
                let now = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
                let (a, b) = (
                    at(start),
                    at(next).min(now).max(at(start) + Duration::minutes(1)),
                );
                let minutes = (b - a).num_minutes();
                Request {
                    method: reqwest::Method::POST,
                    path: format!("/v4/users/me/dataTypes/{ty}/dataPoints:rollUp"),
                    body: Some(json!({
                        "range": {"startTime": a.format("%Y-%m-%dT%H:%M:%SZ").to_string(), "endTime": b.format("%Y-%m-%dT%H:%M:%SZ").to_string()},
                        "windowSize": "60s",
                        "pageSize": minutes,
                    })),
                }
            }
        };
        vec![request]
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
    if matches!(r.op, GoogleOp::Profile | GoogleOp::Devices) {
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
        // A list without a cap (`ListAll`) is one window, whatever the range.
        let end = Duration::try_days(r.max_days() - 1)
            .and_then(|d| start.checked_add_signed(d))
            .map_or(to, |e| e.min(to));
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

/// The TCX requests for the sessions of an exercise list page recorded with GPS.
pub fn route_requests(body: &[u8]) -> Vec<Request> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let points = v["dataPoints"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    points
        .iter()
        .filter(|p| p["exercise"]["exerciseMetadata"]["hasGps"] == json!(true))
        .filter_map(|p| {
            let name = p["name"].as_str().or(p["dataPointName"].as_str())?;
            let id = name.rsplit('/').next().filter(|id| {
                !id.is_empty()
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })?;
            Some(Request::get(&format!(
                "/v4/users/me/dataTypes/exercise/dataPoints/{id}:exportExerciseTcx?alt=media"
            )))
        })
        .collect()
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
            &Resource::parse_intraday("calories").unwrap(),
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
            &Resource::parse_intraday("calories").unwrap(),
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
    fn every_google_row_is_parsed_keyed_and_asked_for_by_its_scope() {
        for kind in [Kind::Daily, Kind::Intraday] {
            for n in fitpipe_catalog::names(Api::Google, kind, false) {
                let t = fitpipe_catalog::get(kind, n).unwrap();
                let r = Resource::of(kind, n).unwrap_or_else(|| panic!("{n}: no Google op"));
                assert_eq!(r.data_type(), t.google_id, "{n}");
                let key = r.key();
                assert_eq!(key.strip_prefix("intraday-").unwrap_or(&key), n);
                let scope = t.google.unwrap().scope;
                assert!(
                    SCOPES.iter().any(|x| x.contains(&format!(".{scope}."))),
                    "{n}: fitpipe does not ask for `{scope}`",
                );
                // Every request of a window names its data type and stays within the cap.
                let from = d("2021-01-01");
                for w in plan(&r, from, from + Duration::days(99), chrono_tz::UTC, far()) {
                    assert!((w.end - w.start).num_days() < r.max_days(), "{n}");
                    if let Some(ty) = t.google_id {
                        assert!(w.request.path.contains(&format!("/dataTypes/{ty}/")), "{n}");
                    }
                }
            }
        }
        assert!(default_resources().contains(&"sleep"));
        assert!(resource_names().contains(&"exercise"));
        assert!(!default_resources().contains(&"hrv"));
        assert_eq!(Resource::parse("nonsense"), None);
        assert_eq!(Resource::parse("sedentary"), None, "Fitbit only");
    }

    fn far() -> DateTime<Utc> {
        "2100-01-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn next_page_repeats_the_query_with_the_token() {
        let tz: Tz = "UTC".parse().unwrap();
        let w = plan(
            &Resource::parse("sleep").unwrap(),
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
