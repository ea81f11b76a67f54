//! The Google Health provider end to end against the simulator: the OAuth flow, a
//! multi-year backfill under the per-minute quota, incremental runs, errors users hit
//! (Testing-mode token expiry, unticked scopes, unlinked accounts, 429 and 5xx), and the
//! two providers agreeing on the same person and days.

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Date32Type, Float64Type, Int64Type};
use chrono::Duration;
use fitpipe_sim::{Config, Fault, FaultKind};

use super::simenv::{table_keys, SimEnv};

fn google(cfg: Config) -> SimEnv {
    let mut env = SimEnv::new(Config {
        auto_consent: true,
        ..cfg
    });
    env.google = true;
    env
}

/// The total of `ingest --dry-run`.
fn predicted(env: &SimEnv, args: &[&str]) -> u64 {
    let mut a = vec!["ingest", "--dry-run"];
    a.extend_from_slice(args);
    let r = env.run(&a);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
        .lines()
        .find_map(|l| l.strip_prefix("total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no total in {}", r.stdout))
}

#[test]
fn backfill_of_years_meets_no_429_and_uses_the_predicted_requests() {
    let env = google(Config::default());
    let said = env.authorise();
    assert!(said.contains("Testing status"), "{said}");
    let before = env.requests();
    let from = (env.sim.now().date_naive() - Duration::days(5 * 365)).to_string();
    let want = predicted(&env, &["--from", &from]);
    assert!(
        want > 300,
        "the backfill must outrun one minute's quota: {want}"
    );
    let r = env.run(&["ingest", "--from", &from, "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.requests() - before, want, "requests sent vs planned");
    assert_eq!(
        env.rate_limited(),
        0,
        "the client paced itself under 300/min"
    );
    for (t, k) in [
        ("daily_activity", &["user_id", "date"][..]),
        ("sleep_sessions", &["user_id", "log_id"]),
        (
            "sleep_stages",
            &["user_id", "log_id", "start_utc", "is_short"],
        ),
    ] {
        let (rows, dups) = table_keys(&env.out(), t, k);
        assert!(rows > 1000, "{t}: {rows}");
        assert_eq!(dups, 0, "{t}");
    }

    // A day later, cron fetches only what is new (the last days again, for late syncs).
    env.sim.advance(Duration::days(1));
    let before = env.requests();
    let want = predicted(&env, &[]);
    let r = env.run(&["ingest", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.requests() - before, want);
    // One a data type of the default set (exercise, weight and body fat included), the
    // profile's two and the device list.
    assert!(
        want <= 14,
        "an incremental run is a handful of requests: {want}"
    );
    let (rows, dups) = table_keys(&env.out(), "daily_activity", &["user_id", "date"]);
    assert_eq!(dups, 0);
    assert_eq!(rows as i64, 5 * 365 + 2, "every day once, today included");
}

/// `(user, date) -> (steps, calories, distance, floors, light, fair, very, resting)` of daily_activity.
type Daily = BTreeMap<(String, i32), [Option<f64>; 8]>;

pub(super) fn read(out: &Path, table: &str) -> Vec<arrow::record_batch::RecordBatch> {
    let mut v = Vec::new();
    let mut dirs = vec![out.join(table)];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                let r = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                    std::fs::File::open(&p).unwrap(),
                )
                .unwrap()
                .build()
                .unwrap();
                v.extend(r.map(|b| b.unwrap()));
            }
        }
    }
    v
}

pub(super) fn text(b: &arrow::record_batch::RecordBatch, c: &str, i: usize) -> String {
    let col = b.column_by_name(c).unwrap();
    col.as_string::<i32>().value(i).to_string()
}

pub(super) fn num(b: &arrow::record_batch::RecordBatch, c: &str, i: usize) -> Option<f64> {
    let col = b.column_by_name(c).unwrap();
    if col.is_null(i) {
        return None;
    }
    Some(match col.data_type() {
        arrow::datatypes::DataType::Int64 => col.as_primitive::<Int64Type>().value(i) as f64,
        _ => col.as_primitive::<Float64Type>().value(i),
    })
}

