//! The Google Health API v4 (google-health-api.md §3 to §5), built from the same
//! synthetic people as the Fitbit side, so both describe the same days: `dataPoints`
//! lists (AIP-160 filters, newest first, opaque page tokens tied to their query, sleep
//! pages of at most 25), `:reconcile`, `:rollUp` and `:dailyRollUp` (14/90-day caps,
//! window × page size rule, exclusive end), int64 values as strings, omitted zeros,
//! civil times with omitted zero fields, offsets as `"-14400s"`, `google.rpc.Status`
//! errors, 300 requests per user per minute, an HTML 404 for unknown paths and
//! `ACCOUNT_NOT_LINKED` for a person without a Google Health profile.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde_json::{json, Map, Value};

use crate::google_oauth::Refused;
use crate::people::{Day, Person, FOODS, HEART_ZONES, POOL_METRES};
use crate::{lock, FaultKind, Shared};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rec {
    Interval,
    Sample,
    Daily,
    Session,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    List,
    Reconcile,
    RollUp,
    DailyRollUp,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::List => "list",
            Op::Reconcile => "reconcile",
            Op::RollUp => "rollUp",
            Op::DailyRollUp => "dailyRollUp",
        }
    }
}

struct Type {
    url: &'static str,
    member: &'static str,
    key: &'static str,
    rec: Rec,
    ops: &'static [Op],
    scope: &'static str,
    /// Maximum rollup range in days.
    cap: i64,
}

const AF: &str = "activity_and_fitness";
const HM: &str = "health_metrics_and_measurements";
const ALL: &[Op] = &[Op::List, Op::Reconcile, Op::RollUp, Op::DailyRollUp];
const LR: &[Op] = &[Op::List, Op::Reconcile];
const ROLLUP_ONLY: &[Op] = &[Op::Reconcile, Op::RollUp, Op::DailyRollUp];

/// The data types (§6): those the people have data for, and a few known but empty ones.
const TYPES: &[Type] = &[
    Type {
        url: "steps",
        member: "steps",
        key: "steps",
        rec: Rec::Interval,
        ops: ALL,
        scope: AF,
        cap: 90,
    },
    Type {
        url: "distance",
        member: "distance",
        key: "distance",
        rec: Rec::Interval,
        ops: ALL,
        scope: AF,
        cap: 90,
    },
    Type {
        url: "floors",
        member: "floors",
        key: "floors",
        rec: Rec::Interval,
        ops: ROLLUP_ONLY,
        scope: AF,
        cap: 90,
    },
    Type {
        url: "altitude",
        member: "altitude",
        key: "altitude",
        rec: Rec::Interval,
        ops: ALL,
        scope: AF,
        cap: 90,
    },
    // Minutes and energy per heart-rate zone (`TimeInHeartRateZoneRollupValue`,
    // `CaloriesInHeartRateZoneRollupValue`): LIGHT, MODERATE, VIGOROUS, PEAK; the
    // calories are rollup-only with a 14-day cap (§6).
    Type {
        url: "time-in-heart-rate-zone",
        member: "time_in_heart_rate_zone",
        key: "timeInHeartRateZone",
        rec: Rec::Interval,
        ops: ALL,
        scope: AF,
        cap: 90,
    },
    Type {
        url: "calories-in-heart-rate-zone",
        member: "calories_in_heart_rate_zone",
        key: "caloriesInHeartRateZone",
        rec: Rec::Interval,
        ops: ROLLUP_ONLY,
        scope: AF,
        cap: 14,
    },
    // `ActivityLevel{interval, activityLevelType}`, a point per minute on the wrist.
    Type {
        url: "activity-level",
        member: "activity_level",
        key: "activityLevel",
        rec: Rec::Interval,
        ops: LR,
        scope: AF,
        cap: 0,
    },
    Type {
        url: "total-calories",
        member: "total_calories",
        key: "totalCalories",
        rec: Rec::Interval,
        ops: ROLLUP_ONLY,
        scope: AF,
        cap: 14,
    },
    Type {
        url: "active-energy-burned",
        member: "active_energy_burned",
        key: "activeEnergyBurned",
        rec: Rec::Interval,
        ops: ALL,
        scope: AF,
        cap: 90,
    },
    // `BasalEnergyBurned{interval, kcal}`: list and reconcile only; live, dailyRollUp
    // answers UNSUPPORTED_DATA_TYPE_ACTION (rollup_basal_calories.error.truncated.txt).
    Type {
        url: "basal-energy-burned",
        member: "basal_energy_burned",
        key: "basalEnergyBurned",
        rec: Rec::Interval,
        ops: LR,
        scope: AF,
        cap: 0,
    },
    Type {
        url: "active-minutes",
        member: "active_minutes",
        key: "activeMinutes",
        rec: Rec::Interval,
        ops: ROLLUP_ONLY,
        scope: AF,
        cap: 14,
    },
    Type {
        url: "heart-rate",
        member: "heart_rate",
        key: "heartRate",
        rec: Rec::Sample,
        ops: ALL,
        scope: HM,
        cap: 14,
    },
    // `DailyHeartRateZones{date, heartRateZones[{heartRateZoneType, minBeatsPerMinute,
    // maxBeatsPerMinute}]}`: the day's zone thresholds, list and reconcile (§6).
    Type {
        url: "daily-heart-rate-zones",
        member: "daily_heart_rate_zones",
        key: "dailyHeartRateZones",
        rec: Rec::Daily,
        ops: LR,
        scope: HM,
        cap: 0,
    },
    Type {
        url: "daily-resting-heart-rate",
        member: "daily_resting_heart_rate",
        key: "dailyRestingHeartRate",
        rec: Rec::Daily,
        ops: LR,
        scope: HM,
        cap: 0,
    },
    Type {
        url: "sleep",
        member: "sleep",
        key: "sleep",
        rec: Rec::Session,
        ops: LR,
        scope: "sleep",
        cap: 0,
    },
    Type {
        url: "active-zone-minutes",
        member: "active_zone_minutes",
        key: "activeZoneMinutes",
        rec: Rec::Interval,
        ops: ALL,
        scope: AF,
        cap: 90,
    },
    Type {
        url: "daily-respiratory-rate",
        member: "daily_respiratory_rate",
        key: "dailyRespiratoryRate",
        rec: Rec::Daily,
        ops: LR,
        scope: HM,
        cap: 0,
    },
    Type {
        url: "daily-sleep-temperature-derivations",
        member: "daily_sleep_temperature_derivations",
        key: "dailySleepTemperatureDerivations",
        rec: Rec::Daily,
        ops: LR,
        scope: HM,
        cap: 0,
    },
    Type {
        url: "heart-rate-variability",
        member: "heart_rate_variability",
        key: "heartRateVariability",
        rec: Rec::Sample,
        ops: LR,
        scope: HM,
        cap: 0,
    },
    Type {
        url: "daily-heart-rate-variability",
        member: "daily_heart_rate_variability",
        key: "dailyHeartRateVariability",
        rec: Rec::Daily,
        ops: LR,
        scope: HM,
        cap: 0,
    },
    Type {
        url: "oxygen-saturation",
        member: "oxygen_saturation",
        key: "oxygenSaturation",
        rec: Rec::Sample,
        ops: LR,
        scope: HM,
        cap: 0,
    },
    Type {
        url: "daily-oxygen-saturation",
        member: "daily_oxygen_saturation",
        key: "dailyOxygenSaturation",
        rec: Rec::Daily,
        ops: LR,
        scope: HM,
        cap: 0,
    },
    Type {
        url: "weight",
        member: "weight",
        key: "weight",
        rec: Rec::Sample,
        ops: ALL,
        scope: HM,
        cap: 90,
    },
    Type {
        url: "body-fat",
        member: "body_fat",
        key: "bodyFat",
        rec: Rec::Sample,
        ops: ALL,
        scope: HM,
        cap: 90,
    },
    Type {
        url: "daily-vo2-max",
        member: "daily_vo2_max",
        key: "dailyVo2Max",
        rec: Rec::Daily,
        ops: LR,
        scope: AF,
        cap: 0,
    },
    // `CoreBodyTemperature{sampleTime, temperatureCelsius, measurementLocation}` and
    // `BloodGlucose{sampleTime, bloodGlucoseMilligramsPerDeciliter, measurementTiming, ...}`:
    // readings people enter (§6: list, get, reconcile and the rollups; 90-day cap).
    Type {
        url: "core-body-temperature",
        member: "core_body_temperature",
        key: "coreBodyTemperature",
        rec: Rec::Sample,
        ops: ALL,
        scope: HM,
        cap: 90,
    },
    Type {
        url: "blood-glucose",
        member: "blood_glucose",
        key: "bloodGlucose",
        rec: Rec::Sample,
        ops: ALL,
        scope: HM,
        cap: 90,
    },
    // `RunVO2Max{sampleTime, runVo2Max}`: one sample as a run with GPS ends.
    Type {
        url: "run-vo2-max",
        member: "run_vo2_max",
        key: "runVo2Max",
        rec: Rec::Sample,
        ops: ALL,
        scope: AF,
        cap: 90,
    },
    // `VO2Max{sampleTime, vo2Max, measurementMethod}` and `Height{sampleTime,
    // heightMillimeters}`: samples with list and reconcile only (§6).
    Type {
        url: "vo2-max",
        member: "vo2_max",
        key: "vo2Max",
        rec: Rec::Sample,
        ops: LR,
        scope: AF,
        cap: 0,
    },
    Type {
        url: "height",
        member: "height",
        key: "height",
        rec: Rec::Sample,
        ops: LR,
        scope: HM,
        cap: 0,
    },
    // `RespiratoryRateSleepSummary{sampleTime, fullSleepStats, deepSleepStats, ...}`: one
    // sample per main sleep, filed as it ends. No filter member works (§6, and the live
    // probe's 400 for `sleep_session_start_time`): it is listed whole.
    Type {
        url: "respiratory-rate-sleep-summary",
        member: "respiratory_rate_sleep_summary",
        key: "respiratoryRateSleepSummary",
        rec: Rec::Sample,
        ops: LR,
        scope: HM,
        cap: 0,
    },
    // `HydrationLog{interval, amountConsumed}` and `NutritionLog{interval, mealType,
    // foodDisplayName, energy, nutrients, ...}`: logs people enter, filtered on the civil
    // start alone like exercise (google-health-live-2026.md, "Filters"), under the
    // optional nutrition scope (a live 403 names `nutrition OR nutrition_readonly`).
    Type {
        url: "hydration-log",
        member: "hydration_log",
        key: "hydrationLog",
        rec: Rec::Session,
        ops: ALL,
        scope: "nutrition",
        cap: 90,
    },
    Type {
        url: "nutrition-log",
        member: "nutrition_log",
        key: "nutritionLog",
        rec: Rec::Session,
        ops: ALL,
        scope: "nutrition",
        cap: 90,
    },
    // `Electrocardiogram{interval, waveformSamples, ...}` and
    // `IrregularRhythmNotification{interval, alertWindows, medicalDeviceInfo}`: list only,
    // filtered on `interval.start_time` alone (§3.3 lists no civil member for ECG), each
    // under a scope of its own.
    Type {
        url: "electrocardiogram",
        member: "electrocardiogram",
        key: "electrocardiogram",
        rec: Rec::Session,
        ops: &[Op::List],
        scope: "ecg",
        cap: 0,
    },
    Type {
        url: "irregular-rhythm-notification",
        member: "irregular_rhythm_notification",
        key: "irregularRhythmNotification",
        rec: Rec::Session,
        ops: &[Op::List],
        scope: "irn",
        cap: 0,
    },
    // `FoodMeasurementUnit{displayName, pluralDisplayName}`: the units servings name.
    Type {
        url: "food-measurement-unit",
        member: "food_measurement_unit",
        key: "foodMeasurementUnit",
        rec: Rec::Daily,
        ops: &[Op::List],
        scope: "nutrition",
        cap: 0,
    },
    // `Food{displayName, defaultServing, energyAvg, nutrients, ...}`: the person's food
    // catalogue, list and get only (§6); it has no time, so no filter member works.
    Type {
        url: "food",
        member: "food",
        key: "food",
        rec: Rec::Daily,
        ops: &[Op::List],
        scope: "nutrition",
        cap: 0,
    },
    // `SwimLengthsData{interval, swimStrokeType, strokeCount}`: one point a pool length
    // (§6: list, reconcile and both rollups; the rollup value is `strokeCountSum`).
    Type {
        url: "swim-lengths-data",
        member: "swim_lengths_data",
        key: "swimLengthsData",
        rec: Rec::Interval,
        ops: ALL,
        scope: AF,
        cap: 90,
    },
    // The discovery document's `SedentaryPeriod` is only its interval.
    Type {
        url: "sedentary-period",
        member: "sedentary_period",
        key: "sedentaryPeriod",
        rec: Rec::Interval,
        ops: ALL,
        scope: AF,
        cap: 90,
    },
    Type {
        url: "exercise",
        member: "exercise",
        key: "exercise",
        rec: Rec::Session,
        ops: LR,
        scope: AF,
        cap: 0,
    },
];

