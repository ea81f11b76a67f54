//! The Fitbit Web API's data endpoints (fitbit-web-api.md §2 to §5), built from the
//! synthetic people the way the API builds them: string values in daily series, numbers
//! in intraday datasets, offset-less local times, documented maximum ranges.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::{json, Value};

use crate::oauth::Refused;
use crate::people::{mix, Day, Person, Rng, Sleep, POOL_METRES};
use crate::{lock, FaultKind, Shared};

type Fail = (StatusCode, &'static str, String);

fn err_body(kind: &str, message: &str) -> Value {
    json!({"errors": [{"errorType": kind, "fieldName": "n/a", "message": message}], "success": false})
}

fn fail(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Fail {
    (status, kind, message.into())
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    r
}

/// The answer of the shut-down API (reference §0: "HTTP 410 Gone").
pub(crate) fn gone() -> Response {
    json_response(
        StatusCode::GONE,
        &err_body(
            "gone",
            "The legacy Fitbit Web API was turned off on 2026-11-02. Use the Google Health API.",
        ),
    )
}

fn ts(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// Shortest text of a number, as Fitbit writes daily values (`"2.04795"`, `"7390"`).
fn num_str(x: f64) -> String {
    let s = format!("{x}");
    s.trim_end_matches(".0").to_string()
}

pub(crate) async fn api(
    State(s): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = uri.path().to_string();
    let (person, base, fault, rate) = {
        let mut g = lock(&s);
        if g.cfg.gone {
            return gone();
        }
        if !(path.starts_with("/1/") || path.starts_with("/1.2/") || path.starts_with("/1.1/")) {
            return not_found();
        }
        let now = g.now();
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let token = auth
            .as_deref()
            .and_then(|a| a.strip_prefix("Bearer "))
            .unwrap_or("")
            .to_string();
        let (user, scope) = match g.oauth.check(auth.as_deref(), now) {
            Ok(u) => u,
            Err(Refused::Missing) => {
                return json_response(
                    StatusCode::UNAUTHORIZED,
                    &json!({"errors": [{"errorType": "invalid_request", "message": "Authorization header required."}], "success": false}),
                )
            }
            Err(Refused::Expired) => {
                return json_response(
                    StatusCode::UNAUTHORIZED,
                    &json!({"errors": [{"errorType": "expired_token", "message": format!("Access token expired: {token}")}], "success": false}),
                )
            }
            Err(Refused::Invalid) => {
                return json_response(
                    StatusCode::UNAUTHORIZED,
                    &json!({"errors": [{"errorType": "invalid_token", "message": format!("Access token invalid: {token}")}], "success": false}),
                )
            }
        };
        let fault = g.take_fault(&path);
        if fault == Some(FaultKind::Revoke) {
            g.oauth.revoke_user(&user);
            return json_response(
                StatusCode::UNAUTHORIZED,
                &json!({"errors": [{"errorType": "invalid_token", "message": format!("Access token invalid: {token}")}], "success": false}),
            );
        }
        let (ok, remaining, reset) = g.spend(&user, &endpoint_key(&path));
        let limit = g.cfg.rate_limit;
        let rate = (limit, remaining, reset, g.cfg.retry_after);
        if !ok || fault == Some(FaultKind::RateLimited) {
            return with_rate(too_many(&rate), &rate);
        }
        let person = g
            .people
            .iter()
            .find(|p| p.id == user)
            .cloned()
            .expect("tokens belong to people");
        if !scope_allows(&scope, &path) {
            let r = json_response(
                StatusCode::FORBIDDEN,
                &err_body(
                    "insufficient_scope",
                    "This application does not have permission to access this data.",
                ),
            );
            return with_rate(r, &rate);
        }
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1")
            .to_string();
        let last_sync = g.last_sync(&person, now);
        let today = now.with_timezone(&person.tz).date_naive();
        (
            person,
            (format!("http://{host}"), last_sync, today),
            fault,
            rate,
        )
    };
    if method != Method::GET {
        return with_rate(
            json_response(
                StatusCode::METHOD_NOT_ALLOWED,
                &err_body("request", "Only GET is supported here"),
            ),
            &rate,
        );
    }
    // A run's TCX (`/1/user/-/activities/{log-id}.tcx`): XML, not JSON.
    if let Some(id) = path
        .strip_prefix("/1/user/-/activities/")
        .and_then(|r| r.strip_suffix(".tcx"))
    {
        let xml = id
            .parse()
            .ok()
            .and_then(|id| person.workout_by_id(id, base.1))
            .and_then(|w| crate::tcx::tcx(&person, &w, base.1, false));
        let r = match (xml, fault) {
            (_, Some(FaultKind::Status(code))) => json_response(
                StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                &err_body(
                    "system",
                    "An unexpected error occurred. Please try again later.",
                ),
            ),
            (Some(x), _) => {
                let mut r = (StatusCode::OK, x).into_response();
                r.headers_mut().insert(
                    "content-type",
                    HeaderValue::from_static("application/vnd.garmin.tcx+xml"),
                );
                r
            }
            (None, _) => not_found(),
        };
        return with_rate(r, &rate);
    }
    let answer = route(&path, &q, &person, &base);
    let resp = match (answer, fault) {
        (_, Some(FaultKind::Status(code))) => {
            let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            json_response(
                code,
                &err_body(
                    "system",
                    "An unexpected error occurred. Please try again later.",
                ),
            )
        }
        (Ok(body), Some(FaultKind::Truncate)) => {
            let text = body.to_string();
            let cut = text.len() / 2;
            (StatusCode::OK, text[..cut].to_string()).into_response()
        }
        (Ok(_), Some(FaultKind::Malformed)) => (
            StatusCode::OK,
            "<html><body>Service Unavailable</body></html>",
        )
            .into_response(),
        (Ok(body), Some(FaultKind::Drop)) => dropped(body.to_string()),
        (Ok(body), Some(FaultKind::Slow(ms))) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            json_response(StatusCode::OK, &body)
        }
        (Ok(body), _) => json_response(StatusCode::OK, &body),
        (Err((status, kind, msg)), _) => json_response(status, &err_body(kind, &msg)),
    };
    with_rate(resp, &rate)
}

/// A response that announces the whole body, sends half of it and breaks the connection.
pub(crate) fn dropped(text: String) -> Response {
    let half = text[..text.len() / 2].to_string();
    let mut r = Response::new(Body::from_stream(futures_stream(half)));
    r.headers_mut()
        .insert("content-length", HeaderValue::from(text.len()));
    r
}

fn futures_stream(
    part: String,
) -> impl futures_core::Stream<Item = Result<String, std::io::Error>> {
    struct Twice(Option<String>, bool);
    impl futures_core::Stream for Twice {
        type Item = Result<String, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            if let Some(p) = self.0.take() {
                return std::task::Poll::Ready(Some(Ok(p)));
            }
            if !self.1 {
                self.1 = true;
                return std::task::Poll::Ready(Some(Err(std::io::Error::other(
                    "connection dropped by fault injection",
                ))));
            }
            std::task::Poll::Ready(None)
        }
    }
    Twice(Some(part), false)
}

fn too_many(rate: &(u32, u32, i64, bool)) -> Response {
    let mut r = json_response(
        StatusCode::TOO_MANY_REQUESTS,
        &json!({"errors": [{"errorType": "system", "fieldName": "n/a", "message": "Too Many Requests"}]}),
    );
    if rate.3 {
        r.headers_mut()
            .insert("retry-after", HeaderValue::from(rate.2));
    }
    r
}

fn with_rate(mut r: Response, rate: &(u32, u32, i64, bool)) -> Response {
    let h = r.headers_mut();
    h.insert("fitbit-rate-limit-limit", HeaderValue::from(rate.0));
    h.insert("fitbit-rate-limit-remaining", HeaderValue::from(rate.1));
    h.insert("fitbit-rate-limit-reset", HeaderValue::from(rate.2));
    r
}

fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &err_body(
            "not_found",
            "The API you are requesting could not be found.",
        ),
    )
}

