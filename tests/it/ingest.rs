//! `fitpipe auth` and `fitpipe ingest` against the simulator.

use chrono::{Duration, NaiveDate};
use fitpipe_sim::{Config, Fault, FaultKind};

use super::simenv::{table_keys, wait_exit, SimEnv};
use super::{s, tree};

/// The fewest requests for the default resources over `days` days (the reference's
/// maximum ranges: 1095 days for activity series, a year for heart, 100 days for sleep).
fn minimum(days: i64) -> u64 {
    let c = |n: i64| ((days + n - 1) / n) as u64;
    // Eight 1095-day series, one of 365 days, sleep by 100 days, the profile, the device
    // list and the first page of the exercise log list.
    8 * c(1095) + c(365) + c(100) + 1 + 1 + 1
}

/// Pages of the activity log list from `from` to today beyond the first (100 logs a
/// page): from the simulator's person 0's workouts, not from the client.
fn more_exercise_pages(env: &SimEnv, from: NaiveDate) -> u64 {
    let p = &env.sim.people()[0];
    let synced = p.last_sync_local(env.sim.now());
    let logs: usize = from
        .max(p.member_since)
        .iter_days()
        .take_while(|d| *d <= today(env))
        .map(|d| p.workouts(d, synced).len())
        .sum();
    (logs.div_ceil(100).max(1) - 1) as u64
}

fn today(env: &SimEnv) -> NaiveDate {
    // Person 0 lives in New York.
    env.sim
        .now()
        .with_timezone(&chrono_tz::America::New_York)
        .date_naive()
}