/// Default and maximum page sizes of the rollups (REF-LIST).
const DEFAULT_PAGE: usize = 1440;
const MAX_PAGE: usize = 10_000;
/// `list` and `reconcile` as measured live (google-health-live-2026.md, "Volume and
/// paging"): 50 points a page without `pageSize` (not the documented 1,440), pages that
/// stop at 5,000 whatever `pageSize` asks, sessions at most 25 a page.
const LIST_DEFAULT_PAGE: usize = 50;
const LIST_MAX_PAGE: usize = 5_000;
const SESSION_PAGE: usize = 25;
/// A heart-rate page looks at most this much time (ms) below its cursor: where the
/// tracker was off for that long, the page is empty and still carries a `nextPageToken`.
const HEART_SCAN_MS: i64 = 6 * 3600 * 1000;

type Fail = Box<Response>;

/// A `google.rpc.Status` error body.
fn status(code: StatusCode, status: &str, message: &str, details: Vec<Value>) -> Response {
    let mut e = json!({"code": code.as_u16(), "message": message, "status": status});
    if !details.is_empty() {
        e["details"] = Value::Array(details);
    }
    json_response(code, &json!({ "error": e }))
}

fn info(reason: &str, domain: &str, metadata: Value) -> Value {
    json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": domain, "metadata": metadata})
}

fn invalid(reason: &str, message: &str, metadata: Value) -> Fail {
    Box::new(status(
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
        message,
        vec![info(reason, "health.googleapis.com", metadata)],
    ))
}

fn bad_filter(detail: &str) -> Fail {
    invalid(
        "INVALID_DATA_POINT_FILTER",
        "Invalid data point filter.",
        json!({ "detailedReasons": detail }),
    )
}

fn json_response(code: StatusCode, body: &Value) -> Response {
    let mut r = (code, body.to_string()).into_response();
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    r
}

/// Google's generic HTML 404 page (live `probe-errors/404-unknown-path.html`).
fn html_404(path: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(format!(
            "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 404 (Not Found)!!1</title>\n  \
             <p><b>404.</b> <ins>That\u{2019}s an error.</ins>\n  <p>The requested URL <code>{}</code> was not found on this server.  <ins>That\u{2019}s all we know.</ins>\n",
            path.replace('<', "&lt;")
        )),
    )
        .into_response()
}

fn unauthenticated(missing: bool) -> Response {
    let mut r = if missing {
        status(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            vec![info("CREDENTIALS_MISSING", "googleapis.com", json!({"service": "health.googleapis.com", "method": "google.devicesandservices.health.v4.DataPointsService.ListDataPoints"}))],
        )
    } else {
        status(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            Vec::new(),
        )
    };
    let h = if missing {
        "Bearer realm=\"https://accounts.google.com/\""
    } else {
        "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\""
    };
    r.headers_mut()
        .insert("www-authenticate", HeaderValue::from_static(h));
    r
}

fn too_many(limit: u32, retry_after: Option<i64>) -> Response {
    let mut r = status(
        StatusCode::TOO_MANY_REQUESTS,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute per user' of service 'health.googleapis.com' for consumer 'project_number:000000000000'.",
        vec![info("RATE_LIMIT_EXCEEDED", "googleapis.com", json!({
            "service": "health.googleapis.com",
            "consumer": "projects/000000000000",
            "quota_metric": "health.googleapis.com/requests",
            "quota_limit": "RequestsPerMinutePerUser",
            "quota_limit_value": limit.to_string(),
        }))],
    );
    if let Some(s) = retry_after {
        r.headers_mut().insert("retry-after", HeaderValue::from(s));
    }
    r
}

fn server_error(code: u16) -> Response {
    let (code, st, msg) = match code {
        503 => (
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "The service is currently unavailable.",
        ),
        504 => (
            StatusCode::GATEWAY_TIMEOUT,
            "DEADLINE_EXCEEDED",
            "Deadline exceeded.",
        ),
        c => (
            StatusCode::from_u16(c).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "INTERNAL",
            "Internal error encountered.",
        ),
    };
    status(code, st, msg, Vec::new())
}

/// What one request is about, once authorised.
struct Ctx {
    person: Person,
    /// The person's local wall clock of the last sync.
    last_sync: NaiveDateTime,
    today: NaiveDate,
}

pub(crate) async fn api(
    State(s): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let Some(route) = Route::parse(&path, &method) else {
        return html_404(&path);
    };
    let (ctx, fault, reject_sleep_filter) = {
        let mut g = lock(&s);
        let now = g.now();
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
        let (user, scope) = match g.google_oauth.check(auth, now) {
            Ok(u) => u,
            Err(Refused::Missing) => return unauthenticated(true),
            Err(Refused::Invalid) => return unauthenticated(false),
        };
        let person = g
            .people
            .iter()
            .find(|p| p.id == user)
            .cloned()
            .expect("tokens belong to people");
        let fault = g.take_fault(&path);
        if fault == Some(FaultKind::Revoke) {
            g.google_oauth.revoke_user(&user);
            return unauthenticated(false);
        }
        let hid = person.health_user_id();
        let limit = g.cfg.google_rate_limit;
        if !g.spend_minute(&hid, &route.stats_key(), limit) || fault == Some(FaultKind::RateLimited)
        {
            let now = g.now();
            let retry = g
                .cfg
                .retry_after
                .then(|| 60 - now.timestamp().rem_euclid(60));
            return too_many(limit, retry);
        }
        if let Err(r) = route.check_user(&person, &hid) {
            return *r;
        }
        if g.cfg.google_unlinked.contains(&person.index) {
            return status(
                StatusCode::BAD_REQUEST,
                "FAILED_PRECONDITION",
                "The account is not linked to Google Health.",
                vec![info(
                    "ACCOUNT_NOT_LINKED",
                    "health.googleapis.com",
                    json!({"redirect_uri": "https://fitbit.google.com/auth/signup"}),
                )],
            );
        }
        if let Err(r) = route.check_scope(&scope) {
            return *r;
        }
        let last_sync = g.last_sync(&person, now);
        let today = now.with_timezone(&person.tz).date_naive();
        (
            Ctx {
                person,
                last_sync,
                today,
            },
            fault,
            g.cfg.google_reject_sleep_filter,
        )
    };
    let refuse_filter = matches!(&route, Route::Points { ty, .. } if ty == "sleep")
        && q.get("filter").is_some_and(|f| !f.is_empty())
        && reject_sleep_filter;
    let answer = if refuse_filter {
        Err(bad_filter("INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER"))
    } else {
        route.answer(&ctx, &q, &body)
    };
    if let (Route::Tcx { .. }, Ok(Value::String(xml)), None) = (&route, &answer, &fault) {
        let mut r = (StatusCode::OK, xml.clone()).into_response();
        r.headers_mut().insert(
            "content-type",
            HeaderValue::from_static("application/vnd.garmin.tcx+xml"),
        );
        return r;
    }
    match (answer, fault) {
        (_, Some(FaultKind::Status(code))) => server_error(code),
        (Ok(v), Some(FaultKind::Truncate)) => {
            let text = v.to_string();
            (StatusCode::OK, text[..text.len() / 2].to_string()).into_response()
        }
        (Ok(_), Some(FaultKind::Malformed)) => (
            StatusCode::BAD_GATEWAY,
            Html("<html><body><h1>502 Bad Gateway</h1></body></html>"),
        )
            .into_response(),
        (Ok(v), Some(FaultKind::Slow(ms))) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            json_response(StatusCode::OK, &v)
        }
        (Ok(v), Some(FaultKind::Drop)) => {
            let text = v.to_string();
            crate::fitbit::dropped(text)
        }
        (Ok(v), _) => json_response(StatusCode::OK, &v),
        (Err(r), _) => *r,
    }
}

enum Route {
    Identity(String),
    Settings(String),
    Devices(String),
    Points {
        user: String,
        ty: String,
        op: Op,
    },
    /// `exercise/dataPoints/{id}:exportExerciseTcx` (§3: a TCX stream; activity and
    /// location scopes).
    Tcx {
        user: String,
        id: String,
    },
}

impl Route {
    fn parse(path: &str, method: &Method) -> Option<Route> {
        let rest = path.strip_prefix("/v4/users/")?;
        let (user, rest) = rest.split_once('/')?;
        let user = user.to_string();
        match rest {
            "identity" if method == Method::GET => return Some(Route::Identity(user)),
            "settings" if method == Method::GET => return Some(Route::Settings(user)),
            "pairedDevices" if method == Method::GET => return Some(Route::Devices(user)),
            _ => {}
        }
        let rest = rest.strip_prefix("dataTypes/")?;
        let (ty, tail) = rest.split_once('/')?;
        if let Some(id) = tail
            .strip_prefix("dataPoints/")
            .and_then(|t| t.strip_suffix(":exportExerciseTcx"))
            .filter(|_| ty == "exercise" && method == Method::GET)
        {
            return Some(Route::Tcx {
                user,
                id: id.to_string(),
            });
        }
        let op = match (tail, method) {
            ("dataPoints", &Method::GET) => Op::List,
            ("dataPoints:reconcile", &Method::GET) => Op::Reconcile,
            ("dataPoints:rollUp", &Method::POST) => Op::RollUp,
            ("dataPoints:dailyRollUp", &Method::POST) => Op::DailyRollUp,
            _ => return None,
        };
        Some(Route::Points {
            user,
            ty: ty.to_string(),
            op,
        })
    }