/// A stats key: the path with the user and dates generalised.
fn endpoint_key(path: &str) -> String {
    path.trim_start_matches('/')
        .split('/')
        .enumerate()
        .map(|(i, seg)| {
            let bare = seg.trim_end_matches(".json");
            if i == 2 {
                "{user}".to_string()
            } else if bare.len() == 10 && bare.as_bytes()[4] == b'-' || bare == "today" {
                if seg.ends_with(".json") {
                    "{date}.json".into()
                } else {
                    "{date}".into()
                }
            } else {
                seg.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn scope_allows(scope: &str, path: &str) -> bool {
    let need = if path.ends_with(".tcx") {
        // A route: the location scope (as well as activity).
        if !scope.split_whitespace().any(|s| s == "activity") {
            return false;
        }
        "location"
    } else if path.contains("/br/") {
        "respiratory_rate"
    } else if path.contains("/temp/") {
        "temperature"
    } else if path.contains("/cardioscore/") {
        "cardio_fitness"
    } else if path.contains("/spo2/") {
        "oxygen_saturation"
    } else if path.contains("/hrv/") {
        "heartrate"
    } else if path.contains("/sleep/") {
        "sleep"
    } else if path.contains("/activities/heart/") {
        "heartrate"
    } else if path.contains("/activities/") {
        "activity"
    } else if path.ends_with("/profile.json") {
        "profile"
    } else if path.ends_with("/devices.json") {
        "settings"
    } else {
        return true;
    };
    scope.split_whitespace().any(|s| s == need)
}

type Base = (String, NaiveDateTime, NaiveDate);

fn route(path: &str, q: &HashMap<String, String>, p: &Person, base: &Base) -> Result<Value, Fail> {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let Some(last) = segs.last() else {
        return Err(not_found_fail());
    };
    if !last.ends_with(".json") {
        return Err(not_found_fail());
    }
    let segs: Vec<&str> = segs.iter().map(|s| s.trim_end_matches(".json")).collect();
    if segs.len() < 4 || segs[1] != "user" {
        return Err(not_found_fail());
    }
    if segs[2] != "-" && segs[2] != p.id {
        return Err(fail(
            StatusCode::FORBIDDEN,
            "insufficient_permissions",
            "The caller is not authorized to view the requested resource.",
        ));
    }
    let today = base.2;
    let date = |s: &str| -> Result<NaiveDate, Fail> {
        if s == "today" {
            return Ok(today);
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            fail(
                StatusCode::BAD_REQUEST,
                "validation",
                format!("Invalid date: {s}. The date must be in the format yyyy-MM-dd."),
            )
        })
    };
    match (segs[0], &segs[3..]) {
        ("1", ["profile"]) => Ok(profile(p, base)),
        ("1", ["devices"]) => Ok(devices(p, base)),
        ("1", ["activities", "list"]) => activity_list(p, base, q),
        ("1", ["activities", "log", res, "date", a, b]) => {
            series(p, base, res, true, date(a)?, b, &date)
        }
        ("1", ["activities", "heart", "date", a, b]) => heart_series(p, base, date(a)?, b, &date),
        ("1", ["activities", "heart", "date", a, b, detail]) => {
            let (start, end) = (date(a)?, if *b == "1d" { date(a)? } else { date(b)? });
            intraday_span(start, end)?;
            heart_intraday(p, base, start, detail)
        }
        ("1", ["activities", "heart", "date", a, b, detail, "time", t0, t1]) => {
            let (start, end) = (date(a)?, if *b == "1d" { date(a)? } else { date(b)? });
            intraday_span(start, end)?;
            time_window(
                heart_intraday(p, base, start, detail)?,
                "activities-heart-intraday",
                t0,
                t1,
            )
        }
        ("1", ["activities", "active-zone-minutes", "date", a, b]) => {
            azm(p, base, date(a)?, b, &date)
        }
        ("1", ["br", "date", a, b]) => {
            let (start, end) = range(date(a)?, b, &["1d", "7d", "30d"], 30, &date)?;
            Ok(nightly(start, end, "br", |d| {
                p.breathing_rate(d, base.1)
                    .map(|r| json!({"breathingRate": r}))
            }))
        }
        // The main sleep's rate by stage, -1 where a stage has no figure
        // (br-intraday-date.json; "Maximum range: 30 days").
        ("1", ["br", "date", a, b, "all"]) => {
            let (start, end) = range(date(a)?, b, &["1d"], 30, &date)?;
            Ok(nightly(start, end, "br", |d| {
                p.breathing_by_stage(d, base.1).map(|n| {
                    let s = |v: Option<f64>| json!({"breathingRate": v.unwrap_or(-1.0)});
                    json!({"deepSleepSummary": s(Some(n.deep)), "remSleepSummary": s(n.rem),
                           "fullSleepSummary": s(Some(n.full)), "lightSleepSummary": s(Some(n.light))})
                })
            }))
        }
        ("1", ["temp", "skin", "date", a, b]) => {
            let (start, end) = range(date(a)?, b, &["1d", "7d", "30d"], 30, &date)?;
            Ok(nightly(start, end, "tempSkin", |d| {
                p.skin_temperature(d, base.1).map(
                    |(baseline, nightly)| json!({"nightlyRelative": round(nightly - baseline, 1)}),
                )
            }))
        }
        // `vo2Max` is a string: one number after a run with GPS, else a range
        // (fitbit-web-api.md; cardioscore-summary-interval.json).
        ("1", ["cardioscore", "date", a, b]) => {
            let (start, end) = range(date(a)?, b, &["1d", "7d", "30d"], 30, &date)?;
            Ok(nightly(start, end, "cardioScore", |d| {
                p.vo2max(d, base.1).map(|v| {
                    let text = if v.measured {
                        format!("{:.1}", v.value)
                    } else {
                        format!("{}-{}", v.value - 2.0, v.value + 2.0)
                    };
                    json!({ "vo2Max": text })
                })
            }))
        }
        // HRV of the main sleep, filed under the day it ended: nightly figures, or its
        // 5-minute samples with `/all` ("Maximum range: 30 days"; hrv-*.json).
        ("1", ["hrv", "date", a, b]) => {
            let (start, end) = range(date(a)?, b, &["1d", "7d", "30d"], 30, &date)?;
            Ok(nightly(start, end, "hrv", |d| {
                hrv_night(p, base, d)
                    .map(|(rmssd, deep)| json!({"dailyRmssd": rmssd, "deepRmssd": deep}))
            }))
        }
        ("1", ["hrv", "date", a, b, "all"]) => {
            let (start, end) = range(date(a)?, b, &["1d"], 30, &date)?;
            let list: Vec<Value> = days(start, end)
                .filter_map(|d| {
                    let minutes: Vec<Value> = p
                        .hrv_samples(d, base.1)
                        .into_iter()
                        .map(|(t, v)| {
                            let r = mix(p.index as u64 ^ t.and_utc().timestamp() as u64);
                            json!({"minute": t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
                                   "value": {"rmssd": v, "coverage": 0.9 + (r % 100) as f64 / 1000.0,
                                             "hf": round(v * 6.5, 3), "lf": round(v * 11.0, 3)}})
                        })
                        .collect();
                    (!minutes.is_empty())
                        .then(|| json!({"dateTime": d.to_string(), "minutes": minutes}))
                })
                .collect();
            Ok(json!({ "hrv": list }))
        }
        // SpO2 of the main sleep: a bare object for one day, a bare array for a range
        // (spo2-*.json); intraday values are a 5-minute exponential moving average of
        // the readings, so the outliers Google passes on are smoothed.
        ("1", ["spo2", "date", a]) => {
            let d = date(a)?;
            Ok(spo2_night(p, base, d)
                .map(|v| json!({"dateTime": d.to_string(), "value": v}))
                .unwrap_or_else(|| json!({})))
        }
        ("1", ["spo2", "date", a, "all"]) => {
            let d = date(a)?;
            Ok(spo2_minutes(p, base, d).unwrap_or_else(|| json!({})))
        }
        ("1", ["spo2", "date", a, b]) => {
            let (start, end) = range(date(a)?, b, &[], 30, &date)?;
            let list: Vec<Value> = days(start, end)
                .filter_map(|d| {
                    spo2_night(p, base, d).map(|v| json!({"dateTime": d.to_string(), "value": v}))
                })
                .collect();
            Ok(Value::Array(list))
        }
        ("1", ["spo2", "date", a, b, "all"]) => {
            let (start, end) = range(date(a)?, b, &[], 30, &date)?;
            Ok(Value::Array(
                days(start, end)
                    .filter_map(|d| spo2_minutes(p, base, d))
                    .collect(),
            ))
        }
        ("1", ["activities", res, "date", a, b]) => series(p, base, res, false, date(a)?, b, &date),
        ("1", ["activities", res, "date", a, b, detail]) => {
            let (start, end) = (date(a)?, if *b == "1d" { date(a)? } else { date(b)? });
            intraday_span(start, end)?;
            activity_intraday(p, base, res, start, detail)
        }
        ("1", ["activities", res, "date", a, b, detail, "time", t0, t1]) => {
            let (start, end) = (date(a)?, if *b == "1d" { date(a)? } else { date(b)? });
            intraday_span(start, end)?;
            let key = format!("activities-{res}-intraday");
            time_window(
                activity_intraday(p, base, res, start, detail)?,
                &key,
                t0,
                t1,
            )
        }
        ("1.2", ["sleep", "date", d]) => Ok(sleep_by_date(p, base, date(d)?)),
        ("1.2", ["sleep", "date", a, b]) => sleep_range(p, base, date(a)?, date(b)?),
        ("1.2", ["sleep", "list"]) => sleep_list(p, base, q),
        _ => Err(not_found_fail()),
    }
}

/// The optional `/time/HH:mm/HH:mm` of the intraday endpoints: only the dataset entries
/// from the first minute to the last, both included.
fn time_window(mut v: Value, key: &str, t0: &str, t1: &str) -> Result<Value, Fail> {
    let minute = |t: &str| {
        NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| {
            fail(
                StatusCode::BAD_REQUEST,
                "validation",
                format!("Invalid time: {t}. The time must be in the format HH:mm."),
            )
        })
    };
    let (a, b) = (minute(t0)?, minute(t1)?);
    if b < a {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "validation",
            "Invalid time range: the end time is before the start time.",
        ));
    }
    let last = b + Duration::seconds(59);
    if let Some(data) = v[key]["dataset"].as_array_mut() {
        data.retain(|p| {
            p["time"]
                .as_str()
                .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M:%S").ok())
                .is_some_and(|t| a <= t && t <= last)
        });
    }
    Ok(v)
}

