//! The simulator over real HTTP: OAuth server, rate limits, endpoints, conformance with
//! the real samples in ../shared/reference (skipped with a notice where absent).

use std::path::PathBuf;

use base64::Engine;
use chrono::Duration;
use fitpipe_sim::{Config, Fault, FaultKind, Sim};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The package folder, as `cargo test` gives it at run time (not the one a reused test
/// binary was built in, which may be another checkout's).
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), PathBuf::from)
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-abcdefghij";
const REDIRECT: &str = "http://127.0.0.1:8080/";

fn challenge(v: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()))
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn start() -> Sim {
    Sim::start(Config {
        auto_consent: true,
        ..Config::default()
    })
    .await
    .unwrap()
}

/// Runs authorize; returns the redirect's query pairs.
async fn authorize(
    sim: &Sim,
    redirect: &str,
    challenge: &str,
) -> (reqwest::StatusCode, Vec<(String, String)>) {
    let r = http()
        .get(format!("{}/oauth2/authorize", sim.base_url()))
        .query(&[
            ("client_id", sim.client_id().as_str()),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            ("scope", "activity heartrate sleep profile settings"),
            ("state", "xyz"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status();
    let loc = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    let url = reqwest::Url::parse(loc.split('#').next().unwrap_or("http://x/"))
        .unwrap_or_else(|_| reqwest::Url::parse("http://x/").unwrap());
    (
        status,
        url.query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    )
}

async fn token(sim: &Sim, form: &[(&str, &str)]) -> (u16, Value) {
    let r = http()
        .post(format!("{}/oauth2/token", sim.base_url()))
        .basic_auth(sim.client_id(), Some(sim.client_secret()))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn login(sim: &Sim) -> Value {
    let (_, q) = authorize(sim, REDIRECT, &challenge(VERIFIER)).await;
    let code = q.iter().find(|(k, _)| k == "code").unwrap().1.clone();
    let (status, body) = token(
        sim,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn get(sim: &Sim, token: &str, path: &str) -> reqwest::Response {
    http()
        .get(format!("{}{path}", sim.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn code_flow_with_pkce_gives_fitbit_token_response() {
    let sim = start().await;
    let (status, q) = authorize(&sim, REDIRECT, &challenge(VERIFIER)).await;
    assert_eq!(status, 303);
    assert!(q.contains(&("state".into(), "xyz".into())));
    let t = login(&sim).await;
    assert_eq!(t["expires_in"], 28800);
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["user_id"], sim.people()[0].id.as_str());
    let r = get(
        &sim,
        t["access_token"].as_str().unwrap(),
        "/1/user/-/profile.json",
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn pkce_mismatch_is_rejected() {
    let sim = start().await;
    let (_, q) = authorize(&sim, REDIRECT, &challenge(VERIFIER)).await;
    let code = q.iter().find(|(k, _)| k == "code").unwrap().1.clone();
    let (status, body) = token(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            (
                "code_verifier",
                "wrong-verifier-wrong-verifier-wrong-verifier-00",
            ),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["errorType"], "invalid_grant");
}

#[tokio::test]
async fn wrong_redirect_is_rejected_without_redirecting() {
    let sim = start().await;
    let (status, q) = authorize(&sim, "http://127.0.0.1:9999/evil", &challenge(VERIFIER)).await;
    assert_eq!(status, 400);
    assert!(q.is_empty(), "no redirect to an unregistered URI");
}

#[tokio::test]
async fn consent_page_deny_redirects_with_access_denied() {
    let sim = Sim::start(Config::default()).await.unwrap();
    let r = http()
        .get(format!("{}/oauth2/authorize?client_id={}&response_type=code&scope=sleep&state=s1&redirect_uri={REDIRECT}", sim.base_url(), sim.client_id()))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("Deny"));
    let r = http()
        .post(format!("{}/oauth2/authorize", sim.base_url()))
        .form(&[
            ("client_id", sim.client_id().as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", "sleep"),
            ("state", "s1"),
            ("user", sim.people()[0].id.as_str()),
            ("decision", "deny"),
        ])
        .send()
        .await
        .unwrap();
    let loc = r.headers()["location"].to_str().unwrap();
    assert!(
        loc.contains("error=access_denied") && loc.contains("state=s1"),
        "{loc}"
    );
}

#[tokio::test]
async fn refresh_rotates_and_the_old_token_dies_once_the_new_one_is_used() {
    let sim = start().await;
    let t1 = login(&sim).await;
    let rt1 = t1["refresh_token"].as_str().unwrap().to_string();
    let (s, t2) = token(
        &sim,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt1)],
    )
    .await;
    assert_eq!(s, 200);
    assert_ne!(t2["refresh_token"], t1["refresh_token"]);
    // A replay within the window returns the same pair.
    let (s, again) = token(
        &sim,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt1)],
    )
    .await;
    assert_eq!((s, &again), (200, &t2));
    // Once the new access token is used, the old refresh token is spent.
    assert_eq!(
        get(
            &sim,
            t2["access_token"].as_str().unwrap(),
            "/1/user/-/profile.json"
        )
        .await
        .status(),
        200
    );
    let (s, body) = token(
        &sim,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt1)],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(body["errors"][0]["errorType"], "invalid_grant");
    assert_eq!(body["success"], false);
}

#[tokio::test]
async fn replay_window_closes_with_time() {
    let sim = start().await;
    let t1 = login(&sim).await;
    let rt1 = t1["refresh_token"].as_str().unwrap().to_string();
    token(
        &sim,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt1)],
    )
    .await;
    sim.advance(Duration::seconds(121));
    let (s, _) = token(
        &sim,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt1)],
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn access_token_expires_by_the_simulated_clock() {
    let sim = start().await;
    let t = login(&sim).await;
    let at = t["access_token"].as_str().unwrap();
    sim.advance(Duration::seconds(28_799));
    assert_eq!(get(&sim, at, "/1/user/-/profile.json").await.status(), 200);
    sim.advance(Duration::seconds(1));
    let r = get(&sim, at, "/1/user/-/profile.json").await;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["errorType"], "expired_token");
    let r = http()
        .get(format!("{}/1/user/-/profile.json", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "no Authorization header");
}

#[tokio::test]
async fn revoke_kills_every_token_of_the_user() {
    let sim = start().await;
    let t = login(&sim).await;
    let r = http()
        .post(format!("{}/oauth2/revoke", sim.base_url()))
        .basic_auth(sim.client_id(), Some(sim.client_secret()))
        .form(&[("token", t["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        get(
            &sim,
            t["access_token"].as_str().unwrap(),
            "/1/user/-/profile.json"
        )
        .await
        .status(),
        401
    );
}

#[tokio::test]
async fn the_151st_request_in_an_hour_is_429_and_the_window_resets_on_the_hour() {
    let sim = start().await; // clock starts at 12:00:00 sharp
    sim.advance(Duration::minutes(20));
    let t = login(&sim).await;
    let at = t["access_token"].as_str().unwrap();
    for i in 0..150u32 {
        let r = get(&sim, at, "/1/user/-/devices.json").await;
        assert_eq!(r.status(), 200, "request {}", i + 1);
        let h = |k: &str| r.headers()[k].to_str().unwrap().to_string();
        assert_eq!(h("fitbit-rate-limit-limit"), "150");
        assert_eq!(h("fitbit-rate-limit-remaining"), (149 - i).to_string());
        assert_eq!(h("fitbit-rate-limit-reset"), "2400");
    }
    let r = get(&sim, at, "/1/user/-/devices.json").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_none());
    assert_eq!(r.headers()["fitbit-rate-limit-remaining"], "0");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["message"], "Too Many Requests");
    sim.advance(Duration::seconds(2399));
    assert_eq!(get(&sim, at, "/1/user/-/devices.json").await.status(), 429);
    sim.advance(Duration::seconds(1));
    let r = get(&sim, at, "/1/user/-/devices.json").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["fitbit-rate-limit-remaining"], "149");
    assert_eq!(r.headers()["fitbit-rate-limit-reset"], "3600");
    let st = sim.stats();
    let me = &st.users[&sim.people()[0].id];
    assert_eq!((me.requests, me.rate_limited), (153, 2));
}

#[tokio::test]
async fn ranges_over_the_documented_maximum_are_400() {
    let sim = start().await;
    let t = login(&sim).await;
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(
        get(
            &sim,
            at,
            "/1/user/-/activities/steps/date/2020-01-01/2022-12-30.json"
        )
        .await
        .status(),
        200
    );
    let r = get(
        &sim,
        at,
        "/1/user/-/activities/steps/date/2020-01-01/2022-12-31.json",
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        get(
            &sim,
            at,
            "/1.2/user/-/sleep/date/2020-01-01/2020-04-10.json"
        )
        .await
        .status(),
        400
    );
    assert_eq!(
        get(
            &sim,
            at,
            "/1.2/user/-/sleep/date/2020-01-01/2020-04-09.json"
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        get(
            &sim,
            at,
            "/1/user/-/activities/heart/date/2020-01-01/1d/1min.json"
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        get(
            &sim,
            at,
            "/1/user/-/activities/heart/date/2020-01-01/2020-01-02/1min.json"
        )
        .await
        .status(),
        400
    );
    let r = get(&sim, at, "/1/user/-/nonsense.json").await;
    assert_eq!(r.status(), 404);
    let other = &sim.people()[1].id;
    assert_eq!(
        get(&sim, at, &format!("/1/user/{other}/profile.json"))
            .await
            .status(),
        403
    );
    let me = &sim.people()[0].id;
    assert_eq!(
        get(&sim, at, &format!("/1/user/{me}/profile.json"))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn faults_are_served_in_order() {
    let sim = start().await;
    let t = login(&sim).await;
    let at = t["access_token"].as_str().unwrap();
    sim.inject([
        Fault {
            kind: FaultKind::Status(503),
            count: 2,
            path_contains: None,
        },
        Fault {
            kind: FaultKind::Truncate,
            count: 1,
            path_contains: None,
        },
        Fault {
            kind: FaultKind::Malformed,
            count: 1,
            path_contains: None,
        },
        Fault {
            kind: FaultKind::Drop,
            count: 1,
            path_contains: None,
        },
    ]);
    assert_eq!(get(&sim, at, "/1/user/-/profile.json").await.status(), 503);
    assert_eq!(get(&sim, at, "/1/user/-/profile.json").await.status(), 503);
    let body = get(&sim, at, "/1/user/-/profile.json")
        .await
        .text()
        .await
        .unwrap();
    assert!(serde_json::from_str::<Value>(&body).is_err(), "truncated");
    let body = get(&sim, at, "/1/user/-/profile.json")
        .await
        .text()
        .await
        .unwrap();
    assert!(body.starts_with("<html>"));
    let dropped = http()
        .get(format!("{}/1/user/-/profile.json", sim.base_url()))
        .bearer_auth(at)
        .send()
        .await;
    let failed = match dropped {
        Err(_) => true,
        Ok(r) => r.text().await.is_err(),
    };
    assert!(failed, "the dropped connection is an error");
    assert_eq!(get(&sim, at, "/1/user/-/profile.json").await.status(), 200);
}

#[tokio::test]
async fn gone_mode_answers_410() {
    let sim = Sim::start(Config {
        gone: true,
        ..Config::default()
    })
    .await
    .unwrap();
    let r = http()
        .get(format!("{}/1/user/-/profile.json", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
}

#[tokio::test]
async fn daily_totals_equal_the_sum_of_intraday_and_sleep_summaries_their_segments() {
    let sim = start().await;
    let t = login(&sim).await;
    let at = t["access_token"].as_str().unwrap();
    let day: Value = get(
        &sim,
        at,
        "/1/user/-/activities/steps/date/2026-10-01/1d/1min.json",
    )
    .await
    .json()
    .await
    .unwrap();
    let total: i64 = day["activities-steps"][0]["value"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let sum: i64 = day["activities-steps-intraday"]["dataset"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_i64().unwrap())
        .sum();
    assert_eq!(total, sum);
    assert!(total > 0);
    let sleep: Value = get(
        &sim,
        at,
        "/1.2/user/-/sleep/date/2026-09-01/2026-09-30.json",
    )
    .await
    .json()
    .await
    .unwrap();
    let logs = sleep["sleep"].as_array().unwrap();
    assert!(logs.len() >= 25);
    for l in logs {
        let data = l["levels"]["data"].as_array().unwrap();
        let secs: i64 = data.iter().map(|d| d["seconds"].as_i64().unwrap()).sum();
        assert_eq!(secs * 1000, l["duration"].as_i64().unwrap());
        for (level, s) in l["levels"]["summary"].as_object().unwrap() {
            let m: i64 = data
                .iter()
                .filter(|d| d["level"] == level.as_str())
                .map(|d| d["seconds"].as_i64().unwrap())
                .sum::<i64>()
                / 60;
            assert_eq!(s["minutes"].as_i64().unwrap(), m);
        }
    }
}

/// Key structure of a JSON value: every object key with the type of its value.
fn same_shape(sample: &Value, sim: &Value, path: &str, errs: &mut Vec<String>) {
    use Value::*;
    match (sample, sim) {
        (Object(a), Object(b)) => {
            for (k, v) in a {
                // The 2017-era fixtures spell `dateTime` in lower case; live responses do not.
                let kk = if k == "datetime" {
                    "dateTime"
                } else {
                    k.as_str()
                };
                match b.get(kk) {
                    Some(w) => same_shape(v, w, &format!("{path}.{kk}"), errs),
                    None => errs.push(format!("{path}.{kk} missing")),
                }
            }
        }
        (Array(a), Array(b)) => {
            if let (Some(x), Some(y)) = (a.first(), b.first()) {
                same_shape(x, y, &format!("{path}[0]"), errs);
            }
        }
        (Number(_), Number(_)) | (String(_), String(_)) | (Bool(_), Bool(_)) | (Null, Null) => {}
        (a, b) => errs.push(format!("{path}: sample {a} vs simulator {b}")),
    }
}

#[tokio::test]
async fn simulator_answers_have_the_keys_and_types_of_the_real_samples() {
    let dir = manifest_dir().join("../../../shared/reference/samples/fitbit-web-api");
    if !dir.is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} is absent, and CI=true: the reference samples must be there",
            dir.display()
        );
        eprintln!(
            "notice: {} is absent; conformance test skipped",
            dir.display()
        );
        return;
    }
    let sim = start().await;
    let t = login(&sim).await;
    let at = t["access_token"].as_str().unwrap();
    let cases = [
        (
            "activities-steps-range.json",
            "/1/user/-/activities/steps/date/2026-09-01/2026-09-07.json",
        ),
        (
            "activities-calories-range.json",
            "/1/user/-/activities/calories/date/2026-09-01/2026-09-07.json",
        ),
        (
            "activities-distance-range.json",
            "/1/user/-/activities/distance/date/2026-09-01/2026-09-07.json",
        ),
        (
            "activities-steps-intraday-1min.json",
            "/1/user/-/activities/steps/date/2026-09-01/1d/1min.json",
        ),
        (
            "activities-calories-intraday-1min.json",
            "/1/user/-/activities/calories/date/2026-09-01/1d/1min.json",
        ),
        (
            "heart-range.json",
            "/1/user/-/activities/heart/date/2026-09-01/2026-09-07.json",
        ),
        (
            "heart-timeseries-1d-docs.json",
            "/1/user/-/activities/heart/date/2026-09-01/1d.json",
        ),
        (
            "heart-intraday-1min.json",
            "/1/user/-/activities/heart/date/2026-09-01/1d/1min.json",
        ),
        (
            "heart-intraday-1sec.json",
            "/1/user/-/activities/heart/date/2026-09-01/1d/1sec.json",
        ),
        (
            "sleep-v1.2-date.json",
            "/1.2/user/-/sleep/date/2026-09-02.json",
        ),
        (
            "sleep-v1.2-range.json",
            "/1.2/user/-/sleep/date/2026-09-01/2026-09-07.json",
        ),
        ("profile.json", "/1/user/-/profile.json"),
        ("devices.json", "/1/user/-/devices.json"),
    ];
    let mut errs = Vec::new();
    for (file, path) in cases {
        let sample: Value =
            serde_json::from_slice(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        let r = get(&sim, at, path).await;
        assert_eq!(r.status(), 200, "{path}");
        let got: Value = r.json().await.unwrap();
        same_shape(&sample, &got, file, &mut errs);
    }
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

#[tokio::test]
async fn sleep_list_pages_with_next_links_and_checks_sort() {
    let sim = start().await;
    let t = login(&sim).await;
    let at = t["access_token"].as_str().unwrap();
    let mut url =
        "/1.2/user/-/sleep/list.json?afterDate=2026-09-01&sort=asc&limit=5&offset=0".to_string();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let page: Value = get(&sim, at, &url).await.json().await.unwrap();
        let logs = page["sleep"].as_array().unwrap();
        assert_eq!(logs.len(), 5);
        ids.extend(logs.iter().map(|l| l["logId"].as_u64().unwrap()));
        let next = page["pagination"]["next"].as_str().unwrap();
        assert!(next.starts_with(&sim.base_url()), "{next}");
        url = next.trim_start_matches(&sim.base_url()).to_string();
    }
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, ids, "ascending, no repeats across pages");
    assert_eq!(
        get(
            &sim,
            at,
            "/1.2/user/-/sleep/list.json?afterDate=2026-09-01&sort=desc&limit=5&offset=0"
        )
        .await
        .status(),
        400
    );
    assert_eq!(
        get(
            &sim,
            at,
            "/1.2/user/-/sleep/list.json?beforeDate=2026-09-01&sort=desc&limit=101&offset=0"
        )
        .await
        .status(),
        400
    );
}

#[tokio::test]
async fn intraday_time_windows_keep_only_the_minutes_asked_for() {
    let sim = start().await;
    let tok = login(&sim).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let day = (sim.now().date_naive() - chrono::Duration::days(3)).to_string();
    let steps: Value = get(
        &sim,
        &tok,
        &format!("/1/user/-/activities/steps/date/{day}/1d/1min/time/12:00/12:09.json"),
    )
    .await
    .json()
    .await
    .unwrap();
    let times: Vec<&str> = steps["activities-steps-intraday"]["dataset"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["time"].as_str().unwrap())
        .collect();
    assert_eq!(times.len(), 10, "{times:?}");
    assert_eq!((times[0], times[9]), ("12:00:00", "12:09:00"));
    let heart: Value = get(
        &sim,
        &tok,
        &format!("/1/user/-/activities/heart/date/{day}/1d/1sec/time/08:00/08:01.json"),
    )
    .await
    .json()
    .await
    .unwrap();
    let data = heart["activities-heart-intraday"]["dataset"]
        .as_array()
        .unwrap();
    assert!(!data.is_empty());
    assert!(data
        .iter()
        .all(|p| ("08:00:00"..="08:01:59").contains(&p["time"].as_str().unwrap())));
    let bad = get(
        &sim,
        &tok,
        &format!("/1/user/-/activities/steps/date/{day}/1d/1min/time/12:00/11:00.json"),
    )
    .await;
    assert_eq!(bad.status(), 400);
}