    fn stats_key(&self) -> String {
        match self {
            Route::Identity(_) => "v4 identity".into(),
            Route::Settings(_) => "v4 settings".into(),
            Route::Devices(_) => "v4 pairedDevices".into(),
            Route::Points { ty, op, .. } => format!("v4 {ty}:{}", op.name()),
            Route::Tcx { .. } => "v4 exercise:exportExerciseTcx".into(),
        }
    }

    fn check_user(&self, p: &Person, hid: &str) -> Result<(), Fail> {
        let user = match self {
            Route::Identity(u)
            | Route::Settings(u)
            | Route::Devices(u)
            | Route::Points { user: u, .. }
            | Route::Tcx { user: u, .. } => u,
        };
        if user == "me" || user == hid {
            Ok(())
        } else {
            let _ = p;
            Err(Box::new(status(
                StatusCode::FORBIDDEN,
                "PERMISSION_DENIED",
                "The caller does not have permission",
                Vec::new(),
            )))
        }
    }

    /// Whether a grant holds the scope of `area` (read-only or not).
    fn granted(granted: &str, area: &str) -> bool {
        granted.split_whitespace().any(|s| {
            s.strip_prefix(crate::google_oauth::SCOPE_PREFIX)
                .is_some_and(|r| r == area || r == format!("{area}.readonly"))
        })
    }

    fn check_scope(&self, granted: &str) -> Result<(), Fail> {
        let area = match self {
            // The scope for identity is UNCONFIRMED (§2.5): any Google Health scope will do.
            Route::Identity(_) => {
                if granted.contains(crate::google_oauth::SCOPE_PREFIX) {
                    return Ok(());
                }
                AF
            }
            Route::Settings(_) | Route::Devices(_) => "settings",
            // The route needs the location scope as well as activity (§2.2).
            Route::Tcx { .. } if Route::granted(granted, AF) => "location",
            Route::Tcx { .. } => AF,
            Route::Points { ty, .. } => match TYPES.iter().find(|t| t.url == ty) {
                Some(t) => t.scope,
                None => return Ok(()), // the unknown type is reported later
            },
        };
        if Route::granted(granted, area) {
            return Ok(());
        }
        Err(Box::new(status(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "Required OAuth scope(s) are missing for this operation.",
            vec![info(
                "MISSING_OAUTH_SCOPE",
                "health.googleapis.com",
                json!({ "any_of_required": format!("{area} OR {area}_readonly") }),
            )],
        )))
    }

    fn answer(&self, ctx: &Ctx, q: &HashMap<String, String>, body: &[u8]) -> Result<Value, Fail> {
        match self {
            Route::Identity(_) => Ok(json!({
                "name": "users/me/identity",
                "healthUserId": ctx.person.health_user_id(),
                "legacyUserId": ctx.person.id,
            })),
            // users.getSettings: the field names are MODELED (§9, question 9).
            Route::Settings(_) => {
                let now = ctx.last_sync;
                let offset = ctx
                    .person
                    .tz
                    .offset_from_local_datetime(&now)
                    .earliest()
                    .map_or(0, |o| chrono::Offset::fix(&o).local_minus_utc());
                Ok(json!({
                    "name": "users/me/settings",
                    "timeZone": ctx.person.tz.name(),
                    "utcOffset": format!("{offset}s"),
                }))
            }
            Route::Devices(_) => paired_devices(ctx, q),
            // The XML travels as a JSON string here; `api` sends it as it is.
            Route::Tcx { id, .. } => id
                .parse()
                .ok()
                .and_then(|id| ctx.person.workout_by_id(id, ctx.last_sync))
                .and_then(|w| crate::tcx::tcx(&ctx.person, &w, ctx.last_sync, true))
                .map(Value::String)
                .ok_or_else(|| {
                    Box::new(status(
                        StatusCode::NOT_FOUND,
                        "NOT_FOUND",
                        "Requested entity was not found.",
                        Vec::new(),
                    ))
                }),
            Route::Points { ty, op, .. } => {
                let Some(t) = TYPES.iter().find(|t| t.url == ty) else {
                    return Err(invalid(
                        "INVALID_PARENT_DATA_TYPE_COLLECTION",
                        &format!("Invalid parent data type collection: {ty}"),
                        json!({ "dataType": ty }),
                    ));
                };
                if !t.ops.contains(op) {
                    let allowed: Vec<&str> = t.ops.iter().map(|o| o.name()).collect();
                    return Err(invalid(
                        "UNSUPPORTED_DATA_TYPE_ACTION",
                        &format!(
                            "The data type {} does not support the {} action.",
                            t.url,
                            op.name()
                        ),
                        json!({"allowed_actions": allowed.join(","), "attempted_action": op.name(), "data_type": t.url}),
                    ));
                }
                match op {
                    Op::List if t.url == "food" || t.url == "food-measurement-unit" => {
                        foods(t, ctx, q)
                    }
                    Op::List | Op::Reconcile => list(t, *op, ctx, q),
                    Op::RollUp => roll_up(t, ctx, body),
                    Op::DailyRollUp => daily_roll_up(t, ctx, body),
                }
            }
        }
    }
}

/// The `food` list: the foods of the people's table a person who logs food has eaten, in
/// one page (a handful); a filter is refused like any member of a timeless type.
fn foods(t: &Type, ctx: &Ctx, q: &HashMap<String, String>) -> Result<Value, Fail> {
    if q.get("filter").is_some_and(|f| !f.trim().is_empty()) {
        return Err(bad_filter("INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER"));
    }
    let p = &ctx.person;
    if !p.logs_food(ctx.today) {
        return Ok(json!({}));
    }
    if t.url == "food-measurement-unit" {
        let mut units: Vec<&str> = FOODS.iter().map(|f| f.unit).collect();
        units.sort_unstable();
        units.dedup();
        let points: Vec<Value> = units
            .into_iter()
            .map(|u| {
                let plural = if u == "medium" {
                    u.to_string()
                } else {
                    format!("{u}s")
                };
                json!({"name": unit_name(p, u), "dataSource": source("MANUAL"),
                       t.key: {"displayName": u, "pluralDisplayName": plural}})
            })
            .collect();
        return Ok(json!({"dataPoints": points, "nextPageToken": ""}));
    }
    let points: Vec<Value> = FOODS
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut v = food_figures(f, 1.0, "energyAvg");
            v.insert("displayName".into(), json!(f.name));
            v.insert("accessLevel".into(), json!("FOOD_ACCESS_LEVEL_PUBLIC"));
            v.insert("languageCode".into(), json!("en"));
            v.insert("defaultServing".into(), json!({"amount": 1.0, "foodMeasurementUnit": unit_name(p, f.unit), "foodMeasurementUnitDisplayName": f.unit, "multiplier": 1.0}));
            json!({"name": food_name(p, i), "dataSource": source("MANUAL"), "food": v})
        })
        .collect();
    Ok(json!({"dataPoints": points, "nextPageToken": ""}))
}

/// The resource name of a serving unit.
fn unit_name(p: &Person, unit: &str) -> String {
    format!(
        "users/{}/dataTypes/food-measurement-unit/dataPoints/{unit}",
        p.health_user_id()
    )
}

/// The resource name of the `i`th food of the people's table.
fn food_name(p: &Person, i: usize) -> String {
    format!(
        "users/{}/dataTypes/food/dataPoints/f{i}",
        p.health_user_id()
    )
}

/// A food's figures for `servings` servings, as `Food` and `NutritionLog` both carry them:
/// the energy under `energy` (`energyAvg` in the catalogue, `energy` in a log), energy
/// from fat, carbohydrate, fat and three nutrients.
fn food_figures(f: &crate::people::Food, servings: f64, energy: &str) -> Map<String, Value> {
    let [carbs, fat, protein, fiber, sodium] = f.grams;
    let g = |x: f64| json!({"grams": x * servings, "userProvidedUnit": "GRAM"});
    let mut v = Map::new();
    v.insert(
        energy.into(),
        json!({"kcal": f.kcal * servings, "userProvidedUnit": "KILOCALORIE"}),
    );
    v.insert(
        "energyFromFat".into(),
        json!({"kcal": f.fat_kcal * servings}),
    );
    v.insert("totalCarbohydrate".into(), g(carbs));
    v.insert("totalFat".into(), g(fat));
    v.insert(
        "nutrients".into(),
        json!([
            {"nutrient": "PROTEIN", "quantity": g(protein)},
            {"nutrient": "DIETARY_FIBER", "quantity": g(fiber)},
            {"nutrient": "SODIUM", "quantity": g(sodium)},
        ]),
    );
    v
}

/// `users.pairedDevices.list`: the tracker (its last sync the person's) and the scale (its
/// last sync the last weigh-in), `pageSize` default 5, at most 100. The field names are
/// MODELED (google-health-api.md §3.1 says only "battery, type and so on").
fn paired_devices(ctx: &Ctx, q: &HashMap<String, String>) -> Result<Value, Fail> {
    let size = match q.get("pageSize") {
        None => 5,
        Some(s) => s
            .parse::<usize>()
            .map_err(|_| invalid("INVALID_PAGE_SIZE", "Invalid page size.", json!({})))?
            .clamp(1, 100),
    };
    let p = &ctx.person;
    let tz = &p.tz;
    let at = |l: NaiveDateTime| instant(tz, l).map(rfc3339);
    let mut devices = vec![json!({
        "name": format!("users/{}/pairedDevices/{}", p.health_user_id(), 100_000_000 + p.index * 7919),
        "displayName": "Charge 6",
        "deviceType": "TRACKER",
        "batteryLevel": 80 - (p.index as i64 * 17) % 70,
        "batteryStatus": if p.index % 4 == 3 { "LOW" } else { "HIGH" },
        "lastSyncTime": at(ctx.last_sync),
    })];
    let last_weigh_in = (0..7)
        .filter_map(|d| p.weigh_in(ctx.today - Duration::days(d), ctx.last_sync))
        .map(|w| w.0)
        .next();
    if let Some(w) = last_weigh_in {
        devices.push(json!({
            "name": format!("users/{}/pairedDevices/{}", p.health_user_id(), 200_000_000 + p.index * 7919),
            "displayName": "Aria Air",
            "deviceType": "SCALE",
            "batteryStatus": "HIGH",
            "lastSyncTime": at(w),
        }));
    }
    let query = "pairedDevices";
    let from = match q.get("pageToken").filter(|s| !s.is_empty()) {
        Some(tok) => read_token(tok, query)? as usize,
        None => 0,
    };
    let page: Vec<Value> = devices.iter().skip(from).take(size).cloned().collect();
    let more = from + size < devices.len();
    Ok(json!({
        "pairedDevices": page,
        "nextPageToken": if more { token((from + size) as i64, query) } else { String::new() },
    }))
}

// ---------------------------------------------------------------- encoding helpers

fn offset_secs(tz: &Tz, utc: DateTime<Utc>) -> i32 {
    chrono::Offset::fix(&tz.offset_from_utc_datetime(&utc.naive_utc())).local_minus_utc()
}