fn not_found_fail() -> Fail {
    fail(
        StatusCode::NOT_FOUND,
        "not_found",
        "The API you are requesting could not be found.",
    )
}

fn intraday_span(start: NaiveDate, end: NaiveDate) -> Result<(), Fail> {
    if end != start {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "validation",
            "The maximum date range for intraday requests is 24 hours (one day).",
        ));
    }
    Ok(())
}

const ACTIVITY_RESOURCES: &[&str] = &[
    "steps",
    "calories",
    "distance",
    "floors",
    "elevation",
    "minutesSedentary",
    "minutesLightlyActive",
    "minutesFairlyActive",
    "minutesVeryActive",
];

/// A date range from `{start}/{end}` or `{date}/{period}`, checked against `max_days`.
fn range(
    a: NaiveDate,
    b: &str,
    periods: &[&str],
    max_days: i64,
    date: &dyn Fn(&str) -> Result<NaiveDate, Fail>,
) -> Result<(NaiveDate, NaiveDate), Fail> {
    if periods.contains(&b) {
        let end = a;
        let start = match b {
            "1d" => end,
            "7d" | "1w" => end - Duration::days(6),
            "30d" => end - Duration::days(29),
            "1m" => end - Months::new(1) + Duration::days(1),
            "3m" => end - Months::new(3) + Duration::days(1),
            "6m" => end - Months::new(6) + Duration::days(1),
            _ => end - Months::new(12) + Duration::days(1),
        };
        return Ok((start, end));
    }
    if b.ends_with('d') || b.ends_with('w') || b.ends_with('m') || b.ends_with('y') {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "validation",
            format!("Invalid period: {b}"),
        ));
    }
    let end = date(b)?;
    if end < a {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "validation",
            "Invalid date range: the end date is before the start date.",
        ));
    }
    if (end - a).num_days() + 1 > max_days {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "validation",
            format!("Invalid date range. The maximum range is {max_days} days."),
        ));
    }
    Ok((a, end))
}

