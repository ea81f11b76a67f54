//! The Google side of the simulator: Google OAuth, and the Health API v4 against the
//! reference (google-health-api.md) and its samples (read at test time; the conformance
//! test is skipped with a notice where ../shared/reference is absent).

use std::path::PathBuf;

use base64::Engine;
use chrono::Duration;
use fitpipe_sim::{Config, Sim};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The package folder, as `cargo test` gives it at run time (not the one a reused test
/// binary was built in, which may be another checkout's).
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), PathBuf::from)
}

const AF: &str = "https://www.googleapis.com/auth/googlehealth.activity_and_fitness.readonly";
const HM: &str =
    "https://www.googleapis.com/auth/googlehealth.health_metrics_and_measurements.readonly";
const SL: &str = "https://www.googleapis.com/auth/googlehealth.sleep.readonly";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn start(cfg: Config) -> Sim {
    Sim::start(Config {
        auto_consent: true,
        ..cfg
    })
    .await
    .unwrap()
}

/// The code flow; returns the token endpoint's status and body.
async fn login(sim: &Sim, extra: &[(&str, &str)], scope: &str) -> (u16, Value) {
    let verifier = "v".repeat(50);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let redirect = "http://127.0.0.1:53123/";
    let mut q = vec![
        ("client_id", sim.google_client_id()),
        ("redirect_uri", redirect.to_string()),
        ("response_type", "code".into()),
        ("scope", scope.to_string()),
        ("state", "st".into()),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256".into()),
    ];
    q.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let r = http()
        .get(format!("{}/o/oauth2/v2/auth", sim.base_url()))
        .query(&q)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let url = reqwest::Url::parse(&loc).unwrap();
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .to_string();
    token(
        sim,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", &verifier),
        ],
    )
    .await
}