fn offset_str(secs: i32) -> String {
    format!("{secs}s")
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn date_json(d: NaiveDate) -> Value {
    json!({"year": d.year(), "month": d.month(), "day": d.day()})
}

/// A `CivilDateTime`: zero-valued time fields are omitted, midnight is `"time": {}`.
fn civil(t: NaiveDateTime) -> Value {
    let mut time = Map::new();
    for (k, v) in [
        ("hours", t.hour()),
        ("minutes", t.minute()),
        ("seconds", t.second()),
    ] {
        if v != 0 {
            time.insert(k.into(), json!(v));
        }
    }
    json!({"date": date_json(t.date()), "time": time})
}

/// The instant of a local wall-clock time; `None` inside a DST gap.
fn instant(tz: &Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

fn interval(tz: &Tz, start: DateTime<Utc>, end: DateTime<Utc>, with_civil: bool) -> Value {
    let (so, eo) = (offset_secs(tz, start), offset_secs(tz, end));
    let mut v = json!({
        "startTime": rfc3339(start),
        "startUtcOffset": offset_str(so),
        "endTime": rfc3339(end),
        "endUtcOffset": offset_str(eo),
    });
    if with_civil {
        v["civilStartTime"] = civil((start + Duration::seconds(so as i64)).naive_utc());
        v["civilEndTime"] = civil((end + Duration::seconds(eo as i64)).naive_utc());
    }
    v
}

fn source(method: &str) -> Value {
    json!({"recordingMethod": method, "device": {"displayName": "Charge 6", "formFactor": "FITNESS_BAND"}, "platform": "FITBIT"})
}

/// An int64 as the API writes it: a JSON string, omitted when zero.
fn put_count(m: &mut Map<String, Value>, key: &str, v: u64) {
    if v != 0 {
        m.insert(key.into(), json!(v.to_string()));
    }
}

// ---------------------------------------------------------------- data of a day

/// One point of a list: its sort instant, the times filters look at, and its body.
struct Point {
    order: i64,
    physical: DateTime<Utc>,
    civil: NaiveDateTime,
    value: Value,
    name: Option<String>,
}

fn minute_local(date: NaiveDate, m: usize) -> NaiveDateTime {
    date.and_hms_opt(0, 0, 0).expect("midnight") + Duration::minutes(m as i64)
}

/// The day's heart-rate samples at their local wall-clock times (every 2 seconds).
fn heart_of(p: &Person, day: &Day) -> Vec<(NaiveDateTime, i64)> {
    p.heart_samples_2s(day)
        .into_iter()
        .map(|(sec, bpm)| {
            (
                minute_local(day.date, 0) + Duration::seconds(sec as i64),
                bpm,
            )
        })
        .collect()
}

/// The day's per-minute floors: a floor each time the day's steps pass a multiple of 1500.
fn floor_minutes(day: &Day) -> Vec<u64> {
    let mut done = 0u64;
    let mut out = vec![0u64; 1440];
    for (m, s) in day.steps.iter().enumerate().take(day.synced_minutes) {
        let before = done / 1500;
        done += *s as u64;
        out[m] = done / 1500 - before;
    }
    out
}

/// The points of one local day; `span` (physical ms, lower inclusive, upper exclusive)
/// spares building heart-rate points no page will hold.
fn points_of_day(t: &Type, p: &Person, date: NaiveDate, ctx: &Ctx, span: (i64, i64)) -> Vec<Point> {
    let tz = &p.tz;
    let mut out = Vec::new();
    let day_of = || p.day(date, ctx.last_sync);
    match t.url {
        "steps"
        | "distance"
        | "active-energy-burned"
        | "basal-energy-burned"
        | "floors"
        | "altitude"
        | "activity-level" => {
            let day = day_of();
            if !day.worn {
                return out;
            }
            for min in minutes_of(p, &day) {
                let (local, steps) = (min.local, min.steps);
                let Some(start) = min.at else {
                    continue;
                };
                let mut v = Map::new();
                v.insert(
                    "interval".into(),
                    interval(tz, start, start + Duration::minutes(1), true),
                );
                match t.url {
                    "steps" => put_count(&mut v, "count", steps),
                    "distance" => put_count(&mut v, "millimeters", steps * 750),
                    "floors" => {
                        if min.floors == 0 {
                            continue;
                        }
                        put_count(&mut v, "count", min.floors)
                    }
                    "activity-level" => {
                        let level = [
                            "SEDENTARY",
                            "LIGHTLY_ACTIVE",
                            "MODERATELY_ACTIVE",
                            "VERY_ACTIVE",
                        ];
                        v.insert("activityLevelType".into(), json!(level[min.level]));
                    }
                    // The gain of the minute: a floor is ten feet (3,048 mm).
                    "altitude" => {
                        if min.floors == 0 {
                            continue;
                        }
                        put_count(&mut v, "gainMillimeters", min.floors * 3048)
                    }
                    // Every minute burns the basal share; the active share needs steps.
                    "basal-energy-burned" => {
                        v.insert("kcal".into(), json!(min.kcal - steps as f64 * 0.045));
                    }
                    _ => {
                        if steps == 0 {
                            continue;
                        }
                        v.insert("kcal".into(), json!(steps as f64 * 0.045));
                    }
                }
                out.push(Point {
                    order: start.timestamp_millis(),
                    physical: start,
                    civil: local,
                    value: json!({ "dataSource": source("PASSIVELY_MEASURED"), t.key: v }),
                    name: None,
                });
            }
        }
        "heart-rate" => {
            let day = day_of();
            for (local, bpm) in heart_of(p, &day) {
                let Some(at) = instant(tz, local) else {
                    continue;
                };
                if !(span.0..span.1).contains(&at.timestamp_millis()) {
                    continue;
                }
                let minute = (local - minute_local(date, 0)).num_minutes() as usize;
                let off = offset_secs(tz, at);
                out.push(Point {
                    order: at.timestamp_millis(),
                    physical: at,
                    civil: local,
                    value: json!({
                        "dataSource": source("PASSIVELY_MEASURED"),
                        "heartRate": {
                            "sampleTime": {"physicalTime": rfc3339(at), "utcOffset": offset_str(off), "civilTime": civil(local)},
                            "beatsPerMinute": bpm.to_string(),
                            "metadata": {"motionContext": if day.steps[minute] > 0 { "ACTIVE" } else { "SEDENTARY" }, "sensorLocation": "WRIST"},
                        }
                    }),
                    name: None,
                });
            }
        }
        // The thresholds of a day with heart data: the people's fat burn, cardio and peak
        // zones are Google's MODERATE, VIGOROUS and PEAK; nobody here has a LIGHT zone.
        "daily-heart-rate-zones" if day_of().resting.is_some() => {
            let zones: Vec<Value> = [(1, "MODERATE"), (2, "VIGOROUS"), (3, "PEAK")]
                .into_iter()
                .map(|(i, name)| {
                    let (_, lo, hi) = HEART_ZONES[i];
                    json!({"heartRateZoneType": name, "minBeatsPerMinute": lo.to_string(), "maxBeatsPerMinute": hi.to_string()})
                })
                .collect();
            out.push(daily_point(
                t,
                tz,
                date,
                json!({"date": date_json(date), "heartRateZones": zones}),
            ));
        }
        "daily-resting-heart-rate" => {
            let day = day_of();
            if let Some(bpm) = day.resting {
                let at = instant(tz, minute_local(date, 0)).unwrap_or_default();
                out.push(Point {
                    order: at.timestamp_millis(),
                    physical: at,
                    civil: minute_local(date, 0),
                    value: json!({
                        "dataSource": source("DERIVED"),
                        "dailyRestingHeartRate": {
                            "date": date_json(date),
                            "beatsPerMinute": bpm.to_string(),
                            "dailyRestingHeartRateMetadata": {"calculationMethod": "WITH_SLEEP"},
                        }
                    }),
                    name: None,
                });
            }
        }
        "daily-respiratory-rate" | "daily-sleep-temperature-derivations" => {
            let value = if t.url == "daily-respiratory-rate" {
                p.breathing_rate(date, ctx.last_sync)
                    .map(|r| json!({"date": date_json(date), "breathsPerMinute": r}))
            } else {
                p.skin_temperature(date, ctx.last_sync)
                    .map(|(baseline, nightly)| {
                        json!({
                            "date": date_json(date),
                            "nightlyTemperatureCelsius": nightly,
                            "baselineTemperatureCelsius": baseline,
                            "relativeNightlyStddev30dCelsius": 0.78,
                        })
                    })
            };
            out.extend(value.map(|v| daily_point(t, tz, date, v)));
        }
        "sleep" => {
            for s in p
                .sleeps_as_of(date, ctx.last_sync)
                .into_iter()
                .filter(|s| s.end <= ctx.last_sync)
            {
                let Some(start) = instant(tz, s.start) else {
                    continue;
                };
                // The log's wall times carry the offset at its start (the Fitbit side's
                // stamping): a night across a DST change lasts what its stages last, which
                // the end's own wall clock would miss by the hour.
                let end = start + (s.end - s.start);
                let name = format!(
                    "users/{}/dataTypes/sleep/dataPoints/{}",
                    p.health_user_id(),
                    s.log_id
                );
                let stage_name = |level: &str| match level {
                    "wake" | "awake" => "AWAKE",
                    "light" => "LIGHT",
                    "deep" => "DEEP",
                    "rem" => "REM",
                    "asleep" => "ASLEEP",
                    _ => "RESTLESS",
                };
                let seg = |x: &crate::people::Segment| {
                    // The segment's wall clock carries the offset at the log's start (as
                    // the Fitbit side stamps it); its instant follows from that offset.
                    let so = offset_secs(tz, start) as i64;
                    let a = DateTime::<Utc>::from_naive_utc_and_offset(
                        x.start - Duration::seconds(so),
                        Utc,
                    );
                    let b = a + Duration::seconds(x.seconds);
                    json!({
                        "startTime": rfc3339(a),
                        "startUtcOffset": offset_str(offset_secs(tz, a)),
                        "endTime": rfc3339(b),
                        "endUtcOffset": offset_str(offset_secs(tz, b)),
                        "type": stage_name(x.level),
                    })
                };
                // Google lists the stages awake first.
                let levels: &[&str] = if s.stages {
                    &["wake", "light", "deep", "rem"]
                } else {
                    &["awake", "asleep", "restless"]
                };
                let in_bed = s.minutes_in_bed();
                let awake = s.minutes_awake();
                let mut summary = Vec::new();
                for l in levels {
                    let (minutes, count) = s.level_total(l);
                    let mut m = Map::new();
                    m.insert("type".into(), json!(stage_name(l)));
                    put_count(&mut m, "minutes", minutes as u64);
                    put_count(&mut m, "count", count as u64);
                    summary.push(Value::Object(m));
                }
                let mut sum = Map::new();
                put_count(&mut sum, "minutesInSleepPeriod", in_bed as u64);
                put_count(&mut sum, "minutesAsleep", (in_bed - awake) as u64);
                put_count(&mut sum, "minutesAwake", awake as u64);
                // Always 0 in live bodies (NAS), and sent as "0" there.
                sum.insert("minutesToFallAsleep".into(), json!("0"));
                sum.insert("minutesAfterWakeUp".into(), json!("0"));
                sum.insert("stagesSummary".into(), Value::Array(summary));
                let mut sleep = json!({
                    "interval": interval(tz, start, end, false),
                    "type": if s.stages { "STAGES" } else { "CLASSIC" },
                    "stages": s.data.iter().map(seg).collect::<Vec<_>>(),
                    "metadata": {"stagesStatus": if s.stages { "SUCCEEDED" } else { "REJECTED_NAP" }, "processed": true, "mainSleep": s.is_main, "nap": !s.is_main},
                    "summary": sum,
                    "createTime": rfc3339(end + Duration::minutes(10)),
                    "updateTime": rfc3339(end + Duration::minutes(40)),
                });
                if !s.short.is_empty() {
                    sleep["shortAwakenings"] = json!(s.short.iter().map(seg).collect::<Vec<_>>());
                }
                out.push(Point {
                    order: start.timestamp_millis(),
                    physical: end,
                    civil: s.end,
                    value: json!({"name": name, "dataSource": source("DERIVED"), "sleep": sleep}),
                    name: Some(name),
                });
            }
        }
        "exercise" => {
            for w in p.workouts(date, ctx.last_sync) {
                let Some(start) = instant(tz, w.start) else {
                    continue;
                };
                let end = start + Duration::minutes(w.minutes);
                let name = format!(
                    "users/{}/dataTypes/exercise/dataPoints/{}",
                    p.health_user_id(),
                    w.log_id
                );
                let mut metrics = Map::new();
                metrics.insert("caloriesKcal".into(), json!(w.calories));
                put_count(&mut metrics, "steps", w.steps);
                metrics.insert(
                    "averageHeartRateBeatsPerMinute".into(),
                    json!(w.avg_bpm.to_string()),
                );
                put_count(&mut metrics, "activeZoneMinutes", w.azm);
                // Often absent live (slack-health-bot): only a run recorded with GPS has it,
                // and a swim (its lengths of the pool).
                if w.has_gps {
                    put_count(&mut metrics, "distanceMillimeters", w.steps * 1_100);
                }
                let lengths = w.lengths.len() as u64;
                put_count(
                    &mut metrics,
                    "distanceMillimeters",
                    lengths * POOL_METRES * 1000,
                );
                out.push(Point {
                    order: start.timestamp_millis(),
                    physical: start,
                    civil: w.start,
                    value: json!({
                        "name": name,
                        "dataSource": source("ACTIVELY_MEASURED"),
                        "exercise": {
                            "interval": interval(tz, start, end, false),
                            "exerciseType": w.kind.to_ascii_uppercase(),
                            "displayName": match w.kind { "running" => "Run", "swimming" => "Swim", _ => "Walk" },
                            "activeDuration": format!("{}s", w.minutes * 60),
                            "metricsSummary": metrics,
                            "exerciseMetadata": {"hasGps": w.has_gps},
                            "createTime": rfc3339(end + Duration::minutes(3)),
                            "updateTime": rfc3339(end + Duration::minutes(3)),
                        }
                    }),
                    name: Some(name),
                });
            }
        }
        "heart-rate-variability" | "oxygen-saturation" => {
            // The samples on this local day: the morning of the night that ended today
            // and the evening of the night that ends tomorrow.
            let of = |d: NaiveDate| {
                if t.url == "oxygen-saturation" {
                    p.spo2_samples(d, ctx.last_sync)
                } else {
                    p.hrv_samples(d, ctx.last_sync)
                }
            };
            let mut samples = of(date);
            samples.extend(of(date + Duration::days(1)));
            for (local, v) in samples.into_iter().filter(|(l, _)| l.date() == date) {
                let Some(at) = instant(tz, local) else {
                    continue;
                };
                let time = json!({"physicalTime": rfc3339(at), "utcOffset": offset_str(offset_secs(tz, at)), "civilTime": civil(local)});
                let value = if t.url == "oxygen-saturation" {
                    json!({"dataSource": source("PASSIVELY_MEASURED"), "oxygenSaturation": {"sampleTime": time, "percentage": v}})
                } else {
                    json!({"dataSource": source("DERIVED"), "heartRateVariability": {"sampleTime": time, "rootMeanSquareOfSuccessiveDifferencesMilliseconds": v}})
                };
                out.push(Point {
                    order: at.timestamp_millis(),
                    physical: at,
                    civil: local,
                    value,
                    name: None,
                });
            }
        }
        "daily-heart-rate-variability" | "daily-oxygen-saturation" => {
            let value = if t.url == "daily-oxygen-saturation" {
                let s = p.spo2_samples(date, ctx.last_sync);
                let v: Vec<f64> = s.iter().map(|x| x.1).filter(|v| *v > 80.0).collect();
                (!v.is_empty()).then(|| {
                    let avg = v.iter().sum::<f64>() / v.len() as f64;
                    json!({
                        "date": date_json(date),
                        "averagePercentage": (avg * 10.0).round() / 10.0,
                        "lowerBoundPercentage": v.iter().cloned().fold(f64::MAX, f64::min),
                        "upperBoundPercentage": v.iter().cloned().fold(f64::MIN, f64::max),
                    })
                })
            } else {
                let s = p.hrv_samples(date, ctx.last_sync);
                (!s.is_empty()).then(|| {
                    let avg = s.iter().map(|x| x.1).sum::<f64>() / s.len() as f64;
                    // Fields can be missing on some days (§4.4): no entropy here.
                    json!({
                        "date": date_json(date),
                        "averageHeartRateVariabilityMilliseconds": (avg * 10.0).round() / 10.0,
                        "deepSleepRootMeanSquareOfSuccessiveDifferencesMilliseconds": (avg * 11.0).round() / 10.0,
                        "nonRemHeartRateBeatsPerMinute": (p.day(date, ctx.last_sync).resting.unwrap_or(60) - 3).to_string(),
                    })
                })
            };
            out.extend(value.map(|v| daily_point(t, tz, date, v)));
        }
        "daily-vo2-max" => {
            // The discovery document's `DailyVO2Max`: the value, a covariance, `estimated`
            // (omitted when false, as proto3 JSON omits it) and a fitness level.
            if let Some(v) = p.vo2max(date, ctx.last_sync) {
                let level = match v.value {
                    x if x < 35.0 => "POOR",
                    x if x < 40.0 => "FAIR",
                    x if x < 45.0 => "AVERAGE",
                    x if x < 50.0 => "GOOD",
                    x if x < 55.0 => "VERY_GOOD",
                    _ => "EXCELLENT",
                };
                let mut o = json!({
                    "date": date_json(date),
                    "vo2Max": v.value,
                    "vo2MaxCovariance": if v.measured { 0.8 } else { 4.0 },
                    "cardioFitnessLevel": level,
                });
                if !v.measured {
                    o["estimated"] = json!(true);
                }
                out.push(daily_point(t, tz, date, o));
            }
        }
        "swim-lengths-data" => {
            for w in p.workouts_of(&day_of()) {
                for l in &w.lengths {
                    let Some(start) = instant(tz, l.start) else {
                        continue;
                    };
                    let end = start + Duration::seconds(l.seconds);
                    let v = json!({"interval": interval(tz, start, end, true), "swimStrokeType": l.stroke, "strokeCount": l.strokes.to_string()});
                    out.push(Point {
                        order: start.timestamp_millis(),
                        physical: start,
                        civil: l.start,
                        value: json!({"dataSource": source("ACTIVELY_MEASURED"), t.key: v}),
                        name: None,
                    });
                }
            }
        }
        "sedentary-period" => {
            let day = day_of();
            for (first, minutes) in p.sedentary_periods(&day) {
                let local = minute_local(date, first);
                let Some(start) = instant(tz, local) else {
                    continue;
                };
                // The end from the instants: a period across a DST change lasts what
                // it lasted, not what the wall clock says.
                let end = start + Duration::minutes(minutes as i64);
                out.push(Point {
                    order: start.timestamp_millis(),
                    physical: start,
                    civil: local,
                    value: json!({"dataSource": source("DERIVED"), "sedentaryPeriod": {"interval": interval(tz, start, end, true)}}),
                    name: None,
                });
            }
        }
        "core-body-temperature" | "blood-glucose" => {
            let readings: Vec<(NaiveDateTime, Value)> = if t.url == "blood-glucose" {
                p.glucose(date, ctx.last_sync)
                    .into_iter()
                    .map(|(at, v, timing)| {
                        (at, json!({"bloodGlucoseMilligramsPerDeciliter": v, "measurementTiming": timing,
                                    "specimen": "CAPILLARY_BLOOD", "measurementSource": "SELF_MONITORING_BLOOD_GLUCOSE"}))
                    })
                    .collect()
            } else {
                p.temperature(date, ctx.last_sync)
                    .into_iter()
                    .map(|(at, c)| {
                        (
                            at,
                            json!({"temperatureCelsius": c, "measurementLocation": "MOUTH"}),
                        )
                    })
                    .collect()
            };
            for (local, mut v) in readings {
                let Some(at) = instant(tz, local) else {
                    continue;
                };
                let id = at.timestamp_millis();
                let name = format!(
                    "users/{}/dataTypes/{}/dataPoints/{id}",
                    p.health_user_id(),
                    t.url
                );
                v["sampleTime"] = json!({"physicalTime": rfc3339(at), "utcOffset": offset_str(offset_secs(tz, at)), "civilTime": civil(local)});
                out.push(Point {
                    order: id,
                    physical: at,
                    civil: local,
                    value: json!({"name": name, "dataSource": source("MANUAL"), t.key: v}),
                    name: Some(name),
                });
            }
        }
        "run-vo2-max" => {
            // The day's measured score, as the run ends (none where the tracker has no
            // cardio fitness).
            let score = p.vo2max(date, ctx.last_sync).filter(|v| v.measured);
            for w in p.workouts(date, ctx.last_sync) {
                let (Some(v), true) = (score, w.has_gps) else {
                    continue;
                };
                let local = w.start + Duration::minutes(w.minutes);
                let Some(at) = instant(tz, local) else {
                    continue;
                };
                let time = json!({"physicalTime": rfc3339(at), "utcOffset": offset_str(offset_secs(tz, at)), "civilTime": civil(local)});
                out.push(Point {
                    order: at.timestamp_millis(),
                    physical: at,
                    civil: local,
                    value: json!({"dataSource": source("DERIVED"), t.key: {"sampleTime": time, "runVo2Max": v.value}}),
                    name: None,
                });
            }
        }
        "vo2-max" => {
            // Each scored day's estimate, made at 04:00 as the night's data is processed:
            // from the runs with GPS of the last 3 days where there was one, else from
            // resting heart rate and the profile (the same value as `daily-vo2-max`).
            if let Some(v) = p.vo2max(date, ctx.last_sync) {
                let local = date.and_hms_opt(4, 0, 0).expect("time");
                if let Some(at) = instant(tz, local) {
                    let method = if v.measured {
                        "FITBIT_RUN"
                    } else {
                        "PREDICTION_NON_EXERCISE"
                    };
                    let time = json!({"physicalTime": rfc3339(at), "utcOffset": offset_str(offset_secs(tz, at)), "civilTime": civil(local)});
                    out.push(Point {
                        order: at.timestamp_millis(),
                        physical: at,
                        civil: local,
                        value: json!({"dataSource": source("DERIVED"), t.key: {"sampleTime": time, "vo2Max": v.value, "measurementMethod": method}}),
                        name: None,
                    });
                }
            }
        }
        "height" => {
            if let Some((local, mm)) = p.height_entry(date, ctx.last_sync) {
                if let Some(at) = instant(tz, local) {
                    let id = at.timestamp_millis();
                    let name = format!(
                        "users/{}/dataTypes/height/dataPoints/{id}",
                        p.health_user_id()
                    );
                    let time = json!({"physicalTime": rfc3339(at), "utcOffset": offset_str(offset_secs(tz, at)), "civilTime": civil(local)});
                    out.push(Point {
                        order: id,
                        physical: at,
                        civil: local,
                        value: json!({"name": name, "dataSource": source("MANUAL"), t.key: {"sampleTime": time, "heightMillimeters": mm.to_string()}}),
                        name: Some(name),
                    });
                }
            }
        }
        "respiratory-rate-sleep-summary" => {
            if let Some(n) = p.breathing_by_stage(date, ctx.last_sync) {
                let local = n.end;
                if let Some(at) = instant(tz, local) {
                    let stats = |bpm: Option<f64>, k: u64| {
                        bpm.map(|b| {
                            let r = crate::people::mix(at.timestamp() as u64 ^ k);
                            json!({"breathsPerMinute": b,
                                   "standardDeviation": (5 + r % 10) as f64 / 10.0,
                                   "signalToNoise": (20 + (r >> 8) % 40) as f64 / 10.0})
                        })
                    };
                    let time = json!({"physicalTime": rfc3339(at), "utcOffset": offset_str(offset_secs(tz, at)), "civilTime": civil(local)});
                    let mut v = json!({"sampleTime": time});
                    for (key, bpm, k) in [
                        ("fullSleepStats", Some(n.full), 1),
                        ("deepSleepStats", Some(n.deep), 2),
                        ("lightSleepStats", Some(n.light), 3),
                        ("remSleepStats", n.rem, 4),
                    ] {
                        if let Some(s) = stats(bpm, k) {
                            v[key] = s;
                        }
                    }
                    out.push(Point {
                        order: at.timestamp_millis(),
                        physical: at,
                        civil: local,
                        value: json!({"dataSource": source("DERIVED"), t.key: v}),
                        name: None,
                    });
                }
            }
        }
        "hydration-log" => {
            for (i, (local, ml, unit)) in p.drinks(date, ctx.last_sync).into_iter().enumerate() {
                let Some(at) = instant(tz, local) else {
                    continue;
                };
                let name = format!(
                    "users/{}/dataTypes/hydration-log/dataPoints/h{}{i}",
                    p.health_user_id(),
                    date.format("%Y%m%d")
                );
                out.push(Point {
                    order: at.timestamp_millis(),
                    physical: at,
                    civil: local,
                    value: json!({"name": name, "dataSource": source("MANUAL"), t.key: {
                        "interval": interval(tz, at, at + Duration::minutes(1), true),
                        "amountConsumed": {"milliliters": ml, "userProvidedUnit": unit}}}),
                    name: Some(name),
                });
            }
        }
        "nutrition-log" => {
            for (i, m) in p.meals(date, ctx.last_sync).into_iter().enumerate() {
                let Some(at) = instant(tz, m.at) else {
                    continue;
                };
                let name = format!(
                    "users/{}/dataTypes/nutrition-log/dataPoints/n{}{i}",
                    p.health_user_id(),
                    date.format("%Y%m%d")
                );
                let f = m.food;
                let food = FOODS.iter().position(|x| x == f).unwrap_or(0);
                let mut v = food_figures(f, m.servings, "energy");
                v.insert(
                    "interval".into(),
                    interval(tz, at, at + Duration::minutes(20), true),
                );
                v.insert("mealType".into(), json!(m.meal_type));
                v.insert("food".into(), json!(food_name(p, food)));
                v.insert("foodDisplayName".into(), json!(f.name));
                v.insert("serving".into(), json!({"amount": m.servings, "foodMeasurementUnit": unit_name(p, f.unit), "foodMeasurementUnitDisplayName": f.unit}));
                out.push(Point {
                    order: at.timestamp_millis(),
                    physical: at,
                    civil: m.at,
                    value: json!({"name": name, "dataSource": source("MANUAL"), t.key: v}),
                    name: Some(name),
                });
            }
        }
        "electrocardiogram" => {
            for (i, e) in p.ecg_readings(date, ctx.last_sync).into_iter().enumerate() {
                let Some(at) = instant(tz, e.start) else {
                    continue;
                };
                let name = format!(
                    "users/{}/dataTypes/electrocardiogram/dataPoints/e{}{i}",
                    p.health_user_id(),
                    at.timestamp()
                );
                out.push(Point {
                    order: at.timestamp_millis(),
                    physical: at,
                    civil: e.start,
                    value: json!({"name": name, "dataSource": source("ACTIVELY_MEASURED"), t.key: {
                        "interval": interval(tz, at, at + Duration::seconds(30), true),
                        "beatsPerMinuteAvg": e.bpm.to_string(),
                        "leadNumber": 1,
                        "samplingFrequencyHertz": crate::people::ECG_HZ,
                        "millivoltsScalingFactor": crate::people::ECG_SCALE,
                        "resultClassification": e.result,
                        "waveformSamples": e.samples,
                        "medicalDeviceInfo": {"deviceModel": "Sense 2", "algorithmVersion": "1.3.0", "firmwareVersion": "60.20001.194.86"}}}),
                    name: Some(name),
                });
            }
        }
        "irregular-rhythm-notification" => {
            let windows = p.irregular_rhythm(date, ctx.last_sync);
            let (Some(first), Some(last)) = (windows.first(), windows.last()) else {
                return out;
            };
            let (Some(a), Some(b)) = (instant(tz, first.0), instant(tz, last.1)) else {
                return out;
            };
            let alert: Vec<Value> = windows
                .iter()
                .filter_map(|(s, e, positive, beats)| {
                    let (s, e) = (instant(tz, *s)?, instant(tz, *e)?);
                    let step = (e - s) / beats.len() as i32;
                    let beats: Vec<Value> = beats
                        .iter()
                        .enumerate()
                        .map(|(k, bpm)| {
                            let t = s + step * k as i32;
                            json!({"physicalTime": rfc3339(t), "utcOffset": offset_str(offset_secs(tz, t)), "beatsPerMinute": bpm})
                        })
                        .collect();
                    let mut w = interval(tz, s, e, true);
                    w["positive"] = json!(positive);
                    w["heartBeats"] = json!(beats);
                    Some(w)
                })
                .collect();
            let name = format!(
                "users/{}/dataTypes/irregular-rhythm-notification/dataPoints/i{}",
                p.health_user_id(),
                a.timestamp()
            );
            out.push(Point {
                order: a.timestamp_millis(),
                physical: a,
                civil: first.0,
                value: json!({"name": name, "dataSource": source("DERIVED"), t.key: {
                    "interval": interval(tz, a, b, true),
                    "alertWindows": alert,
                    "medicalDeviceInfo": {"deviceModel": "Sense 2", "algorithmVersion": "2.1.0"}}}),
                name: Some(name),
            });
        }
        "weight" | "body-fat" => {
            if let Some((local, kg, fat)) = p.weigh_in(date, ctx.last_sync) {
                let Some(at) = instant(tz, local) else {
                    return out;
                };
                // Weight ids look like epoch milliseconds live (§4.1).
                let id = at.timestamp_millis() + if t.url == "body-fat" { 1 } else { 0 };
                let name = format!(
                    "users/{}/dataTypes/{}/dataPoints/{id}",
                    p.health_user_id(),
                    t.url
                );
                let time = json!({"physicalTime": rfc3339(at), "utcOffset": offset_str(offset_secs(tz, at)), "civilTime": civil(local)});
                let value = if t.url == "weight" {
                    json!({"sampleTime": time, "weightGrams": kg * 1000.0})
                } else {
                    json!({"sampleTime": time, "percentage": fat})
                };
                out.push(Point {
                    order: at.timestamp_millis(),
                    physical: at,
                    civil: local,
                    value: json!({"name": name, "dataSource": {"recordingMethod": "PASSIVELY_MEASURED", "device": {"displayName": "Aria Air"}, "platform": "FITBIT"}, t.key: value}),
                    name: Some(name),
                });
            }
        }
        _ => {}
    }
    out
}

/// A daily type's point of `date`: filed at its local midnight, derived.
fn daily_point(t: &Type, tz: &Tz, date: NaiveDate, v: Value) -> Point {
    let at = instant(tz, minute_local(date, 0)).unwrap_or_default();
    Point {
        order: at.timestamp_millis(),
        physical: at,
        civil: minute_local(date, 0),
        value: json!({"dataSource": source("DERIVED"), t.key: v}),
        name: None,
    }
}

// ---------------------------------------------------------------- filters

#[derive(Clone, Copy, PartialEq, Debug)]
enum Bound {
    Physical(DateTime<Utc>),
    Civil(NaiveDateTime),
}

#[derive(Default, Debug)]
struct Filter {
    lower: Option<Bound>,
    upper: Option<Bound>,
}

fn members(t: &Type) -> (&'static str, &'static str) {
    match t.rec {
        // Refuses every member (INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER).
        _ if matches!(
            t.url,
            "respiratory-rate-sleep-summary" | "food" | "food-measurement-unit"
        ) =>
        {
            ("", "")
        }
        _ if t.url == "electrocardiogram" || t.url == "irregular-rhythm-notification" => {
            ("interval.start_time", "")
        }
        Rec::Interval => ("interval.start_time", "interval.civil_start_time"),
        Rec::Sample => ("sample_time.physical_time", "sample_time.civil_time"),
        Rec::Daily => ("", "date"),
        Rec::Session if t.url == "sleep" => ("interval.end_time", "interval.civil_end_time"),
        // Exercise filters only on its civil start (google-health-live-2026.md, "Filters").
        Rec::Session => ("", "interval.civil_start_time"),
    }
}

/// Parses an AIP-160 filter: `member >= "value" AND member < "value"`.
fn parse_filter(t: &Type, text: &str) -> Result<Filter, Fail> {
    let mut f = Filter::default();
    if text.trim().is_empty() {
        return Ok(f);
    }
    if text.contains(" OR ") || text.contains(" or ") {
        return Err(bad_filter("INVALID_DATA_POINT_FILTER_EXPRESSION_STRUCTURE"));
    }
    let (physical, civil_member) = members(t);
    let mut kinds = Vec::new();
    for clause in text.split(" AND ") {
        let clause = clause.trim();
        let (member, op, value) = ["<=", ">=", "<", ">", "="]
            .iter()
            .find_map(|op| {
                clause
                    .split_once(op)
                    .map(|(m, v)| (m.trim(), *op, v.trim()))
            })
            .ok_or_else(|| bad_filter("INVALID_DATA_POINT_FILTER_SYNTAX"))?;
        if value.is_empty() {
            return Err(bad_filter("INVALID_DATA_POINT_FILTER_MISSING_TOKEN"));
        }
        let Some((prefix, rest)) = member.split_once('.') else {
            return Err(bad_filter("INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER"));
        };
        if prefix != t.member {
            return Err(bad_filter("INVALID_DATA_POINT_FILTER_COLLECTION_MISMATCH"));
        }
        let is_physical = !physical.is_empty() && rest == physical;
        if !is_physical && rest != civil_member {
            return Err(bad_filter("INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER"));
        }
        kinds.push(is_physical);
        let v = value.trim_matches('"');
        let bound = if is_physical {
            DateTime::parse_from_rfc3339(v)
                .map(|d| Bound::Physical(d.with_timezone(&Utc)))
                .map_err(|_| bad_filter("INVALID_DATA_POINT_FILTER_SYNTAX"))?
        } else {
            let parsed = NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S")
                .or_else(|_| {
                    v.parse::<NaiveDate>()
                        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight"))
                })
                .map_err(|_| bad_filter("INVALID_DATA_POINT_FILTER_SYNTAX"))?;
            Bound::Civil(parsed)
        };
        match op {
            ">=" => f.lower = Some(bound),
            "<" => f.upper = Some(bound),
            _ => {
                return Err(bad_filter(
                    "INVALID_DATA_POINT_FILTER_RESTRICTION_COMPARATOR",
                ))
            }
        }
    }
    if kinds.windows(2).any(|w| w[0] != w[1]) {
        return Err(bad_filter(
            "INVALID_DATA_POINT_FILTER_MIXED_TIME_RESTRICTIONS",
        ));
    }
    if let (Some(a), Some(b)) = (f.lower, f.upper) {
        let later = match (a, b) {
            (Bound::Physical(a), Bound::Physical(b)) => b > a,
            (Bound::Civil(a), Bound::Civil(b)) => b > a,
            _ => true,
        };
        if !later {
            return Err(invalid(
                "INVALID_TIME_RANGE",
                "Query end time must be strictly larger than start time.",
                json!({}),
            ));
        }
    }
    Ok(f)
}

impl Filter {
    fn admits(&self, p: &Point) -> bool {
        let ge = |b: &Bound| match b {
            Bound::Physical(t) => p.physical >= *t,
            Bound::Civil(t) => p.civil >= *t,
        };
        self.lower.as_ref().is_none_or(ge) && self.upper.as_ref().is_none_or(|b| !ge(b))
    }

    /// The person's local days that can hold matching points (a physical bound may fall
    /// on the neighbouring local day; a civil one is that day).
    fn days(&self, tz: &Tz) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let lower = self.lower.as_ref().map(|b| match b {
            Bound::Physical(t) => t.with_timezone(tz).date_naive() - Duration::days(1),
            Bound::Civil(t) => t.date(),
        });
        // Upper bounds are exclusive: the last day that can match is the one before the
        // bound's instant.
        let upper = self.upper.as_ref().map(|b| match b {
            Bound::Physical(t) => t.with_timezone(tz).date_naive() + Duration::days(1),
            Bound::Civil(t) => (*t - Duration::nanoseconds(1)).date(),
        });
        (lower, upper)
    }
}

// ---------------------------------------------------------------- paging

/// An opaque page token: where the next page starts, tied to the query it belongs to.
fn token(cursor: i64, query: &str) -> String {
    let h = crate::people::mix(
        query
            .bytes()
            .fold(7u64, |a, b| crate::people::mix(a ^ b as u64)),
    );
    format!("CiA{:016x}{:x}", h, cursor as u64)
}

fn read_token(tok: &str, query: &str) -> Result<i64, Fail> {
    let bad = || {
        Box::new(status(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "Invalid page token.",
            Vec::new(),
        ))
    };
    let rest = tok.strip_prefix("CiA").ok_or_else(bad)?;
    if rest.len() < 17 {
        return Err(bad());
    }
    let (h, c) = rest.split_at(16);
    if token(0, query)[3..19] != *h {
        return Err(bad());
    }
    u64::from_str_radix(c, 16)
        .map(|c| c as i64)
        .map_err(|_| bad())
}

fn page_size(q: Option<&String>, t: &Type) -> Result<usize, Fail> {
    let session = t.rec == Rec::Session;
    let n = match q {
        None => {
            if session {
                SESSION_PAGE
            } else {
                LIST_DEFAULT_PAGE
            }
        }
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| invalid("INVALID_PAGE_SIZE", "Invalid page size.", json!({})))?
            .max(1) as usize,
    };
    // "values above that will be truncated accordingly".
    Ok(n.min(if session { SESSION_PAGE } else { LIST_MAX_PAGE }))
}