fn days(a: NaiveDate, b: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    a.iter_days().take_while(move |d| *d <= b)
}

struct Totals {
    steps: u64,
    calories: f64,
    sedentary: i64,
    light: i64,
    fair: i64,
    very: i64,
}

fn totals(p: &Person, d: &Day) -> Totals {
    let steps: u64 = d.steps.iter().map(|s| *s as u64).sum();
    let [sedentary, light, fair, very] = crate::people::activity_levels(d);
    Totals {
        steps,
        calories: p.day_calories(steps, d.synced_minutes),
        sedentary,
        light,
        fair,
        very,
    }
}

fn series(
    p: &Person,
    base: &Base,
    res: &str,
    log: bool,
    a: NaiveDate,
    b: &str,
    date: &dyn Fn(&str) -> Result<NaiveDate, Fail>,
) -> Result<Value, Fail> {
    if !ACTIVITY_RESOURCES.contains(&res) {
        return Err(not_found_fail());
    }
    let (start, end) = range(
        a,
        b,
        &["1d", "7d", "30d", "1w", "1m", "3m", "6m", "1y"],
        1095,
        date,
    )?;
    let minutes = res.starts_with("minutes");
    let points: Vec<Value> = days(start, end)
        .map(|d| {
            // Only the minutes-* series need the day's minutes; the totals have closed forms.
            let t = if minutes {
                totals(p, &p.day(d, base.1))
            } else {
                let (steps, synced) = p.steps_total(d, base.1);
                Totals {
                    steps,
                    calories: p.day_calories(steps, synced),
                    sedentary: 0,
                    light: 0,
                    fair: 0,
                    very: 0,
                }
            };
            let floors = t.steps / 1500;
            let value = match res {
                "steps" => t.steps.to_string(),
                "calories" => format!("{}", t.calories.round() as i64),
                "distance" => num_str(round(t.steps as f64 * 0.000_75, 5)),
                "floors" => floors.to_string(),
                "elevation" => num_str(round(floors as f64 * 3.048, 2)),
                "minutesSedentary" => t.sedentary.to_string(),
                "minutesLightlyActive" => t.light.to_string(),
                "minutesFairlyActive" => t.fair.to_string(),
                _ => t.very.to_string(),
            };
            json!({"dateTime": d.to_string(), "value": value})
        })
        .collect();
    let key = if log {
        format!("activities-log-{res}")
    } else {
        format!("activities-{res}")
    };
    Ok(json!({ key: points }))
}

use crate::people::HEART_ZONES as ZONES;