#[test]
fn full_oauth_flow_saves_private_tokens_and_config() {
    let env = SimEnv::auto();
    env.authorise();
    let dir = env.config().join("tokens");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(files.len(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let status = env.run(&["auth", "status"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status.stdout.contains(&env.sim.people()[0].id) && status.stdout.contains("valid until"),
        "{}",
        status.stdout
    );
    let token_text = std::fs::read_to_string(&files[0]).unwrap();
    let access = serde_json::from_str::<serde_json::Value>(&token_text).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !status.stdout.contains(&access),
        "status never shows tokens"
    );
    let p = env.run(&["api", "GET", "/1/user/-/profile.json"]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    assert!(p.stdout.contains("\"encodedId\""), "{}", p.stdout);
}

#[test]
fn wrong_state_is_rejected_and_auth_exits() {
    let env = SimEnv::auto();
    let (mut child, _url, _err) = env.start_auth(&["--timeout", "20"]);
    let r = env
        .rt
        .block_on(reqwest::get(format!(
            "http://127.0.0.1:{}/?code=abc&state=forged",
            env.port
        )))
        .unwrap();
    assert_eq!(r.status(), 400);
    let status = wait_exit(&mut child, 10).expect("auth exits after a wrong state");
    assert_eq!(status.code(), Some(1));
    assert!(
        !env.config().join("tokens").exists()
            || std::fs::read_dir(env.config().join("tokens"))
                .unwrap()
                .count()
                == 0
    );
}

#[test]
fn denial_is_reported() {
    let env = SimEnv::new(Config::default());
    let (child, url, _err) = env.start_auth(&["--timeout", "20"]);
    let q: Vec<(String, String)> = reqwest::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let get = |k: &str| {
        q.iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    env.rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{}/oauth2/authorize", env.sim.base_url()))
            .form(&[
                ("client_id", get("client_id")),
                ("redirect_uri", get("redirect_uri")),
                ("scope", get("scope")),
                ("state", get("state")),
                ("user", env.sim.people()[0].id.clone()),
                ("decision", "deny".into()),
            ])
            .send()
            .await
            .unwrap();
    });
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn auth_times_out_and_says_so() {
    let env = SimEnv::auto();
    let (mut child, _url, mut err) = env.start_auth(&["--timeout", "1"]);
    let status = wait_exit(&mut child, 10).expect("auth exits after its timeout");
    assert_eq!(status.code(), Some(1));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert!(
        rest.contains("no answer from the browser within 1 s"),
        "{rest}"
    );
}

// Regression: an idle TCP connection to the loopback callback (a browser's preconnect
// does this) stalled `fitpipe auth` past its own `--timeout` until killed, tokens never
// saved. Now the redirect is served beside held connections, and the timeout holds.
#[test]
fn an_idle_connection_to_the_callback_neither_stalls_auth_nor_its_timeout() {
    let env = SimEnv::auto();
    let (child, url, _err) = env.start_auth(&["--timeout", "20"]);
    // Three connections that never send a byte, held for the whole test.
    let idle: Vec<_> = (0..3)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", env.port)).unwrap())
        .collect();
    env.rt.block_on(async {
        let _ = reqwest::get(&url).await.unwrap();
    });
    let mut child = child;
    let status = wait_exit(&mut child, 15).expect("auth finishes beside idle connections");
    assert_eq!(status.code(), Some(0));
    drop(idle);
    let r = env.run(&["auth", "status", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("fitbit-web-api"), "{}", r.stdout);
    // Only idle connections: the timeout still ends it.
    let (mut child, _url, _err) = env.start_auth(&["--timeout", "1"]);
    let _held = std::net::TcpStream::connect(("127.0.0.1", env.port)).unwrap();
    let status = wait_exit(&mut child, 10).expect("auth exits after its timeout");
    assert_eq!(status.code(), Some(1));
}

#[test]
fn backfill_from_2015_uses_exactly_the_planned_minimum_and_meets_no_429() {
    let env = SimEnv::auto();
    env.authorise();
    let before = env.requests();
    let dry = env.run(&["ingest", "--from", "2015-01-01", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let days = (today(&env) - NaiveDate::from_ymd_opt(2015, 1, 1).unwrap()).num_days() + 1;
    let want = minimum(days);
    assert!(
        dry.stdout
            .lines()
            .last()
            .unwrap()
            .ends_with(&format!(" {want}")),
        "{}",
        dry.stdout
    );
    assert_eq!(env.requests(), before, "a dry run sends nothing");
    let r = env.run(&["ingest", "--from", "2015-01-01"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The plan counts the first page of the exercise list; the others follow its links.
    let from = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
    assert!(more_exercise_pages(&env, from) > 10);
    assert_eq!(
        env.requests() - before,
        want + more_exercise_pages(&env, from)
    );
    assert_eq!(env.rate_limited(), 0);
    // Days before the account existed are the API's zeros, not rows.
    let member = env.sim.people()[0].member_since;
    let (rows, dups) = table_keys(&env.out(), "daily_activity", &["user_id", "date"]);
    assert_eq!(
        (rows as i64, dups),
        ((today(&env) - member).num_days() + 1, 0)
    );
    assert!(days > rows as i64);
}

#[test]
fn a_small_budget_is_paced_without_a_single_429() {
    let env = SimEnv::new(Config {
        auto_consent: true,
        rate_limit: 20,
        ..Config::default()
    });
    env.authorise();
    let r = env.run(&["ingest", "--from", "2020-01-01", "--verbose"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.rate_limited(), 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("waiting"),
        "it waited for the reset: {}",
        r.stderr
    );
}

#[test]
fn no_wait_stops_cleanly_and_the_next_run_resumes_without_duplicates() {
    // Fifteen requests an hour (two kept in reserve): one incremental run of the default
    // resources (the profile, the device list, ten series, sleep and the exercise list),
    // far too few for the backfill.
    let env = SimEnv::new(Config {
        auto_consent: true,
        rate_limit: 17,
        ..Config::default()
    });
    env.authorise();
    let r = env.run(&["ingest", "--from", "2018-01-01", "--no-wait"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("budget is spent"), "{}", r.stderr);
    let first = env.requests();
    // Each hourly run continues where the last stopped.
    let mut runs = 1;
    loop {
        env.sim.advance(Duration::hours(1));
        let r = env.run(&["ingest", "--from", "2018-01-01", "--no-wait"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        runs += 1;
        if !r.stderr.contains("budget is spent") {
            break;
        }
        assert!(runs < 20, "never finished: {}", r.stderr);
    }
    let days = (today(&env) - NaiveDate::from_ymd_opt(2018, 1, 1).unwrap()).num_days() + 1;
    assert!(
        env.requests() - first
            < minimum(days)
                + more_exercise_pages(&env, NaiveDate::from_ymd_opt(2018, 1, 1).unwrap())
                + 15 * runs,
        "resumed instead of starting over"
    );
    assert_eq!(env.rate_limited(), 0);
    for (t, k) in [
        ("daily_activity", &["user_id", "date"][..]),
        ("sleep_sessions", &["user_id", "log_id"]),
        ("heart_rate_zones", &["user_id", "date", "zone"]),
    ] {
        let (rows, dups) = table_keys(&env.out(), t, k);
        assert!(rows > 0 && dups == 0, "{t}: {rows} rows, {dups} duplicates");
    }
}

#[test]
fn token_expiry_mid_run_is_invisible() {
    let env = SimEnv::auto();
    env.authorise();
    env.sim.advance(Duration::hours(9));
    let r = env.run(&[
        "ingest",
        "--from",
        "2026-01-01",
        "--resources",
        "steps,sleep",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        env.sim.stats().token_requests.get("refresh_token"),
        Some(&1)
    );
    // The refreshed pair was saved: a later run works without another refresh.
    let r = env.run(&["ingest", "--resources", "steps"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        env.sim.stats().token_requests.get("refresh_token"),
        Some(&1)
    );
}

#[test]
fn two_concurrent_runs_after_expiry_both_succeed_and_the_store_still_works() {
    let env = SimEnv::auto();
    env.authorise();
    env.sim.advance(Duration::hours(9));
    let a_out = env.dir.path().join("a");
    let b_out = env.dir.path().join("b");
    let mut a = env
        .cmd(&["ingest", "--from", "2026-06-01", "--out", s(&a_out)])
        .spawn()
        .unwrap();
    let mut b = env
        .cmd(&["ingest", "--from", "2026-06-01", "--out", s(&b_out)])
        .spawn()
        .unwrap();
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    let r = env.run(&["api", "GET", "/1/user/-/devices.json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Two runs on one folder: the second is turned away, nothing is corrupted.
    let c = env
        .cmd(&["ingest", "--from", "2024-01-01", "--out", s(&a_out)])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let d = env.run(&["ingest", "--from", "2024-01-01", "--out", s(&a_out)]);
    let c: super::Run = c.wait_with_output().unwrap().into();
    let turned_away = |r: &super::Run| r.code == 1 && r.stderr.contains("another fitpipe run");
    assert!(c.code == 0 || turned_away(&c), "{}", c.stderr);
    assert!(d.code == 0 || turned_away(&d), "{}", d.stderr);
    assert!(c.code == 0 || d.code == 0, "one of them ran");
    let (_, dups) = table_keys(&a_out, "daily_activity", &["user_id", "date"]);
    assert_eq!(dups, 0);
}

#[test]
fn injected_faults_end_in_success_with_retries() {
    let env = SimEnv::auto();
    env.authorise();
    env.sim.inject([
        Fault {
            kind: FaultKind::Status(503),
            count: 2,
            path_contains: Some("steps".into()),
        },
        Fault {
            kind: FaultKind::Truncate,
            count: 1,
            path_contains: Some("calories".into()),
        },
        Fault {
            kind: FaultKind::Malformed,
            count: 1,
            path_contains: Some("heart".into()),
        },
        Fault {
            kind: FaultKind::Drop,
            count: 1,
            path_contains: Some("sleep".into()),
        },
        Fault {
            kind: FaultKind::Slow(4000),
            count: 1,
            path_contains: Some("distance".into()),
        },
        Fault {
            kind: FaultKind::RateLimited,
            count: 2,
            path_contains: Some("floors".into()),
        },
    ]);
    let r = env.run(&["ingest", "--from", "2026-01-01"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let days = (today(&env) - NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).num_days() + 1;
    let from = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    assert_eq!(
        env.requests(),
        minimum(days) + more_exercise_pages(&env, from) + 2 + 1 + 1 + 1 + 1 + 2 + 1,
        "one retry per fault, plus the profile fetched by auth"
    );
    let (rows, dups) = table_keys(
        &env.out(),
        "sleep_stages",
        &["user_id", "log_id", "start_utc", "is_short"],
    );
    assert!(rows > 0 && dups == 0);
}

#[test]
fn persistent_server_errors_keep_what_was_fetched_and_a_resumed_run_completes() {
    let env = SimEnv::auto();
    env.authorise();
    env.sim.inject([Fault {
        kind: FaultKind::Status(500),
        count: 6,
        path_contains: Some("/sleep/".into()),
    }]);
    let r = env.run(&["ingest", "--from", "2025-01-01"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("HTTP 500") && r.stderr.contains("hint:"),
        "{}",
        r.stderr
    );
    let (rows, _) = table_keys(&env.out(), "daily_activity", &["user_id", "date"]);
    assert!(rows > 300, "steps and the rest were kept: {rows}");
    let before = env.requests();
    let r = env.run(&["ingest", "--from", "2025-01-01"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let days = (today(&env) - NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()).num_days() + 1;
    assert!(
        env.requests() - before < minimum(days),
        "the resumed run skipped what was done"
    );
    for (t, k) in [
        ("sleep_sessions", &["user_id", "log_id"][..]),
        ("daily_activity", &["user_id", "date"]),
    ] {
        let (rows, dups) = table_keys(&env.out(), t, k);
        assert!(rows > 0 && dups == 0, "{t}");
    }
}

#[test]
fn incremental_run_next_day_fetches_only_new_days_plus_overlap() {
    let env = SimEnv::auto();
    env.authorise();
    let r = env.run(&["ingest", "--from", "2024-01-01", "--intraday", "heart"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    env.sim.advance(Duration::days(1));
    let before = env.requests();
    let r = env.run(&["ingest", "--intraday", "heart", "--dry-run"]);
    assert!(r.stdout.contains("intraday-heart-1min"), "{}", r.stdout);
    let r = env.run(&["ingest", "--intraday", "heart"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // One request per daily resource (11), the exercise list, the device list, and one
    // per intraday day: the new day plus the 3-day overlap.
    assert_eq!(env.requests() - before, 11 + 1 + 1 + 4);
    let (_, dups) = table_keys(&env.out(), "heart_rate_intraday", &["user_id", "time_utc"]);
    assert_eq!(dups, 0);
    // `--overlap 0`: the new day, and yesterday: the last run fetched it before it had
    // ended (the tracker synced after that), so it is fetched again, complete now.
    env.sim.advance(Duration::days(1));
    let before = env.requests();
    let r = env.run(&["ingest", "--intraday", "heart", "--overlap", "0"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.requests() - before, 11 + 1 + 1 + 2);
}

#[test]
fn revoked_authorisation_says_to_run_auth_again_and_keeps_the_tables() {
    let env = SimEnv::auto();
    env.authorise();
    let r = env.run(&["ingest", "--from", "2026-01-01", "--resources", "steps"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = tree(&env.out().join("daily_activity"));
    env.sim.revoke_user(&env.sim.people()[0].id);
    env.sim.advance(Duration::hours(9));
    let r = env.run(&["ingest", "--resources", "steps"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("invalid_grant") && r.stderr.contains("fitpipe auth"),
        "{}",
        r.stderr
    );
    assert_eq!(tree(&env.out().join("daily_activity")), before);
}

#[test]
fn gone_api_points_to_google_health_and_takeout() {
    let env = SimEnv::auto();
    env.authorise();
    env.sim.inject([]);
    let gone = SimEnv::new(Config {
        gone: true,
        ..Config::default()
    });
    let mut c = env.cmd(&["ingest", "--from", "2026-01-01"]);
    c.env("FITPIPE_API_BASE", gone.sim.base_url())
        .env("FITPIPE_SIM_CONTROL", gone.sim.base_url());
    let r: super::Run = c.output().unwrap().into();
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("410")
            && r.stderr.contains("google-health")
            && r.stderr.contains("takeout"),
        "{}",
        r.stderr
    );
}

#[test]
fn rebuild_remakes_tables_from_raw_without_a_request() {
    let env = SimEnv::auto();
    env.authorise();
    let r = env.run(&["ingest", "--from", "2025-06-01", "--intraday", "steps"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let csv =
        |t: &str| std::fs::read_to_string(env.out().join("csv").join(t).join("2025.csv")).unwrap();
    let (daily, sleep) = (csv("daily_activity"), csv("sleep_sessions"));
    for t in [
        "daily_activity",
        "sleep_sessions",
        "activity_intraday",
        "csv",
    ] {
        std::fs::remove_dir_all(env.out().join(t)).unwrap();
    }
    let before = env.requests();
    let r = env.run(&["rebuild"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.requests(), before);
    assert_eq!(csv("daily_activity"), daily);
    assert_eq!(csv("sleep_sessions"), sleep);
}

// Regression: one damaged raw answer made every later `rebuild` fail (with a hint to
// pass `--timezone`, which did not help) until someone deleted it by hand. Now it is
// moved to `raw-quarantine/` with a note, the rest is rebuilt (exit 1, saying what to
// refetch), and the next rebuild succeeds.
#[test]
fn a_damaged_raw_answer_is_quarantined_and_the_rest_rebuilt() {
    let env = SimEnv::auto();
    env.authorise();
    let r = env.run(&["ingest", "--from", "2025-06-01", "--intraday", "steps"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let csv =
        |t: &str| std::fs::read_to_string(env.out().join("csv").join(t).join("2025.csv")).unwrap();
    let sleep = csv("sleep_sessions");
    // Damage one intraday answer: a zstd frame cut in half.
    let raw = super::tree(&env.out().join("raw"));
    let (victim, bytes) = raw
        .iter()
        .find(|(p, _)| {
            p.to_string_lossy().contains("activities-steps-intraday")
                || p.to_string_lossy().contains("intraday")
        })
        .map(|(p, b)| (env.out().join("raw").join(p), b.clone()))
        .expect("an intraday answer");
    std::fs::write(&victim, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::remove_dir_all(env.out().join("sleep_sessions")).unwrap();
    std::fs::remove_dir_all(env.out().join("csv")).unwrap();
    let r = env.run(&["rebuild"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("raw-quarantine"), "{}", r.stderr);
    assert!(r.stderr.contains("--refetch"), "{}", r.stderr);
    assert!(!r.stderr.contains("--timezone"), "{}", r.stderr);
    assert!(!victim.exists());
    let moved = env
        .out()
        .join("raw-quarantine")
        .join(victim.strip_prefix(env.out().join("raw")).unwrap());
    assert!(moved.exists(), "{}", moved.display());
    // Everything else is rebuilt, and the next rebuild goes through.
    assert_eq!(csv("sleep_sessions"), sleep);
    let r = env.run(&["rebuild"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn pipeline_runs_incrementally_and_a_held_lock_exits_quietly() {
    let env = SimEnv::auto();
    env.authorise();
    let p = env.dir.path().join("daily.toml");
    std::fs::write(
        &p,
        format!(
            "out = \"{}\"\nfirst_from = \"2026-01-01\"\nresources = [\"steps\", \"sleep\"]\n",
            env.out().display()
        ),
    )
    .unwrap();
    let r = env.run(&["run", s(&p), "--quiet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "", "quiet");
    env.sim.advance(Duration::days(1));
    let before = env.requests();
    let r = env.run(&["run", s(&p)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.requests() - before, 2);
    let lock = std::fs::File::options()
        .write(true)
        .open(env.out().join(".fitpipe.lock"))
        .unwrap();
    lock.lock().unwrap();
    let r = env.run(&["run", s(&p)]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("another fitpipe run"), "{}", r.stderr);
}

#[test]
fn first_run_without_from_asks_for_it() {
    let env = SimEnv::auto();
    env.authorise();
    let r = env.run(&["ingest"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--from"), "{}", r.stderr);
    let r = env.run(&["ingest", "--from", "2026-01-01", "--resources", "stepz"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("unknown resource `stepz`"),
        "{}",
        r.stderr
    );
}

#[test]
fn tutorial_users_carry_on_without_reauthorising() {
    let env = SimEnv::auto();
    env.authorise();
    // Make a tutorial-style pair of files from the stored authorisation.
    let tok_dir = env.config().join("tokens");
    let f = std::fs::read_dir(&tok_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let t: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
    std::fs::remove_dir_all(env.config()).unwrap();
    let tut = env.dir.path().join("tutorial");
    std::fs::create_dir_all(&tut).unwrap();
    std::fs::write(tut.join("client_details.json"), serde_json::json!({"client_id": env.sim.client_id(), "client_secret": env.sim.client_secret()}).to_string()).unwrap();
    std::fs::write(tut.join("user_details.json"), serde_json::json!({
        "access_token": t["access_token"], "refresh_token": t["refresh_token"], "expires_in": 28800,
        "expires_at": 1.0, "scope": ["activity", "sleep"], "token_type": "Bearer", "user_id": t["user_id"]
    }).to_string()).unwrap();
    let mut c = env.cmd(&["auth", "--import-tutorial", s(&tut)]);
    c.env_remove("FITPIPE_CLIENT_SECRET")
        .env_remove("FITPIPE_CLIENT_ID");
    let r: super::Run = c.output().unwrap().into();
    assert_eq!(r.code, 0, "{}", r.stderr);
    // expires_at in the past: the first request refreshes, with the imported secret.
    let mut c = env.cmd(&["ingest", "--from", "2026-01-01", "--resources", "steps"]);
    c.env_remove("FITPIPE_CLIENT_SECRET")
        .env_remove("FITPIPE_CLIENT_ID");
    let r: super::Run = c.output().unwrap().into();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        env.sim.stats().token_requests.get("refresh_token"),
        Some(&1)
    );
}

#[test]
fn shipped_pipelines_parse_and_plan() {
    let env = SimEnv::auto();
    env.authorise();
    for name in ["daily.toml", "intraday.toml"] {
        let text = std::fs::read_to_string(super::repo().join("pipelines").join(name)).unwrap();
        let text = text
            .replace(
                "out = \"./data\"",
                &format!("out = \"{}\"", env.out().join(name).display()),
            )
            .replace("2020-01-01", "2026-06-01")
            .replace("2024-01-01", "2026-06-01");
        let p = env.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let r = env.run(&["run", s(&p), "--quiet"]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
    }
    assert!(env.out().join("intraday.toml/heart_rate_intraday").is_dir());
}

#[test]
fn demo_works_from_a_clean_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let r = super::fitpipe(&["ingest", "--demo", "--from", "2026-01-01", "--out", s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("duckdb -c"), "{}", r.stderr);
    for t in [
        "daily_activity",
        "heart_rate_zones",
        "sleep_sessions",
        "sleep_stages",
        "profile",
    ] {
        assert!(out.join(t).is_dir(), "{t}");
    }
    let (rows, dups) = table_keys(
        &out,
        "sleep_stages",
        &["user_id", "log_id", "start_utc", "is_short"],
    );
    assert!(rows > 1000 && dups == 0);
}

#[test]
fn auth_revoke_ends_the_authorisation_at_the_provider() {
    let env = SimEnv::auto();
    env.authorise();
    let r = env.run(&["auth", "revoke"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&["auth", "status"]);
    assert_eq!(r.code, 1, "no user left: {}", r.stdout);
    let r = env.run(&["api", "GET", "/1/user/-/profile.json"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("fitpipe auth"), "{}", r.stderr);
}

#[test]
fn verbose_logs_every_request_without_tokens() {
    let env = SimEnv::auto();
    env.authorise();
    let before = env.requests();
    let r = env.run(&["ingest", "--from", "2026-10-01", "-v"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let logged = r.stderr.lines().filter(|l| l.contains(" -> 200 (")).count() as u64;
    assert_eq!(logged, env.requests() - before, "{}", r.stderr);
    assert!(!r.stderr.contains("Bearer"));
}

// Regression: one 503 from the profile request right after the code exchange made `auth`
// exit 1 and drop the new tokens.
#[test]
fn auth_survives_a_passing_server_error_after_the_code_exchange() {
    let env = SimEnv::auto();
    env.sim.inject([Fault {
        kind: FaultKind::Status(503),
        count: 1,
        path_contains: Some("profile".into()),
    }]);
    env.authorise();
    let st = env.run(&["auth", "status"]);
    assert!(st.stdout.contains(&env.sim.people()[0].id), "{}", st.stdout);
}

// Regression: `auth status` said "valid until ..." after the provider revoked the grant.
#[test]
fn auth_status_shows_a_grant_the_provider_refused() {
    let env = SimEnv::auto();
    env.authorise();
    env.sim.revoke_user(&env.sim.people()[0].id);
    let r = env.run(&["ingest", "--from", "2026-10-01", "-q"]);
    assert_eq!(r.code, 1);
    let st = env.run(&["auth", "status"]);
    assert!(
        st.stdout.contains("refused by the provider"),
        "{}",
        st.stdout
    );
    let status = env.run(&["status", "--data", s(&env.out())]);
    assert!(
        status.stdout.contains("refused by the provider"),
        "{}",
        status.stdout
    );
    let json = env.run(&["status", "--json", "--data", s(&env.out())]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["users"][0]["needs_reauth"], true, "{}", json.stdout);
    assert!(!st.stdout.contains("valid until"), "{}", st.stdout);
    // Columns line up: every row's third column starts where the header's does.
    let lines: Vec<&str> = st.stdout.lines().collect();
    let at = lines[0].find("access token").unwrap();
    assert!(
        lines[1..].iter().all(|l| l[at..].starts_with("refused")),
        "{}",
        st.stdout
    );
    // A new authorisation clears it.
    env.authorise();
    let st = env.run(&["auth", "status"]);
    assert!(st.stdout.contains("valid until"), "{}", st.stdout);
}

// Regression: a 410 from the token endpoint printed the raw JSON body with no hint.
#[test]
fn a_gone_token_endpoint_gets_the_gone_explanation() {
    let env = SimEnv::auto();
    env.authorise();
    let gone = SimEnv::new(Config {
        gone: true,
        ..Config::default()
    });
    // Nine hours on: the access token has expired, so the first call is a refresh.
    gone.sim.set_now(env.sim.now() + Duration::hours(9));
    let mut c = env.cmd(&["ingest", "--from", "2026-01-01"]);
    c.env("FITPIPE_API_BASE", gone.sim.base_url())
        .env("FITPIPE_SIM_CONTROL", gone.sim.base_url());
    let r: super::Run = c.output().unwrap().into();
    assert_eq!(r.code, 1);
    assert!(!r.stderr.contains("{\""), "raw JSON: {}", r.stderr);
    assert!(
        r.stderr.contains("hint:") && r.stderr.contains("google-health"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_second_writer_says_it_waits_for_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    std::fs::create_dir_all(&out).unwrap();
    let held = fitpipe_export::Dataset::new(&out, &[fitpipe_export::Format::Parquet]);
    let lock = held.lock(false).unwrap().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fitpipe"))
        .args([
            "import",
            "json",
            s(&super::fixtures()),
            "--timezone",
            "UTC",
            "--out",
            s(&out),
        ])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut err, &mut line).unwrap();
    assert!(line.contains("waiting for another fitpipe run"), "{line}");
    drop(lock);
    assert!(child.wait().unwrap().success());
}

#[test]
fn raw_answers_are_compressed_and_rebuild_reads_old_uncompressed_ones_alike() {
    let env = SimEnv::auto();
    env.authorise();
    let r = env.run(&[
        "ingest",
        "--from",
        "2026-10-20",
        "--intraday",
        "heart",
        "--format",
        "parquet,csv",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = env.out();
    let raw: Vec<_> = tree(&out.join("raw")).into_keys().collect();
    assert!(
        !raw.is_empty()
            && raw
                .iter()
                .all(|p| p.to_string_lossy().ends_with(".json.zst"))
    );
    // The same dataset with the raw answers stored as older versions did: plain JSON.
    let old = env.dir.path().join("old");
    let plain = old.join("raw");
    for rel in &raw {
        let to = plain.join(rel.to_string_lossy().trim_end_matches(".zst"));
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(
            &to,
            fitpipe_ingest::raw::read(&out.join("raw").join(rel)).unwrap(),
        )
        .unwrap();
    }
    let compressed: u64 = raw
        .iter()
        .map(|p| std::fs::metadata(out.join("raw").join(p)).unwrap().len())
        .sum();
    let uncompressed: u64 = tree(&plain).values().map(|b| b.len() as u64).sum();
    assert!(
        compressed * 5 < uncompressed,
        "{compressed} of {uncompressed}"
    );
    for dir in [&out, &old] {
        let r = env.run(&["rebuild", "--out", s(dir), "--format", "parquet,csv", "-q"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let tables = |d: &std::path::Path| tree(&d.join("csv"));
    assert!(!tables(&old).is_empty());
    assert_eq!(tables(&old), tables(&out));
}

// Regression: `rebuild` wrote its row buffer whenever it was full, also between the pages
// of one answer; the later pages' window replacement then dropped the earlier pages (a
// month of Google heart rate came back with a third of its rows). With a buffer smaller
// than a page, every page boundary is a chance to split.
#[test]
fn rebuild_never_splits_the_pages_of_one_answer() {
    let mut env = SimEnv::auto();
    env.google = true;
    env.authorise();
    let r = env.run(&[
        "ingest",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-02",
        "--resources",
        "profile",
        "--intraday",
        "heart",
        "--format",
        "parquet",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = env.out();
    let pages = tree(&out.join("raw"))
        .into_keys()
        .filter(|p| p.to_string_lossy().contains("_p"))
        .count();
    assert!(pages >= 4, "the days need several pages each ({pages})");
    let (rows, dups) = table_keys(&out, "heart_rate_intraday", &["user_id", "time_utc"]);
    assert!(rows > 60_000 && dups == 0, "{rows} {dups}");
    let r = env
        .cmd(&["rebuild", "--out", s(&out), "--format", "parquet", "-q"])
        .env("FITPIPE_IMPORT_CHUNK_BYTES", "100000")
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(
        table_keys(&out, "heart_rate_intraday", &["user_id", "time_utc"]),
        (rows, 0)
    );
}