fn list(t: &Type, op: Op, ctx: &Ctx, q: &HashMap<String, String>) -> Result<Value, Fail> {
    let filter_text = q.get("filter").map(String::as_str).unwrap_or("");
    let filter = parse_filter(t, filter_text)?;
    let size = page_size(q.get("pageSize"), t)?;
    let query = format!("{}|{}|{filter_text}", t.url, op.name());
    let cursor = match q.get("pageToken").filter(|s| !s.is_empty()) {
        Some(tok) => Some(read_token(tok, &query)?),
        None => None,
    };
    let p = &ctx.person;
    let (lo, hi) = filter.days(&p.tz);
    let lo = lo.unwrap_or(p.member_since).max(p.member_since);
    let mut hi = hi.unwrap_or(ctx.today).min(ctx.today);
    // A later page starts at its cursor's day (the day after, for points filed past
    // midnight), not at the top of the range again.
    if let Some(c) = cursor.and_then(DateTime::from_timestamp_millis) {
        hi = hi.min(c.with_timezone(&p.tz).date_naive() + Duration::days(1));
    }
    // Heart rate is read in scans of six hours below the cursor (or below the end of the
    // range's last day); the other types in one scan.
    let top = cursor.unwrap_or(i64::MAX);
    let floor = if t.url == "heart-rate" {
        let end = instant(&p.tz, minute_local(hi + Duration::days(1), 0))
            .map_or(i64::MAX, |x| x.timestamp_millis());
        top.min(end).saturating_sub(HEART_SCAN_MS)
    } else {
        i64::MIN
    };
    let mut out = Vec::new();
    let mut next = None;
    let mut date = hi;
    'days: while date >= lo {
        let mut pts = points_of_day(t, p, date, ctx, (floor, top));
        pts.sort_by_key(|x| std::cmp::Reverse(x.order));
        for pt in pts {
            if pt.order >= top || !filter.admits(&pt) {
                continue;
            }
            if pt.order < floor {
                next = Some(token(floor, &query));
                break 'days;
            }
            if out.len() == size {
                next = Some(token(out_last_order(&out), &query));
                break 'days;
            }
            out.push((pt.order, reconciled(pt, op)));
        }
        // The scan ended inside this day: the rest of the range is for the next page.
        let day_start =
            instant(&p.tz, minute_local(date, 0)).map_or(i64::MIN, |x| x.timestamp_millis());
        if floor > day_start {
            next = Some(token(floor, &query));
            break;
        }
        date -= Duration::days(1);
    }
    let mut body = Map::new();
    if out.is_empty() && next.is_none() {
        // proto3 JSON leaves out an empty list and an empty token: the last page of an
        // empty stretch is a bare `{}` (google-health-live-2026.md).
        return Ok(Value::Object(body));
    }
    body.insert(
        "dataPoints".into(),
        Value::Array(out.into_iter().map(|(_, v)| v).collect()),
    );
    body.insert("nextPageToken".into(), json!(next.unwrap_or_default()));
    Ok(Value::Object(body))
}