fn heart_day(p: &Person, day: &Day) -> Value {
    let mut minutes = [0i64; 4];
    let mut cals = [0f64; 4];
    if day.worn {
        for m in (0..day.synced_minutes).filter(|m| day.on_wrist(*m)) {
            let bpm = p.minute_bpm(day, m);
            let z = ZONES
                .iter()
                .position(|(_, lo, hi)| bpm >= *lo && bpm < *hi)
                .unwrap_or(if bpm < 30 { 0 } else { 3 });
            minutes[z] += 1;
            cals[z] += p.minute_calories(day.steps[m]);
        }
    }
    let zones: Vec<Value> = ZONES
        .iter()
        .enumerate()
        .map(|(i, (name, lo, hi))| json!({"caloriesOut": round(cals[i], 5), "max": hi, "min": lo, "minutes": minutes[i], "name": name}))
        .collect();
    let mut value = json!({"customHeartRateZones": [], "heartRateZones": zones});
    if let Some(r) = day.resting {
        value["restingHeartRate"] = json!(r);
    }
    json!({"dateTime": day.date.to_string(), "value": value})
}

fn heart_series(
    p: &Person,
    base: &Base,
    a: NaiveDate,
    b: &str,
    date: &dyn Fn(&str) -> Result<NaiveDate, Fail>,
) -> Result<Value, Fail> {
    // "Maximum range: 1 year" (heartrate-timeseries page).
    let (start, end) = range(a, b, &["1d", "7d", "30d", "1w", "1m"], 366, date)?;
    let list: Vec<Value> = days(start, end)
        .map(|d| heart_day(p, &p.day(d, base.1)))
        .collect();
    Ok(json!({"activities-heart": list}))
}

/// Whether second `secs` of local day `d` is a wall time the person's clock showed: the
/// hour a spring-forward change skips never appears in intraday data (the device's clock
/// jumped over it), and the hour a fall-back change repeats appears once, since the API
/// keys intraday data by wall clock (docs/schema.md, "Time rules").
fn on_the_clock(p: &Person, d: NaiveDate, secs: usize) -> bool {
    let local = d.and_time(NaiveTime::MIN) + Duration::seconds(secs as i64);
    !matches!(
        chrono::TimeZone::from_local_datetime(&p.tz, &local),
        chrono::LocalResult::None
    )
}

/// Active zone minutes per day: one a minute in fat burn, two in cardio and peak; zones
/// without minutes are left out (azm-range.json).
fn azm(
    p: &Person,
    base: &Base,
    a: NaiveDate,
    b: &str,
    date: &dyn Fn(&str) -> Result<NaiveDate, Fail>,
) -> Result<Value, Fail> {
    let (start, end) = range(a, b, &["1d", "7d", "30d", "1w", "1m", "3m"], 1095, date)?;
    let list: Vec<Value> = days(start, end)
        .map(|d| {
            let [fat, cardio, peak] = p.zone_minutes(&p.day(d, base.1));
            let mut v = serde_json::Map::new();
            v.insert(
                "activeZoneMinutes".into(),
                json!(fat + 2 * cardio + 2 * peak),
            );
            for (k, n) in [
                ("fatBurnActiveZoneMinutes", fat),
                ("cardioActiveZoneMinutes", 2 * cardio),
                ("peakActiveZoneMinutes", 2 * peak),
            ] {
                if n > 0 {
                    v.insert(k.into(), json!(n));
                }
            }
            json!({"dateTime": d.to_string(), "value": v})
        })
        .collect();
    Ok(json!({ "activities-active-zone-minutes": list }))
}

/// A nightly summary (breathing rate, skin temperature): only nights with a value, as the
/// Swagger file says ("only returns a value for dates on which the device was able to
/// record").
fn nightly(
    start: NaiveDate,
    end: NaiveDate,
    key: &str,
    value: impl Fn(NaiveDate) -> Option<Value>,
) -> Value {
    let list: Vec<Value> = days(start, end)
        .filter_map(|d| {
            let mut o = json!({"dateTime": d.to_string(), "value": value(d)?});
            if key == "tempSkin" {
                o["logType"] = json!("dedicated_temp_sensor");
            }
            Some(o)
        })
        .collect();
    json!({ key: list })
}

/// The night's HRV summary: mean RMSSD of the 5-minute samples and the deep-sleep figure.
fn hrv_night(p: &Person, base: &Base, d: NaiveDate) -> Option<(f64, f64)> {
    let s = p.hrv_samples(d, base.1);
    (!s.is_empty()).then(|| {
        let avg = s.iter().map(|x| x.1).sum::<f64>() / s.len() as f64;
        (round(avg, 3), round(avg * 1.1, 3))
    })
}

/// The night's SpO2 summary (outliers below 80 left out, as the Google daily figure).
fn spo2_night(p: &Person, base: &Base, d: NaiveDate) -> Option<Value> {
    let v: Vec<f64> = p
        .spo2_samples(d, base.1)
        .into_iter()
        .map(|x| x.1)
        .filter(|v| *v > 80.0)
        .collect();
    (!v.is_empty()).then(|| {
        json!({"avg": round(v.iter().sum::<f64>() / v.len() as f64, 1),
               "min": v.iter().cloned().fold(f64::MAX, f64::min),
               "max": v.iter().cloned().fold(f64::MIN, f64::max)})
    })
}

/// The night's SpO2 minutes: each reading's 5-minute exponential moving average
/// (alpha 1/3), one decimal, the first reading as it is.
fn spo2_minutes(p: &Person, base: &Base, d: NaiveDate) -> Option<Value> {
    let mut ema: Option<f64> = None;
    let minutes: Vec<Value> = p
        .spo2_samples(d, base.1)
        .into_iter()
        .map(|(t, v)| {
            let e = ema.map_or(v, |e| e + (v - e) / 3.0);
            ema = Some(e);
            json!({"value": round(e, 1), "minute": t.format("%Y-%m-%dT%H:%M:%S").to_string()})
        })
        .collect();
    (!minutes.is_empty()).then(|| json!({"dateTime": d.to_string(), "minutes": minutes}))
}

fn hms(secs: usize) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