fn daily(out: &Path) -> Daily {
    let mut m = Daily::new();
    for b in read(out, "daily_activity") {
        for i in 0..b.num_rows() {
            let d = b
                .column_by_name("date")
                .unwrap()
                .as_primitive::<Date32Type>()
                .value(i);
            let cols = [
                "steps",
                "calories_kcal",
                "distance_km",
                "floors",
                "minutes_lightly_active",
                "minutes_fairly_active",
                "minutes_very_active",
                "resting_heart_rate_bpm",
            ];
            m.insert((text(&b, "user_id", i), d), cols.map(|c| num(&b, c, i)));
        }
    }
    m
}

#[test]
fn fitbit_and_google_providers_agree_on_the_same_person_and_days() {
    let mut env = SimEnv::auto();
    env.authorise();
    let from = (env.sim.now().date_naive() - Duration::days(60)).to_string();
    let r = env.run(&["ingest", "--from", &from, "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    env.google = true;
    env.authorise();
    let r = env.run(&["ingest", "--from", &from, "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // One dataset, two providers: the profile joins the Google id to the Fitbit id.
    let mut legacy = BTreeMap::new();
    for b in read(&env.out(), "profile") {
        for i in 0..b.num_rows() {
            legacy.insert(
                text(&b, "source", i),
                (text(&b, "user_id", i), text(&b, "legacy_user_id", i)),
            );
        }
    }
    let (fitbit_id, fitbit_legacy) = legacy["fitbit-web-api"].clone();
    let (google_id, google_legacy) = legacy["google-health"].clone();
    assert_eq!(fitbit_legacy, fitbit_id);
    assert_eq!(
        google_legacy, fitbit_id,
        "Google's legacyUserId is the Fitbit id"
    );
    assert_ne!(google_id, fitbit_id);

    let d = daily(&env.out());
    let today = env.sim.now().date_naive();
    let mut days = 0;
    for ((user, date), f) in d.iter().filter(|((u, _), _)| *u == fitbit_id) {
        let day = chrono::NaiveDate::from_num_days_from_ce_opt(*date + 719_163).unwrap();
        if day >= today {
            continue;
        }
        let g = d
            .get(&(google_id.clone(), *date))
            .unwrap_or_else(|| panic!("{user}: Google has no {day}"));
        if g[0].is_none() {
            // A day without data: Google leaves it out of the rollup, Fitbit says 0.
            assert_eq!(f[0], Some(0.0), "steps on {day}");
            assert!(!env.sim.people()[0].worn(day), "{day} was worn");
            continue;
        }
        assert_eq!(f[0], g[0], "steps on {day}");
        // Fitbit rounds calories to whole kcal; Google sends the sum.
        assert!(
            (f[1].unwrap() - g[1].unwrap()).abs() <= 0.5,
            "calories on {day}: {f:?} {g:?}"
        );
        assert!(
            (f[2].unwrap() - g[2].unwrap()).abs() < 1e-6,
            "distance on {day}"
        );
        assert_eq!(
            &f[3..8],
            &g[3..8],
            "floors, active minutes, resting rate on {day}"
        );
        days += 1;
    }
    assert!(days >= 50, "{days} days compared");

    // Sleep: the same sessions (by log id), minutes and stages.
    let mut sessions: BTreeMap<(String, String), Vec<Option<f64>>> = BTreeMap::new();
    for b in read(&env.out(), "sleep_sessions") {
        for i in 0..b.num_rows() {
            let cols = [
                "minutes_in_bed",
                "minutes_asleep",
                "minutes_awake",
                "minutes_deep",
                "minutes_light",
                "minutes_rem",
                "minutes_wake",
                "minutes_restless",
            ];
            sessions.insert(
                (text(&b, "source", i), text(&b, "log_id", i)),
                cols.iter().map(|c| num(&b, c, i)).collect(),
            );
        }
    }
    let mut n = 0;
    for ((src, id), f) in &sessions {
        if src != "fitbit-web-api" {
            continue;
        }
        let g = &sessions[&("google-health".to_string(), id.clone())];
        assert_eq!(f, g, "sleep {id}");
        n += 1;
    }
    assert!(n >= 45, "{n} sessions compared");
    let mut stages: BTreeMap<(String, String, i64, bool), (String, i64)> = BTreeMap::new();
    for b in read(&env.out(), "sleep_stages") {
        let t = b
            .column_by_name("start_utc")
            .unwrap()
            .as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
            .clone();
        let short = b.column_by_name("is_short").unwrap().as_boolean().clone();
        for i in 0..b.num_rows() {
            stages.insert(
                (
                    text(&b, "source", i),
                    text(&b, "log_id", i),
                    t.value(i),
                    short.value(i),
                ),
                (text(&b, "stage", i), num(&b, "seconds", i).unwrap() as i64),
            );
        }
    }
    let fitbit: Vec<_> = stages
        .iter()
        .filter(|(k, _)| k.0 == "fitbit-web-api")
        .map(|(k, v)| ((&k.1, k.2, k.3), v))
        .collect();
    let google: Vec<_> = stages
        .iter()
        .filter(|(k, _)| k.0 == "google-health")
        .map(|(k, v)| ((&k.1, k.2, k.3), v))
        .collect();
    assert_eq!(fitbit.len(), google.len());
    assert_eq!(fitbit, google, "stages (incl. short wakes) agree");
}

#[test]
fn a_testing_mode_refresh_token_dies_after_7_days_with_an_explanation() {
    let env = google(Config::default());
    env.authorise();
    let from = (env.sim.now().date_naive() - Duration::days(3)).to_string();
    assert_eq!(env.run(&["ingest", "--from", &from, "-q"]).code, 0);
    // Within the 7 days an expired access token is refreshed quietly.
    env.sim.advance(Duration::hours(30));
    let r = env.run(&["ingest", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    env.sim.advance(Duration::days(7));
    let r = env.run(&["ingest", "-q"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("Testing status"), "{}", r.stderr);
    assert!(r.stderr.contains("publish the app"), "{}", r.stderr);
    // What was written before stays.
    let (rows, _) = table_keys(&env.out(), "daily_activity", &["user_id", "date"]);
    assert!(rows >= 4);
    let st = env.run(&["auth", "status"]);
    assert!(st.stdout.contains("refresh token expired"), "{}", st.stdout);
}

// The nutrition scope is optional (google-health-api.md §2.2): a person who unticks it
// still gets a successful run; the food and water logs are left out with a warning that
// names the scope, and everything else is saved.
#[test]
fn an_unticked_optional_scope_leaves_its_types_out_and_the_run_succeeds() {
    let env = google(Config {
        google_unticked_scopes: vec!["nutrition.readonly".into()],
        ..Config::default()
    });
    let said = env.authorise();
    assert!(said.contains("nutrition.readonly"), "{said}");
    let from = (env.sim.now().date_naive() - Duration::days(3)).to_string();
    let r = env.run(&[
        "ingest",
        "--from",
        &from,
        "--resources",
        "steps,hydration-log,nutrition-log",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for key in ["hydration-log", "nutrition-log"] {
        assert!(
            r.stderr.contains(&format!("`{key}` left out")) && r.stderr.contains("nutrition"),
            "{}",
            r.stderr
        );
    }
    assert!(table_keys(&env.out(), "daily_activity", &["user_id", "date"]).0 >= 4);
    assert!(!env.out().join("nutrition_log").exists());

    // The location scope guards the routes: without it the sessions still come, and the
    // routes are left out.
    let env = google(Config {
        google_unticked_scopes: vec!["location.readonly".into()],
        ..Config::default()
    });
    env.authorise();
    let from = (env.sim.now().date_naive() - Duration::days(60)).to_string();
    let r = env.run(&[
        "ingest",
        "--from",
        &from,
        "--resources",
        "exercise,exercise-route",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("`exercise-route` left out") && r.stderr.contains("location"),
        "{}",
        r.stderr
    );
    assert!(table_keys(&env.out(), "exercise_sessions", &["user_id", "exercise_id"]).0 >= 4);
    assert!(!env.out().join("exercise_route").exists());
}

#[test]
fn an_unticked_scope_and_an_unlinked_account_get_clear_errors() {
    let env = google(Config {
        google_unticked_scopes: vec!["sleep.readonly".into()],
        ..Config::default()
    });
    let said = env.authorise();
    assert!(
        said.contains("not granted") && said.contains("sleep.readonly"),
        "{said}"
    );
    let from = (env.sim.now().date_naive() - Duration::days(3)).to_string();
    let r = env.run(&[
        "ingest",
        "--from",
        &from,
        "--resources",
        "steps,sleep",
        "-q",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("MISSING_OAUTH_SCOPE"), "{}", r.stderr);
    assert!(r.stderr.contains("leave every box ticked"), "{}", r.stderr);
    // Steps came before sleep and are kept.
    assert!(table_keys(&env.out(), "daily_activity", &["user_id", "date"]).0 >= 4);

    // Without the settings scope there is no time zone, and auth still succeeds.
    let env = google(Config {
        google_unticked_scopes: vec!["settings.readonly".into()],
        ..Config::default()
    });
    let said = env.authorise();
    assert!(said.contains("settings.readonly"), "{said}");
    let st = env.run(&["auth", "status"]);
    assert!(st.stdout.contains("google-health"), "{}", st.stdout);
    assert!(!st.stdout.contains("America/New_York"), "{}", st.stdout);

    let env = google(Config {
        google_unlinked: vec![0],
        ..Config::default()
    });
    let (child, url, mut err_reader) = env.start_auth(&[]);
    env.rt.block_on(async { reqwest::get(&url).await.unwrap() });
    let mut err = String::new();
    std::io::Read::read_to_string(&mut err_reader, &mut err).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("ACCOUNT_NOT_LINKED") && err.contains("no Google Health"),
        "{err}"
    );
}

#[test]
fn rate_limits_and_server_errors_are_retried_and_nothing_is_lost() {
    let env = google(Config::default());
    env.authorise();
    env.sim.inject([
        Fault {
            kind: FaultKind::RateLimited,
            count: 2,
            path_contains: Some("steps".into()),
        },
        Fault {
            kind: FaultKind::Status(503),
            count: 1,
            path_contains: Some("sleep".into()),
        },
        Fault {
            kind: FaultKind::Truncate,
            count: 1,
            path_contains: Some("total-calories".into()),
        },
    ]);
    let from = (env.sim.now().date_naive() - Duration::days(20)).to_string();
    let want = predicted(&env, &["--from", &from]);
    let before = env.requests();
    let r = env.run(&["ingest", "--from", &from, "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Each fault cost one request more, and nothing else.
    assert_eq!(env.requests() - before, want + 4);
    let d = daily(&env.out());
    assert_eq!(d.len(), 21);
    let person = &env.sim.people()[0];
    for ((_, date), v) in &d {
        let day = chrono::NaiveDate::from_num_days_from_ce_opt(*date + 719_163).unwrap();
        assert!(v[1].is_some(), "calories on {day}");
        assert_eq!(v[0].is_some(), person.worn(day), "steps on {day}");
    }
}

#[test]
fn the_shipped_google_pipeline_runs_and_revoke_ends_the_grant() {
    let env = google(Config::default());
    env.authorise();
    let text = std::fs::read_to_string(super::repo().join("pipelines/google.toml")).unwrap();
    let text = text
        .replace(
            "out = \"./data\"",
            &format!("out = \"{}\"", env.out().display()),
        )
        .replace("2020-01-01", "2026-06-01");
    let p = env.dir.path().join("google.toml");
    std::fs::write(&p, text).unwrap();
    let r = env.run(&["run", super::s(&p), "--quiet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(table_keys(&env.out(), "sleep_sessions", &["user_id", "log_id"]).0 > 100);
    let bad = env.dir.path().join("bad.toml");
    std::fs::write(&bad, "provider = \"google-fit\"\n").unwrap();
    let r = env.run(&["run", super::s(&bad), "--quiet"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("unknown provider `google-fit`") && r.stderr.contains("google-health"),
        "{}",
        r.stderr
    );

    let r = env.run(&["api", "GET", "/v4/users/me/identity"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("healthUserId"), "{}", r.stdout);
    // A rollup is a POST with a JSON body; a bad body is refused before any request.
    let body = r#"{"range":{"start":{"date":{"year":2026,"month":9,"day":1},"time":{}},"end":{"date":{"year":2026,"month":9,"day":3},"time":{}}},"windowSizeDays":1,"pageSize":2}"#;
    let path = "/v4/users/me/dataTypes/steps/dataPoints:dailyRollUp";
    let r = env.run(&["api", "POST", path, "--body", body]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.matches("countSum").count(), 2, "{}", r.stdout);
    let before = env.requests();
    let r = env.run(&["api", "POST", path, "--body", "{range"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not JSON"), "{}", r.stderr);
    assert_eq!(env.requests(), before);
    let tokens = env.config().join("tokens");
    let saved: Vec<_> = std::fs::read_dir(&tokens)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.clone(), std::fs::read(&p).unwrap())
        })
        .collect();
    let r = env.run(&["auth", "revoke"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&["api", "GET", "/v4/users/me/identity"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("fitpipe auth --provider google-health"),
        "{}",
        r.stderr
    );
    // The grant is dead at the provider: a copy of the old tokens no longer works.
    for (p, b) in saved {
        std::fs::write(p, b).unwrap();
    }
    let r = env.run(&["api", "GET", "/v4/users/me/identity"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("invalid_grant"), "{}", r.stderr);
}

#[test]
fn a_run_stopped_by_a_failing_server_resumes_where_it_stopped() {
    let env = google(Config::default());
    env.authorise();
    let from = (env.sim.now().date_naive() - Duration::days(400)).to_string();
    let full = predicted(&env, &["--from", &from]);
    env.sim.inject([Fault {
        kind: FaultKind::Status(500),
        // Exactly the attempts the client makes: the run gives up, the server recovers.
        count: 6,
        path_contains: Some("/sleep/".into()),
    }]);
    let r = env.run(&["ingest", "--from", &from, "-q"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("resumes"), "{}", r.stderr);
    assert!(r.stderr.contains("INTERNAL"), "{}", r.stderr);
    let (days, _) = table_keys(&env.out(), "daily_activity", &["user_id", "date"]);
    assert_eq!(days, 401, "what came before sleep is kept");
    // An hour later the tracker has synced again: the plan the dry run shows is the one
    // the run makes (with no new sync, it would also leave out the overlaps).
    env.sim.advance(Duration::hours(1));
    let again = predicted(&env, &["--from", &from]);
    assert!(
        again < full,
        "{again} of {full}: finished resources are not fetched again"
    );
    let before = env.requests();
    let r = env.run(&["ingest", "--from", &from, "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.requests() - before, again);
    let (rows, dups) = table_keys(&env.out(), "sleep_sessions", &["user_id", "log_id"]);
    assert!(rows > 300 && dups == 0, "{rows} {dups}");
}

#[test]
fn a_refused_sleep_filter_falls_back_to_paging_the_unfiltered_list() {
    let sessions = |reject: bool| {
        let env = google(Config {
            google_reject_sleep_filter: reject,
            ..Config::default()
        });
        env.authorise();
        let from = (env.sim.now().date_naive() - Duration::days(100)).to_string();
        let r = env.run(&["ingest", "--from", &from, "--resources", "sleep"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(
            r.stderr.contains("refused the filter"),
            reject,
            "{}",
            r.stderr
        );
        let mut ids = std::collections::BTreeSet::new();
        for b in read(&env.out(), "sleep_sessions") {
            for i in 0..b.num_rows() {
                let day = b
                    .column_by_name("date_of_sleep")
                    .unwrap()
                    .as_primitive::<Date32Type>()
                    .value(i);
                ids.insert((day, text(&b, "log_id", i)));
            }
        }
        let first = env.sim.now().date_naive() - Duration::days(100);
        let first = chrono::Datelike::num_days_from_ce(&first) - 719_163;
        // Every night from the first day on, and a later run continues as usual.
        let wanted: std::collections::BTreeSet<_> =
            ids.iter().filter(|x| x.0 >= first).cloned().collect();
        env.sim.advance(Duration::days(1));
        let r = env.run(&["ingest", "--resources", "sleep", "-q"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        wanted
    };
    let filtered = sessions(false);
    let fallback = sessions(true);
    assert!(filtered.len() > 80, "{}", filtered.len());
    assert_eq!(filtered, fallback);
}

#[test]
fn after_a_google_auth_plain_ingest_needs_no_provider_and_no_secret() {
    let env = google(Config::default());
    env.authorise();
    let secret = env.sim.google_client_secret();
    let bare = |args: &[&str]| -> super::Run {
        let mut c = env.cmd(args);
        c.env_remove("FITPIPE_PROVIDER")
            .env_remove("FITPIPE_CLIENT_SECRET")
            .env_remove("FITPIPE_CLIENT_ID");
        c.output().unwrap().into()
    };
    let from = (env.sim.now().date_naive() - Duration::days(3)).to_string();
    let r = bare(&["ingest", "--from", &from, "-v"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("/v4/users/me/"),
        "the Google API was read: {}",
        r.stderr
    );
    // Two days later the access token has expired: the refresh uses the kept secret.
    env.sim.advance(Duration::days(2));
    let r = bare(&["ingest", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let st = bare(&["auth", "status", "--provider", "google-health", "--json"]);
    assert_eq!(st.code, 0, "{}", st.stderr);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    assert_eq!(v[0]["provider"], "google-health");
    // The secret file is private, and the secret is in no output, log or raw file.
    let secrets: Vec<_> = std::fs::read_dir(env.config().join("tokens"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "secret"))
        .collect();
    assert_eq!(secrets.len(), 1);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&secrets[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    for (path, bytes) in super::tree(&env.out()) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&secret),
            "{}",
            path.display()
        );
    }
    let cfg = std::fs::read_to_string(env.config().join("config.toml")).unwrap_or_default();
    assert!(
        !cfg.contains(&secret),
        "the secret is not in the config file"
    );
    assert!(!r.stderr.contains(&secret) && !st.stdout.contains(&secret));
}

/// `(date, value)` of one column of a daily table, for one source.
fn by_day(out: &Path, table: &str, src: &str, col: &str) -> BTreeMap<i32, Option<f64>> {
    let mut m = BTreeMap::new();
    for b in read(out, table) {
        for i in 0..b.num_rows() {
            if text(&b, "source", i) != src {
                continue;
            }
            let d = b
                .column_by_name("date")
                .unwrap()
                .as_primitive::<Date32Type>()
                .value(i);
            m.insert(d, num(&b, col, i));
        }
    }
    m
}

#[test]
fn the_later_tables_agree_between_the_two_providers() {
    let mut env = SimEnv::auto();
    env.authorise();
    let from = (env.sim.now().date_naive() - Duration::days(40)).to_string();
    let to = (env.sim.now().date_naive() - Duration::days(1)).to_string();
    let args = [
        "ingest",
        "--from",
        &from,
        "--to",
        &to,
        "--resources",
        "profile,breathing-rate,active-zone-minutes,skin-temperature",
        "-q",
    ];
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    env.google = true;
    env.authorise();
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = env.out();
    let person = &env.sim.people()[0];
    let day = |d: i32| chrono::NaiveDate::from_num_days_from_ce_opt(d + 719_163).unwrap();
    // Active zone minutes: the same on every day Google has; the days Google leaves out
    // are the unworn ones, where Fitbit says 0.
    let f = by_day(
        &out,
        "active_zone_minutes_daily",
        "fitbit-web-api",
        "active_zone_minutes",
    );
    let g = by_day(
        &out,
        "active_zone_minutes_daily",
        "google-health",
        "active_zone_minutes",
    );
    assert_eq!(f.len(), 40);
    assert!(g.len() >= 25, "{}", g.len());
    for (d, v) in &f {
        match g.get(d) {
            Some(gv) => assert_eq!(gv, v, "AZM on {}", day(*d)),
            None => {
                assert_eq!(*v, Some(0.0), "AZM on {}", day(*d));
                assert!(!person.worn(day(*d)));
            }
        }
    }
    assert!(f.values().any(|v| v.unwrap_or(0.0) > 0.0));
    // Breathing rate and skin temperature: nights with a main sleep, the same nights.
    for (table, col, tolerance) in [
        ("breathing_rate_daily", "breaths_per_minute", 1e-9),
        ("skin_temperature_daily", "relative_celsius", 0.051),
    ] {
        let f = by_day(&out, table, "fitbit-web-api", col);
        let g = by_day(&out, table, "google-health", col);
        assert_eq!(
            f.keys().collect::<Vec<_>>(),
            g.keys().collect::<Vec<_>>(),
            "{table}"
        );
        assert!(f.len() >= 25, "{table}: {}", f.len());
        for (d, v) in &f {
            assert!(
                (v.unwrap() - g[d].unwrap()).abs() <= tolerance,
                "{table} on {}",
                day(*d)
            );
        }
    }
}