fn out_last_order(out: &[(i64, Value)]) -> i64 {
    out.last().map_or(i64::MAX, |x| x.0)
}

/// A `ReconciledDataPoint` has no `dataSource`, and `dataPointName` for identifiable types.
fn reconciled(pt: Point, op: Op) -> Value {
    if op == Op::List {
        return pt.value;
    }
    let mut v = pt.value;
    if let Some(m) = v.as_object_mut() {
        m.remove("dataSource");
        m.remove("name");
        if let Some(n) = pt.name {
            m.insert("dataPointName".into(), json!(n));
        }
    }
    v
}

// ---------------------------------------------------------------- rollups

fn duration_secs(s: &str) -> Option<i64> {
    s.strip_suffix('s')?.parse::<f64>().ok().map(|x| x as i64)
}

fn rollup_too_long(cap: i64) -> Fail {
    Box::new(status(
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
        "Invalid rollup query duration.",
        vec![
            info(
                "INVALID_ROLLUP_QUERY_DURATION",
                "health.googleapis.com",
                json!({"maxDurationDays": cap.to_string()}),
            ),
            json!({"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"field": "range", "description": "Invalid rollup query duration."}]}),
        ],
    ))
}

fn body_json(body: &[u8]) -> Result<Value, Fail> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(status(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            &format!("Invalid JSON payload received. {e}"),
            Vec::new(),
        ))
    })
}