fn heart_intraday(p: &Person, base: &Base, d: NaiveDate, detail: &str) -> Result<Value, Fail> {
    let day = p.day(d, base.1);
    let mut data = Vec::new();
    let (kind, interval) = match detail {
        "1sec" => ("second", 1),
        "1min" => ("minute", 1),
        "5min" => ("minute", 5),
        "15min" => ("minute", 15),
        _ => {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                "validation",
                format!("Invalid detail level: {detail}"),
            ))
        }
    };
    if day.worn {
        let mut r = Rng::new(&[d.num_days_from_ce() as u64, 77]);
        if kind == "second" {
            for (t, bpm) in p.heart_samples(&day) {
                if on_the_clock(p, d, t) {
                    data.push(json!({"time": hms(t), "value": bpm}));
                }
            }
        } else {
            let mut m = 0;
            while m < day.synced_minutes {
                // Minutes without data are left out (about 2%).
                // Nothing while the tracker lay on the charger.
                if r.range(0, 49) != 0 && day.on_wrist(m) && on_the_clock(p, d, m * 60) {
                    let n = interval.min(day.synced_minutes - m);
                    let avg =
                        (m..m + n).map(|k| p.minute_bpm(&day, k)).sum::<i64>() as f64 / n as f64;
                    data.push(json!({"time": hms(m * 60), "value": avg.round() as i64}));
                }
                m += interval;
            }
        }
    }
    Ok(json!({
        "activities-heart": [heart_day(p, &day)],
        "activities-heart-intraday": {"dataset": data, "datasetInterval": 1, "datasetType": kind},
    }))
}

fn activity_intraday(
    p: &Person,
    base: &Base,
    res: &str,
    d: NaiveDate,
    detail: &str,
) -> Result<Value, Fail> {
    if !["steps", "calories", "distance", "floors", "elevation"].contains(&res) {
        return Err(not_found_fail());
    }
    let interval = match detail {
        "1min" => 1,
        "5min" => 5,
        "15min" => 15,
        _ => {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                "validation",
                format!("Invalid detail level: {detail}"),
            ))
        }
    };
    let day = p.day(d, base.1);
    let t = totals(p, &day);
    let mut data = Vec::new();
    let mut m = 0;
    let mut floors_done = 0u64;
    let mut steps_done = 0u64;
    while m < day.synced_minutes {
        let n = interval.min(day.synced_minutes - m);
        let steps: u64 = day.steps[m..m + n].iter().map(|s| *s as u64).sum();
        steps_done += steps;
        let floors = steps_done / 1500 - floors_done;
        floors_done += floors;
        if !on_the_clock(p, d, m * 60) {
            m += interval;
            continue;
        }
        let point = match res {
            "steps" => json!({"time": hms(m * 60), "value": steps}),
            "calories" => {
                let cal: f64 = day.steps[m..m + n]
                    .iter()
                    .map(|s| p.minute_calories(*s))
                    .sum();
                let per = steps as f64 / n as f64;
                let level = if per >= 100.0 {
                    3
                } else if per >= 60.0 {
                    2
                } else if per > 0.0 {
                    1
                } else {
                    0
                };
                json!({"level": level, "mets": 10 + (per / 10.0) as i64, "time": hms(m * 60), "value": cal})
            }
            "distance" => json!({"time": hms(m * 60), "value": round(steps as f64 * 0.000_75, 5)}),
            "floors" => json!({"time": hms(m * 60), "value": floors}),
            _ => json!({"time": hms(m * 60), "value": round(floors as f64 * 3.048, 2)}),
        };
        data.push(point);
        m += interval;
    }
    let total = match res {
        "steps" => t.steps.to_string(),
        "calories" => format!("{}", t.calories.round() as i64),
        "distance" => num_str(round(t.steps as f64 * 0.000_75, 5)),
        "floors" => (t.steps / 1500).to_string(),
        _ => num_str(round((t.steps / 1500) as f64 * 3.048, 2)),
    };
    Ok(json!({
        format!("activities-{res}"): [{"dateTime": d.to_string(), "value": total}],
        format!("activities-{res}-intraday"): {"dataset": data, "datasetInterval": interval, "datasetType": "minute"},
    }))
}

fn sleep_json(s: &Sleep) -> Value {
    let seg = |x: &crate::people::Segment| json!({"dateTime": ts(x.start), "level": x.level, "seconds": x.seconds});
    let mut summary = serde_json::Map::new();
    for l in s.levels() {
        let (m, count) = s.level_total(l);
        let mut v = json!({"count": count, "minutes": m});
        if s.stages {
            v["thirtyDayAvgMinutes"] = json!(m);
        }
        summary.insert(l.to_string(), v);
    }
    let in_bed = s.minutes_in_bed();
    let awake = s.minutes_awake();
    let asleep = in_bed - awake;
    let mut levels =
        json!({"data": s.data.iter().map(seg).collect::<Vec<_>>(), "summary": summary});
    if s.stages {
        levels["shortData"] = json!(s.short.iter().map(seg).collect::<Vec<_>>());
    }
    json!({
        "dateOfSleep": s.date_of_sleep.to_string(),
        "duration": (s.end - s.start).num_milliseconds(),
        "efficiency": if in_bed > 0 { (asleep * 100 + in_bed / 2) / in_bed } else { 0 },
        "endTime": ts(s.end),
        "infoCode": 0,
        "isMainSleep": s.is_main,
        "levels": levels,
        "logId": s.log_id,
        "logType": "auto_detected",
        "minutesAfterWakeup": 0,
        "minutesAsleep": asleep,
        "minutesAwake": awake,
        "minutesToFallAsleep": 0,
        "startTime": ts(s.start),
        "timeInBed": in_bed,
        "type": if s.stages { "stages" } else { "classic" },
    })
}