async fn token(sim: &Sim, form: &[(&str, &str)]) -> (u16, Value) {
    let (id, secret) = (sim.google_client_id(), sim.google_client_secret());
    let mut f: Vec<(&str, &str)> = vec![("client_id", &id), ("client_secret", &secret)];
    f.extend_from_slice(form);
    let r = http()
        .post(format!("{}/token", sim.base_url()))
        .form(&f)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn call(
    sim: &Sim,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, String) {
    let url = format!("{}{path}", sim.base_url());
    let mut req = match method {
        "POST" => http().post(url),
        _ => http().get(url),
    };
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn v(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

fn all_scopes() -> String {
    format!("{AF} {HM} {SL}")
}

#[tokio::test]
async fn oauth_offline_access_testing_mode_and_non_rotating_refresh() {
    let sim = start(Config::default()).await;
    // Without access_type=offline: no refresh token.
    let (s, b) = login(&sim, &[], &all_scopes()).await;
    assert_eq!(s, 200);
    assert!(b.get("refresh_token").is_none(), "{b}");
    let (s, b) = login(
        &sim,
        &[("access_type", "offline"), ("prompt", "consent")],
        &all_scopes(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(b["expires_in"], 3599);
    assert_eq!(b["refresh_token_expires_in"], 604_799);
    assert_eq!(b["token_type"], "Bearer");
    let rt = b["refresh_token"].as_str().unwrap().to_string();
    // A refresh answers without a new refresh token, and the old one keeps working.
    for _ in 0..2 {
        let (s, r) = token(
            &sim,
            &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
        )
        .await;
        assert_eq!(s, 200, "{r}");
        assert!(r.get("refresh_token").is_none());
        assert_eq!(r["expires_in"], 3599);
    }
    sim.advance(Duration::days(7));
    let (s, r) = token(
        &sim,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .await;
    assert_eq!(
        (s, r),
        (
            400,
            json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        )
    );

    // A published app's tokens do not expire; revoke ends the grant.
    let sim = start(Config {
        google_testing: false,
        ..Config::default()
    })
    .await;
    let (_, b) = login(&sim, &[("access_type", "offline")], &all_scopes()).await;
    assert!(b.get("refresh_token_expires_in").is_none());
    let rt = b["refresh_token"].as_str().unwrap().to_string();
    sim.advance(Duration::days(30));
    assert_eq!(
        token(
            &sim,
            &[("grant_type", "refresh_token"), ("refresh_token", &rt)]
        )
        .await
        .0,
        200
    );
    let r = http()
        .post(format!("{}/revoke", sim.base_url()))
        .form(&[("token", rt.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        token(
            &sim,
            &[("grant_type", "refresh_token"), ("refresh_token", &rt)]
        )
        .await
        .0,
        400
    );
}

#[tokio::test]
async fn errors_follow_google_rpc_status() {
    let sim = start(Config {
        google_unticked_scopes: vec!["sleep.readonly".into()],
        ..Config::default()
    })
    .await;
    let (_, b) = login(&sim, &[], &all_scopes()).await;
    assert!(
        !b["scope"].as_str().unwrap().contains("sleep"),
        "the unticked scope is not granted"
    );
    let t = b["access_token"].as_str().unwrap().to_string();
    let steps = "/v4/users/me/dataTypes/steps/dataPoints";
    let reason = |body: &str| {
        v(body)["error"]["details"][0]["reason"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };

    let (s, body) = call(&sim, "", "GET", steps, None).await;
    assert_eq!((s, reason(&body).as_str()), (401, "CREDENTIALS_MISSING"));
    let (s, body) = call(&sim, "ya29.bogus", "GET", steps, None).await;
    assert_eq!(s, 401);
    assert_eq!(v(&body)["error"]["status"], "UNAUTHENTICATED");
    let (s, body) = call(
        &sim,
        &t,
        "GET",
        "/v4/users/me/dataTypes/sleep/dataPoints",
        None,
    )
    .await;
    assert_eq!((s, reason(&body).as_str()), (403, "MISSING_OAUTH_SCOPE"));
    let (s, body) = call(
        &sim,
        &t,
        "GET",
        "/v4/users/me/dataTypes/stepz/dataPoints",
        None,
    )
    .await;
    assert_eq!(
        (s, reason(&body).as_str()),
        (400, "INVALID_PARENT_DATA_TYPE_COLLECTION")
    );
    let (s, body) = call(
        &sim,
        &t,
        "GET",
        "/v4/users/me/dataTypes/floors/dataPoints",
        None,
    )
    .await;
    assert_eq!(
        (s, reason(&body).as_str()),
        (400, "UNSUPPORTED_DATA_TYPE_ACTION")
    );
    let (s, body) = call(&sim, &t, "GET", "/v4/nonexistent", None).await;
    assert_eq!(s, 404);
    assert!(body.contains("<title>Error 404 (Not Found)!!1</title>"));
    for (filter, want) in [
        ("steps.interval.startTime >= \"2026-01-01T00:00:00Z\"", "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER"),
        ("steps.interval.start_time >= \"2026-01-01T00:00:00Z\" AND steps.interval.civil_start_time < \"2026-01-02\"", "INVALID_DATA_POINT_FILTER_MIXED_TIME_RESTRICTIONS"),
        ("distance.interval.start_time >= \"2026-01-01T00:00:00Z\"", "INVALID_DATA_POINT_FILTER_COLLECTION_MISMATCH"),
    ] {
        let (s, body) = call(&sim, &t, "GET", &format!("{steps}?filter={}", urlencode(filter)), None).await;
        assert_eq!(s, 400, "{filter}");
        assert_eq!(v(&body)["error"]["details"][0]["metadata"]["detailedReasons"], want, "{filter}");
    }
    // Rollup caps: 14 days for heart rate; window × page size counts too.
    let range = |days: i64| json!({"range": {"startTime": "2026-09-01T00:00:00Z", "endTime": format!("2026-09-{:02}T00:00:00Z", 1 + days)}, "windowSize": "3600s", "pageSize": 24 * days});
    let hr = "/v4/users/me/dataTypes/heart-rate/dataPoints:rollUp";
    assert_eq!(call(&sim, &t, "POST", hr, Some(range(14))).await.0, 200);
    let (s, body) = call(&sim, &t, "POST", hr, Some(range(15))).await;
    assert_eq!(
        (s, reason(&body).as_str()),
        (400, "INVALID_ROLLUP_QUERY_DURATION")
    );
    let mut b = range(2);
    b["windowSize"] = json!("900s");
    b.as_object_mut().unwrap().remove("pageSize"); // default 1440 × 900 s = 15 days
    assert_eq!(call(&sim, &t, "POST", hr, Some(b)).await.0, 400);

    let sim = start(Config {
        google_unlinked: vec![0],
        ..Config::default()
    })
    .await;
    let (_, b) = login(&sim, &[], &all_scopes()).await;
    let (s, body) = call(
        &sim,
        b["access_token"].as_str().unwrap(),
        "GET",
        "/v4/users/me/identity",
        None,
    )
    .await;
    assert_eq!((s, reason(&body).as_str()), (400, "ACCOUNT_NOT_LINKED"));
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn lists_are_newest_first_and_page_with_tokens_tied_to_their_query() {
    let sim = start(Config::default()).await;
    let (_, b) = login(&sim, &[], &all_scopes()).await;
    let t = b["access_token"].as_str().unwrap().to_string();
    let day = (sim.now().date_naive() - Duration::days(3)).to_string();
    let filter = urlencode(&format!("steps.interval.civil_start_time >= \"{day}\" AND steps.interval.civil_start_time < \"{day}T12:00:00\""));
    let path = format!("/v4/users/me/dataTypes/steps/dataPoints?filter={filter}&pageSize=500");
    let mut all = Vec::new();
    let mut next = String::new();
    let mut pages = 0;
    loop {
        let p = if next.is_empty() {
            path.clone()
        } else {
            format!("{path}&pageToken={next}")
        };
        let (s, body) = call(&sim, &t, "GET", &p, None).await;
        assert_eq!(s, 200, "{body}");
        let body = v(&body);
        all.extend(body["dataPoints"].as_array().unwrap().iter().map(|x| {
            x["steps"]["interval"]["startTime"]
                .as_str()
                .unwrap()
                .to_string()
        }));
        pages += 1;
        next = body["nextPageToken"].as_str().unwrap().to_string();
        if next.is_empty() {
            break;
        }
        // The same token with another filter is refused.
        let other = format!(
            "/v4/users/me/dataTypes/steps/dataPoints?filter={}&pageToken={next}",
            urlencode(&format!("steps.interval.civil_start_time >= \"{day}\""))
        );
        assert_eq!(call(&sim, &t, "GET", &other, None).await.0, 400);
    }
    assert_eq!(all.len(), 720, "every minute of the morning once");
    assert_eq!(pages, 2);
    let mut sorted = all.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(all, sorted, "newest first");
    // Sleep pages hold at most 25, whatever is asked.
    let (_, body) = call(
        &sim,
        &t,
        "GET",
        "/v4/users/me/dataTypes/sleep/dataPoints?pageSize=1000",
        None,
    )
    .await;
    assert_eq!(v(&body)["dataPoints"].as_array().unwrap().len(), 25);
}

#[tokio::test]
async fn the_301st_request_in_a_minute_is_429() {
    let sim = start(Config::default()).await;
    let (_, b) = login(&sim, &[], &all_scopes()).await;
    let t = b["access_token"].as_str().unwrap().to_string();
    let path = "/v4/users/me/identity";
    for _ in 0..300 {
        assert_eq!(call(&sim, &t, "GET", path, None).await.0, 200);
    }
    let (s, body) = call(&sim, &t, "GET", path, None).await;
    assert_eq!(s, 429);
    assert_eq!(v(&body)["error"]["status"], "RESOURCE_EXHAUSTED");
    sim.advance(Duration::seconds(60));
    assert_eq!(call(&sim, &t, "GET", path, None).await.0, 200);
}

/// Every key of the sample exists in the simulator's answer with the same JSON type
/// (civil `time` objects omit zero fields, so their keys vary with the value). For an
/// array, some element of the simulator's answer must match the sample's first.
fn same_shape(sample: &Value, sim: &Value, path: &str) -> Result<(), String> {
    use Value::*;
    match (sample, sim) {
        (Object(_), Object(_)) if path.ends_with(".time") => Ok(()),
        (Object(a), Object(b)) => {
            for (k, x) in a {
                match b.get(k) {
                    Some(y) => same_shape(x, y, &format!("{path}.{k}"))?,
                    None => return Err(format!("{path}.{k} missing")),
                }
            }
            Ok(())
        }
        (Array(a), Array(b)) => match a.first() {
            None => Ok(()),
            Some(x) => {
                let mut last = format!("{path}: the simulator's array is empty");
                for y in b.iter().take(2000) {
                    match same_shape(x, y, &format!("{path}[]")) {
                        Ok(()) => return Ok(()),
                        Err(e) => last = e,
                    }
                }
                Err(last)
            }
        },
        (Number(_), Number(_)) | (String(_), String(_)) | (Bool(_), Bool(_)) | (Null, Null) => {
            Ok(())
        }
        (a, b) => Err(format!("{path}: sample {a} vs simulator {b}")),
    }
}

#[tokio::test]
async fn answers_have_the_keys_and_types_of_the_samples() {
    let dir = manifest_dir().join("../../../shared/reference/samples/google-health");
    if !dir.is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} is absent, and CI=true: the reference samples must be there",
            dir.display()
        );
        eprintln!(
            "notice: {} is absent; Google conformance test skipped",
            dir.display()
        );
        return;
    }
    let sim = start(Config::default()).await;
    let (_, b) = login(&sim, &[], &all_scopes()).await;
    let t = b["access_token"].as_str().unwrap().to_string();
    let today = sim.now().date_naive();
    // A day the person wore the tracker (drawer weeks and unworn days have no points).
    let d = (5..90)
        .map(|i| today - Duration::days(i))
        .find(|d| sim.people()[0].worn(*d) && sim.people()[0].worn(*d - Duration::days(1)))
        .unwrap();
    let civil = |d: chrono::NaiveDate| json!({"date": {"year": chrono::Datelike::year(&d), "month": chrono::Datelike::month(&d), "day": chrono::Datelike::day(&d)}, "time": {}});
    let day_filter = |member: &str| {
        urlencode(&format!(
            "{member} >= \"{d}\" AND {member} < \"{}\"",
            d + Duration::days(1)
        ))
    };
    let t0 = format!("{d}T12:00:00Z");
    let t1 = format!("{d}T18:00:00Z");
    let cases: Vec<(&str, &str, String, Option<Value>)> = vec![
        (
            "synthetic/data/identity.get.json",
            "GET",
            "/v4/users/me/identity".into(),
            None,
        ),
        (
            "synthetic/data/steps.list.page1.json",
            "GET",
            format!(
                "/v4/users/me/dataTypes/steps/dataPoints?filter={}&pageSize=1440",
                day_filter("steps.interval.civil_start_time")
            ),
            None,
        ),
        (
            "synthetic/data/distance.list.json",
            "GET",
            format!(
                "/v4/users/me/dataTypes/distance/dataPoints?filter={}&pageSize=1440",
                day_filter("distance.interval.civil_start_time")
            ),
            None,
        ),
        (
            "synthetic/data/active-energy-burned.list.json",
            "GET",
            format!(
                "/v4/users/me/dataTypes/active-energy-burned/dataPoints?filter={}",
                day_filter("active_energy_burned.interval.civil_start_time")
            ),
            None,
        ),
        (
            "synthetic/data/floors.reconcile.json",
            "GET",
            format!(
                "/v4/users/me/dataTypes/floors/dataPoints:reconcile?filter={}",
                day_filter("floors.interval.civil_start_time")
            ),
            None,
        ),
        (
            "synthetic/data/heart-rate.list.json",
            "GET",
            format!(
                "/v4/users/me/dataTypes/heart-rate/dataPoints?filter={}",
                day_filter("heart_rate.sample_time.civil_time")
            ),
            None,
        ),
        (
            "synthetic/data/sleep.list.json",
            "GET",
            format!(
                "/v4/users/me/dataTypes/sleep/dataPoints?filter={}",
                urlencode(&format!(
                    "sleep.interval.civil_end_time >= \"{}\"",
                    d - Duration::days(20)
                ))
            ),
            None,
        ),
        (
            "synthetic/data/steps.dailyRollUp.response.json",
            "POST",
            "/v4/users/me/dataTypes/steps/dataPoints:dailyRollUp".into(),
            Some(
                json!({"range": {"start": civil(d - Duration::days(3)), "end": civil(d)}, "windowSizeDays": 1}),
            ),
        ),
        (
            "synthetic/data/total-calories.dailyRollUp.response.json",
            "POST",
            "/v4/users/me/dataTypes/total-calories/dataPoints:dailyRollUp".into(),
            Some(
                json!({"range": {"start": civil(d - Duration::days(3)), "end": civil(d)}, "windowSizeDays": 1, "pageSize": 3}),
            ),
        ),
        (
            "live/ryanckelly-probe-2026-05-19/rollup_floors.sample_points.json",
            "POST",
            "/v4/users/me/dataTypes/floors/dataPoints:dailyRollUp".into(),
            Some(
                json!({"range": {"start": civil(d - Duration::days(3)), "end": civil(d)}, "windowSizeDays": 1}),
            ),
        ),
        (
            "live/ryanckelly-probe-2026-05-19/rollup_active_minutes.sample_points.json",
            "POST",
            "/v4/users/me/dataTypes/active-minutes/dataPoints:dailyRollUp".into(),
            Some(
                json!({"range": {"start": civil(d - Duration::days(3)), "end": civil(d)}, "windowSizeDays": 1}),
            ),
        ),
        (
            "synthetic/data/heart-rate.rollUp.response.json",
            "POST",
            "/v4/users/me/dataTypes/heart-rate/dataPoints:rollUp".into(),
            Some(
                json!({"range": {"startTime": t0, "endTime": t1}, "windowSize": "3600s", "pageSize": 6}),
            ),
        ),
        (
            "synthetic/data/steps.rollUp.response.json",
            "POST",
            "/v4/users/me/dataTypes/steps/dataPoints:rollUp".into(),
            Some(
                json!({"range": {"startTime": t0, "endTime": t1}, "windowSize": "900s", "pageSize": 24}),
            ),
        ),
    ];
    let mut errs = Vec::new();
    for (file, method, path, body) in cases {
        let sample: Value =
            serde_json::from_slice(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        // Live files hold only the first points of the array.
        let sample = match sample {
            Value::Array(a) => json!({"rollupDataPoints": a}),
            s => s,
        };
        let (s, got) = call(&sim, &t, method, &path, body).await;
        if s != 200 {
            errs.push(format!("{file}: HTTP {s} {got}"));
            continue;
        }
        if let Err(e) = same_shape(&sample, &v(&got), file) {
            errs.push(e);
        }
    }
    // Error bodies.
    for (file, status, method, path, token) in [
        (
            "live/probe-errors/401-missing-credentials.json",
            401,
            "GET",
            "/v4/users/me/dataTypes/steps/dataPoints".to_string(),
            "",
        ),
        (
            "live/probe-errors/401-invalid-token.json",
            401,
            "GET",
            "/v4/users/me/dataTypes/steps/dataPoints".to_string(),
            "ya29.nope",
        ),
        (
            "synthetic/errors/400-invalid-page-token.json",
            400,
            "GET",
            "/v4/users/me/dataTypes/steps/dataPoints?pageToken=garbage".to_string(),
            t.as_str(),
        ),
    ] {
        let sample: Value =
            serde_json::from_slice(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        let (s, got) = call(&sim, token, method, &path, None).await;
        if s != status {
            errs.push(format!("{file}: HTTP {s}"));
        } else if let Err(e) = same_shape(&sample, &v(&got), file) {
            errs.push(e);
        }
    }
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

#[tokio::test]
async fn a_daily_bucket_cut_short_counts_only_its_own_hours() {
    let sim = start(Config::default()).await;
    let (_, b) = login(&sim, &[], &all_scopes()).await;
    let t = b["access_token"].as_str().unwrap().to_string();
    let d = sim.now().date_naive() - Duration::days(5);
    let date = json!({"year": chrono::Datelike::year(&d), "month": chrono::Datelike::month(&d), "day": chrono::Datelike::day(&d)});
    let rollup = |end_hours: u32| {
        let body = json!({"range": {"start": {"date": date, "time": {}}, "end": {"date": date, "time": {"hours": end_hours}}}, "windowSizeDays": 1});
        let (sim, t) = (&sim, &t);
        async move {
            let (s, got) = call(
                sim,
                t,
                "POST",
                "/v4/users/me/dataTypes/heart-rate/dataPoints:dailyRollUp",
                Some(body),
            )
            .await;
            assert_eq!(s, 200, "{got}");
            v(&got)["rollupDataPoints"][0]["heartRate"].clone()
        }
    };
    // The night alone (before 06:00, asleep) has a lower maximum than the whole day.
    let night = rollup(6).await;
    let day = rollup(23).await;
    assert!(
        night["beatsPerMinuteMax"].as_f64().unwrap() < day["beatsPerMinuteMax"].as_f64().unwrap(),
        "{night} {day}"
    );
}