fn body_page(v: &Value, default: usize) -> Result<(usize, bool), Fail> {
    match &v["pageSize"] {
        Value::Null => Ok((default, false)),
        x => x
            .as_i64()
            .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
            .map(|n| ((n.max(1) as usize).min(MAX_PAGE), true))
            .ok_or_else(|| invalid("INVALID_PAGE_SIZE", "Invalid page size.", json!({}))),
    }
}

/// The query a rollup page token belongs to: the body without its `pageToken`.
fn body_query(t: &Type, v: &Value) -> String {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("pageToken");
    }
    format!("{}|{v}", t.url)
}

/// One synced minute of a day: its wall clock, its instant (`None` inside a DST gap)
/// and what the device counted in it.
struct Minute {
    local: NaiveDateTime,
    at: Option<DateTime<Utc>>,
    steps: u64,
    floors: u64,
    kcal: f64,
    level: usize,
    /// Heart-rate zone: 0 none, 1 fat burn, 2 cardio, 3 peak.
    zone: u8,
    /// Inside one of the day's sedentary periods.
    sedentary: bool,
    /// Strokes of the pool lengths that start in it.
    strokes: u64,
}

fn minutes_of(p: &Person, day: &Day) -> Vec<Minute> {
    let floors = floor_minutes(day);
    let mut sedentary = vec![false; 1440];
    for (a, n) in p.sedentary_periods(day) {
        sedentary[a..a + n].fill(true);
    }
    let mut strokes = vec![0u64; 1440];
    for l in p.workouts_of(day).iter().flat_map(|w| &w.lengths) {
        let m = (l.start - minute_local(day.date, 0)).num_minutes() as usize;
        strokes[m.min(1439)] += l.strokes;
    }
    (0..day.synced_minutes)
        .map(|m| {
            let local = minute_local(day.date, m);
            let s = day.steps[m];
            Minute {
                local,
                at: instant(&p.tz, local),
                steps: s as u64,
                floors: floors[m],
                kcal: p.minute_calories(s),
                level: match s {
                    0 => 0,
                    1..=59 => 1,
                    60..=99 => 2,
                    _ => 3,
                },
                zone: p.minute_zone(day, m),
                sedentary: sedentary[m],
                strokes: strokes[m],
            }
        })
        .collect()
}