/// The logs of day `d` that have synced, with the edits and deletions made by then.
fn synced_sleeps(p: &Person, base: &Base, d: NaiveDate) -> Vec<Sleep> {
    p.sleeps_as_of(d, base.1)
        .into_iter()
        .filter(|s| s.end <= base.1)
        .collect()
}

fn sleep_by_date(p: &Person, base: &Base, d: NaiveDate) -> Value {
    let logs = synced_sleeps(p, base, d);
    let list: Vec<Value> = logs.iter().map(sleep_json).collect();
    let total = |k: &str| list.iter().map(|l| l[k].as_i64().unwrap_or(0)).sum::<i64>();
    let stage = |k: &str| {
        list.iter()
            .map(|l| l["levels"]["summary"][k]["minutes"].as_i64().unwrap_or(0))
            .sum::<i64>()
    };
    let mut summary = json!({
        "totalMinutesAsleep": total("minutesAsleep"),
        "totalSleepRecords": list.len(),
        "totalTimeInBed": total("timeInBed"),
    });
    if logs.iter().any(|l| l.stages) {
        summary["stages"] = json!({"deep": stage("deep"), "light": stage("light"), "rem": stage("rem"), "wake": stage("wake")});
    }
    json!({"sleep": list, "summary": summary})
}

fn sleep_range(p: &Person, base: &Base, a: NaiveDate, b: NaiveDate) -> Result<Value, Fail> {
    if b < a {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "validation",
            "Invalid date range: the end date is before the start date.",
        ));
    }
    if (b - a).num_days() + 1 > 100 {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "validation",
            "Invalid date range. The maximum range is 100 days.",
        ));
    }
    // Newest first, as the API lists logs.
    let list: Vec<Value> = days(a, b)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .flat_map(|d| synced_sleeps(p, base, d).into_iter().rev())
        .map(|s| sleep_json(&s))
        .collect();
    Ok(json!({"sleep": list}))
}

fn sleep_list(p: &Person, base: &Base, q: &HashMap<String, String>) -> Result<Value, Fail> {
    let bad = |m: &str| Err(fail(StatusCode::BAD_REQUEST, "validation", m.to_string()));
    let (limit, offset, sort) = list_params(q)?;
    let (after, dates): (bool, Vec<NaiveDate>) =
        match (q.get("afterDate"), q.get("beforeDate"), sort) {
            (Some(a), None, "asc") => {
                let a = NaiveDate::parse_from_str(a, "%Y-%m-%d").map_err(|_| {
                    fail(StatusCode::BAD_REQUEST, "validation", "Invalid afterDate")
                })?;
                (true, days(a, base.2).collect())
            }
            (None, Some(b), "desc") => {
                let b = NaiveDate::parse_from_str(b, "%Y-%m-%d").map_err(|_| {
                    fail(StatusCode::BAD_REQUEST, "validation", "Invalid beforeDate")
                })?;
                (
                    false,
                    days(p.member_since, b)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect(),
                )
            }
            (Some(_), None, _) => return bad("afterDate requires sort=asc"),
            (None, Some(_), _) => return bad("beforeDate requires sort=desc"),
            _ => return bad("Either beforeDate or afterDate must be specified"),
        };
    let mut logs = Vec::new();
    for d in dates {
        let mut day = synced_sleeps(p, base, d);
        if !after {
            day.reverse();
        }
        logs.extend(day);
        if logs.len() > offset + limit {
            break;
        }
    }
    let more = logs.len() > offset + limit;
    let page: Vec<Value> = logs
        .iter()
        .skip(offset)
        .take(limit)
        .map(sleep_json)
        .collect();
    let (key, date) = if after {
        ("afterDate", q["afterDate"].clone())
    } else {
        ("beforeDate", q["beforeDate"].clone())
    };
    let url = format!("{}/1.2/user/-/sleep/list.json", base.0);
    Ok(json!({
        "pagination": pagination(&url, (key, &date), (offset, limit, sort), more),
        "sleep": page,
    }))
}

fn profile(p: &Person, base: &Base) -> Value {
    // The offset in force now (the profile only knows the current one).
    let offset_ms = chrono::TimeZone::from_local_datetime(&p.tz, &base.1)
        .earliest()
        .map_or(0, |t| {
            i64::from(chrono::Offset::fix(t.offset()).local_minus_utc()) * 1000
        });
    json!({"user": {
        "aboutMe": "",
        "avatar": "https://static0.fitbit.com/images/profile/defaultProfile_100.png",
        "avatar150": "https://static0.fitbit.com/images/profile/defaultProfile_150.png",
        "city": "",
        "country": "",
        "dateOfBirth": "1990-01-01",
        "displayName": p.name.split(' ').next().unwrap_or("User"),
        "distanceUnit": "METRIC",
        "encodedId": p.id,
        "foodsLocale": "en_US",
        "fullName": p.name,
        "gender": "NA",
        "glucoseUnit": "METRIC",
        "height": 172.5,
        "heightUnit": "METRIC",
        "locale": "en_US",
        "memberSince": p.member_since.to_string(),
        "offsetFromUTCMillis": offset_ms,
        "startDayOfWeek": "MONDAY",
        "strideLengthRunning": 101.2,
        "strideLengthWalking": 75.3,
        "timezone": p.tz.name(),
        "waterUnit": "METRIC",
        "weight": 70.5,
        "weightUnit": "METRIC",
    }})
}

fn devices(p: &Person, base: &Base) -> Value {
    let mut out = vec![json!({
        "battery": if p.index % 4 == 3 { "Low" } else { "High" },
        "batteryLevel": 80 - (p.index as i64 * 17) % 70,
        "deviceVersion": "Charge 6",
        "features": [],
        "id": format!("{}", 100_000_000 + p.index * 7919),
        "lastSyncTime": ts(base.1),
        "mac": format!("A1B2C3D4E5{:02X}", p.index),
        "type": "TRACKER",
    })];
    // The scale syncs when stepped on: its last sync is the last weigh-in.
    if let Some(w) = (0..7)
        .filter_map(|d| p.weigh_in(base.2 - Duration::days(d), base.1))
        .map(|w| w.0)
        .next()
    {
        out.push(json!({
            "battery": "High",
            "deviceVersion": "Aria Air",
            "features": [],
            "id": format!("{}", 200_000_000 + p.index * 7919),
            "lastSyncTime": ts(w),
            "mac": format!("F1E2D3C4B5{:02X}", p.index),
            "type": "SCALE",
        }));
    }
    Value::Array(out)
}

/// The activity log list (`activities/list.json`): exercise sessions by start day, paged
/// like the sleep log list (`limit` at most 100, `afterDate` with `sort=asc` or
/// `beforeDate` with `sort=desc`, later pages by the `next` link).
fn activity_list(p: &Person, base: &Base, q: &HashMap<String, String>) -> Result<Value, Fail> {
    let bad = |m: &str| Err(fail(StatusCode::BAD_REQUEST, "validation", m.to_string()));
    let (limit, offset, sort) = list_params(q)?;
    let parse = |s: &str, what: &str| {
        NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").map_err(|_| {
            fail(
                StatusCode::BAD_REQUEST,
                "validation",
                format!("Invalid {what}"),
            )
        })
    };
    let (key, given, dates): (&str, String, Vec<NaiveDate>) =
        match (q.get("afterDate"), q.get("beforeDate"), sort) {
            (Some(a), None, "asc") => (
                "afterDate",
                a.clone(),
                days(parse(a, "afterDate")?.max(p.member_since), base.2).collect(),
            ),
            (None, Some(b), "desc") => {
                let b = parse(b, "beforeDate")?;
                let mut d: Vec<NaiveDate> =
                    days(p.member_since, b.pred_opt().unwrap_or(b)).collect();
                d.reverse();
                ("beforeDate", q["beforeDate"].clone(), d)
            }
            (Some(_), None, _) => return bad("afterDate requires sort=asc"),
            (None, Some(_), _) => return bad("beforeDate requires sort=desc"),
            _ => return bad("Either beforeDate or afterDate must be specified"),
        };
    let mut logs = Vec::new();
    for d in dates {
        logs.extend(p.workouts(d, base.1));
        if logs.len() > offset + limit {
            break;
        }
    }
    let more = logs.len() > offset + limit;
    let entries: Vec<Value> = logs
        .iter()
        .skip(offset)
        .take(limit)
        .map(|w| {
            let off = chrono::TimeZone::offset_from_local_datetime(&p.tz, &w.start)
                .earliest()
                .map_or(0, |o| chrono::Offset::fix(&o).local_minus_utc());
            let (h, m) = (off.abs() / 3600, off.abs() % 3600 / 60);
            let sign = if off < 0 { '-' } else { '+' };
            let start = format!("{}{sign}{h:02}:{m:02}", ts(w.start));
            let ms = w.minutes * 60_000;
            let mut log = json!({
                "activeDuration": ms,
                "activeZoneMinutes": {"totalMinutes": w.azm, "minutesInHeartRateZones": []},
                "activityName": match w.kind { "running" => "Run", "swimming" => "Swim", _ => "Walk" },
                "activityTypeId": match w.kind { "running" => 90009, "swimming" => 90024, _ => 90013 },
                "averageHeartRate": w.avg_bpm,
                "calories": w.calories.round() as i64,
                "distance": match w.kind {
                    // A swim's distance is its lengths of the pool.
                    "swimming" => round((w.lengths.len() as u64 * POOL_METRES) as f64 / 1000.0, 3),
                    "running" => round(w.steps as f64 * 1.1 / 1000.0, 3),
                    _ => round(w.steps as f64 * 0.75 / 1000.0, 3),
                },
                "distanceUnit": "Kilometer",
                "duration": ms,
                "hasActiveZoneMinutes": w.azm > 0,
                "hasGps": w.has_gps,
                "lastModified": ts(w.start + Duration::minutes(w.minutes + 3)) + "Z",
                "logId": w.log_id,
                "logType": if w.has_gps { "mobile_run" } else { "auto_detected" },
                "originalDuration": ms,
                "originalStartTime": start.clone(),
                "startTime": start,
                "steps": w.steps,
            });
            // A swim counts no steps: the field is left out.
            if w.kind == "swimming" {
                if let Some(o) = log.as_object_mut() {
                    o.remove("steps");
                }
            }
            log
        })
        .collect();
    let url = format!("{}/1/user/-/activities/list.json", base.0);
    Ok(json!({
        "activities": entries,
        "pagination": pagination(&url, (key, &given), (offset, limit, sort), more),
    }))
}

/// `limit` (1 to 100), `offset` and `sort` of a paged log list.
fn list_params(q: &HashMap<String, String>) -> Result<(usize, usize, &str), Fail> {
    let limit: usize = match q.get("limit").and_then(|l| l.parse().ok()) {
        Some(l) if (1..=100).contains(&l) => l,
        _ => {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                "validation",
                "limit must be between 1 and 100",
            ))
        }
    };
    let offset: usize = q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    Ok((
        limit,
        offset,
        q.get("sort").map(String::as_str).unwrap_or(""),
    ))
}

/// The `pagination` object of a log list page: its date bound, and `next` / `previous`
/// links (empty when there is none) that repeat the query at another offset.
fn pagination(
    url: &str,
    (key, date): (&str, &str),
    (offset, limit, sort): (usize, usize, &str),
    more: bool,
) -> Value {
    let link = |o: usize| format!("{url}?offset={o}&limit={limit}&sort={sort}&{key}={date}");
    json!({
        key: date,
        "limit": limit,
        "next": if more { link(offset + limit) } else { String::new() },
        "offset": offset,
        "previous": if offset > 0 { link(offset.saturating_sub(limit)) } else { String::new() },
        "sort": sort,
    })
}