/// The rollup value of a set of minutes (and heart samples) for a type.
fn rollup_value(t: &Type, mins: &[&Minute], bpm: &[i64]) -> Value {
    let mut m = Map::new();
    match t.url {
        "steps" => put_count(&mut m, "countSum", mins.iter().map(|x| x.steps).sum()),
        "floors" => put_count(&mut m, "countSum", mins.iter().map(|x| x.floors).sum()),
        // The people's zones (fat burn, cardio, peak) are Google's MODERATE, VIGOROUS and
        // PEAK; nobody here has a LIGHT zone, and a zone without minutes is left out.
        "time-in-heart-rate-zone" | "calories-in-heart-rate-zone" => {
            let time = t.url == "time-in-heart-rate-zone";
            let mut zones = Vec::new();
            for (z, name) in [(1, "MODERATE"), (2, "VIGOROUS"), (3, "PEAK")] {
                let of: Vec<&&Minute> = mins.iter().filter(|x| x.zone == z).collect();
                if of.is_empty() {
                    continue;
                }
                zones.push(if time {
                    json!({"heartRateZone": name, "duration": format!("{}s", of.len() * 60)})
                } else {
                    json!({"heartRateZone": name, "kcal": of.iter().map(|x| x.kcal).sum::<f64>()})
                });
            }
            if !zones.is_empty() {
                let list = if time {
                    "timeInHeartRateZones"
                } else {
                    "caloriesInHeartRateZones"
                };
                m.insert(list.into(), json!(zones));
            }
        }
        "altitude" => put_count(
            &mut m,
            "gainMillimetersSum",
            mins.iter().map(|x| x.floors * 3048).sum(),
        ),
        "distance" => put_count(
            &mut m,
            "millimetersSum",
            mins.iter().map(|x| x.steps * 750).sum(),
        ),
        "total-calories" => {
            let k: f64 = mins.iter().map(|x| x.kcal).sum();
            if k != 0.0 {
                m.insert("kcalSum".into(), json!(k));
            }
        }
        "active-energy-burned" => {
            let k: f64 = mins.iter().map(|x| x.steps as f64 * 0.045).sum();
            if k != 0.0 {
                m.insert("kcalSum".into(), json!(k));
            }
        }
        "active-minutes" => {
            let mut by = Vec::new();
            for (i, name) in [(1, "LIGHT"), (2, "MODERATE"), (3, "VIGOROUS")] {
                let mut e = Map::new();
                e.insert("activityLevel".into(), json!(name));
                put_count(
                    &mut e,
                    "activeMinutesSum",
                    mins.iter().filter(|x| x.level == i).count() as u64,
                );
                by.push(Value::Object(e));
            }
            m.insert(
                "activeMinutesRollupByActivityLevel".into(),
                Value::Array(by),
            );
        }
        "active-zone-minutes" => {
            // Minutes in each zone, as int64 strings (rollup_active_zone_minutes sample).
            for (k, z) in [
                ("sumInFatBurnHeartZone", 1),
                ("sumInCardioHeartZone", 2),
                ("sumInPeakHeartZone", 3),
            ] {
                let n = mins.iter().filter(|x| x.zone == z).count();
                m.insert(k.into(), json!(n.to_string()));
            }
        }
        // The time inside sedentary periods, as a duration (`"36000s"`): the rollup
        // value public clients read (`sedentaryPeriod.durationSum`).
        "swim-lengths-data" => put_count(
            &mut m,
            "strokeCountSum",
            mins.iter().map(|x| x.strokes).sum(),
        ),
        "sedentary-period" => {
            let n = mins.iter().filter(|x| x.sedentary).count();
            if n > 0 {
                m.insert("durationSum".into(), json!(format!("{}s", n * 60)));
            }
        }
        "heart-rate" if !bpm.is_empty() => {
            m.insert(
                "beatsPerMinuteAvg".into(),
                json!(bpm.iter().sum::<i64>() as f64 / bpm.len() as f64),
            );
            m.insert(
                "beatsPerMinuteMin".into(),
                json!(*bpm.iter().min().unwrap_or(&0) as f64),
            );
            m.insert(
                "beatsPerMinuteMax".into(),
                json!(*bpm.iter().max().unwrap_or(&0) as f64),
            );
        }
        _ => {}
    }
    Value::Object(m)
}

fn roll_up(t: &Type, ctx: &Ctx, body: &[u8]) -> Result<Value, Fail> {
    let v = body_json(body)?;
    let time = |k: &str| {
        v["range"][k]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc))
            .ok_or_else(|| {
                invalid(
                    "INVALID_RANGE",
                    &format!("range.{k} is required."),
                    json!({}),
                )
            })
    };
    let (start, end) = (time("startTime")?, time("endTime")?);
    let window = v["windowSize"]
        .as_str()
        .and_then(duration_secs)
        .filter(|w| *w >= 1)
        .ok_or_else(|| {
            invalid(
                "INVALID_WINDOW_SIZE",
                "windowSize must be at least 1s.",
                json!({}),
            )
        })?;
    if end <= start {
        return Err(invalid(
            "INVALID_TIME_RANGE",
            "Query end time must be strictly larger than start time.",
            json!({}),
        ));
    }
    let (size, _) = body_page(&v, DEFAULT_PAGE)?;
    let cap = Duration::days(t.cap);
    if end - start > cap || Duration::seconds(window) * size as i32 > cap {
        return Err(rollup_too_long(t.cap));
    }
    let query = body_query(t, &v);
    let skip = rollup_skip(&v, &query)?;
    let p = &ctx.person;
    let (d0, d1) = (
        start.with_timezone(&p.tz).date_naive(),
        end.with_timezone(&p.tz).date_naive().min(ctx.today),
    );
    let mut mins = Vec::new();
    let mut beats: Vec<(DateTime<Utc>, i64)> = Vec::new();
    let mut d = d0.max(p.member_since);
    while d <= d1 {
        let day = p.day(d, ctx.last_sync);
        mins.extend(minutes_of(p, &day));
        if t.url == "heart-rate" {
            beats.extend(
                heart_of(p, &day)
                    .into_iter()
                    .filter_map(|(local, bpm)| Some((instant(&p.tz, local)?, bpm))),
            );
        }
        d += Duration::days(1);
    }
    let buckets = windows(start, end, Duration::seconds(window));
    let (page, next) = rollup_page(&buckets, skip, size, &query, |(a, b)| {
        let inside: Vec<&Minute> = mins
            .iter()
            .filter(|m| m.at.is_some_and(|t| t >= *a && t < *b))
            .collect();
        let bpm: Vec<i64> = beats
            .iter()
            .filter(|x| x.0 >= *a && x.0 < *b)
            .map(|x| x.1)
            .collect();
        json!({"startTime": rfc3339(*a), "endTime": rfc3339(*b), t.key: rollup_value(t, &inside, &bpm)})
    });
    // rollUp ends its pages with `"nextPageToken": ""`, as lists do.
    Ok(json!({ "rollupDataPoints": page, "nextPageToken": next }))
}

/// Windows of `step` from `start`, the last one cut at `end`, newest first (as rollups
/// answer).
fn windows<T>(start: T, end: T, step: Duration) -> Vec<(T, T)>
where
    T: Copy + Ord + std::ops::Add<Duration, Output = T>,
{
    let mut out = Vec::new();
    let mut a = start;
    while a < end {
        let b = (a + step).min(end);
        out.push((a, b));
        a = b;
    }
    out.reverse();
    out
}

/// One page of rollup buckets from `skip` on, and the token of the next page (empty when
/// this is the last).
fn rollup_page<T>(
    buckets: &[(T, T)],
    skip: usize,
    size: usize,
    query: &str,
    value: impl Fn(&(T, T)) -> Value,
) -> (Vec<Value>, String) {
    let page = buckets.iter().skip(skip).take(size).map(value).collect();
    let next = if skip + size < buckets.len() {
        token((skip + size) as i64, query)
    } else {
        String::new()
    };
    (page, next)
}

/// Buckets to skip: where the body's `pageToken` (tied to the rest of the body) points.
fn rollup_skip(v: &Value, query: &str) -> Result<usize, Fail> {
    match v["pageToken"].as_str().filter(|s| !s.is_empty()) {
        Some(tok) => Ok(read_token(tok, query)? as usize),
        None => Ok(0),
    }
}

fn civil_of(v: &Value) -> Option<NaiveDateTime> {
    let d = &v["date"];
    let date = NaiveDate::from_ymd_opt(
        d["year"].as_i64()? as i32,
        d["month"].as_u64()? as u32,
        d["day"].as_u64()? as u32,
    )?;
    let t = &v["time"];
    let n = |k: &str| t[k].as_u64().unwrap_or(0) as u32;
    date.and_hms_opt(n("hours"), n("minutes"), n("seconds"))
}

fn daily_roll_up(t: &Type, ctx: &Ctx, body: &[u8]) -> Result<Value, Fail> {
    let v = body_json(body)?;
    let (Some(start), Some(end)) = (civil_of(&v["range"]["start"]), civil_of(&v["range"]["end"]))
    else {
        return Err(invalid(
            "INVALID_RANGE",
            "range.start and range.end are required.",
            json!({}),
        ));
    };
    if end <= start {
        return Err(invalid(
            "INVALID_TIME_RANGE",
            "Query end time must be strictly larger than start time.",
            json!({}),
        ));
    }
    let window = v["windowSizeDays"].as_i64().unwrap_or(1).max(1);
    let (size, explicit) = body_page(&v, DEFAULT_PAGE)?;
    // The cap on the range, and on windowSizeDays × pageSize when a page size is sent
    // (the live probe without one was answered; see the module docs of the client).
    if end - start > Duration::days(t.cap) || (explicit && window * size as i64 > t.cap) {
        return Err(rollup_too_long(t.cap));
    }
    let query = body_query(t, &v);
    let skip = rollup_skip(&v, &query)?;
    let p = &ctx.person;
    let mut buckets = windows(start, end, Duration::days(window));
    // Days before the account or after today are absent, and so are days without data
    // (the tracker not worn): left out, not zero (google-health-live-2026.md, "Rollups").
    // Calories keep them: the resting burn is data.
    buckets.retain(|(a, b)| {
        b.date() > p.member_since
            && a.date() <= ctx.today
            && (t.url == "total-calories"
                || a.date()
                    .iter_days()
                    .take_while(|d| minute_local(*d, 0) < *b)
                    .any(|d| p.worn(d)))
    });
    let (page, next) = rollup_page(&buckets, skip, size, &query, |(a, b)| {
        let mut mins = Vec::new();
        let mut bpm = Vec::new();
        let mut d = a.date();
        while minute_local(d, 0) < *b {
            if d >= p.member_since {
                let day = p.day(d, ctx.last_sync);
                mins.extend(
                    minutes_of(p, &day)
                        .into_iter()
                        .filter(|m| m.local >= *a && m.local < *b),
                );
                if t.url == "heart-rate" {
                    bpm.extend(
                        heart_of(p, &day)
                            .into_iter()
                            .filter(|(local, _)| local >= a && local < b)
                            .map(|x| x.1),
                    );
                }
            }
            d += Duration::days(1);
        }
        let refs: Vec<&Minute> = mins.iter().collect();
        json!({"civilStartTime": civil(*a), "civilEndTime": civil(*b), t.key: rollup_value(t, &refs, &bpm)})
    });
    let mut out = json!({ "rollupDataPoints": page });
    // `nextPageToken` only when there is a next page (DISC revision 20261002).
    if !next.is_empty() {
        out["nextPageToken"] = json!(next);
    }
    Ok(out)
}
