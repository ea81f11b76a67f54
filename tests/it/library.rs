//! The pipeline as a library: a whole run in-process against the simulator, without
//! spawning the binary, its requests counted and its tables read back.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use fitpipe_ingest::client::{ApiClient, Options};
use fitpipe_ingest::clock::SystemClock;
use fitpipe_ingest::oauth::OAuthApp;
use fitpipe_ingest::provider::Provider;
use fitpipe_ingest::store::{TokenStore, Tokens};
use fitpipe_pipeline::pipeline::{ingest, parse_resources, Job, Outcome};
use fitpipe_pipeline::Silent;
use fitpipe_sim::Config;

use super::simenv::{table_keys, SimEnv};

#[test]
fn a_pipeline_runs_in_process_with_the_requests_it_plans() {
    let env = SimEnv::new(Config::default());
    let provider = Provider::Fitbit;
    let scope = provider.scopes().join(" ");
    let token = env.sim.issue_token(0, &scope);
    let user = env.sim.people()[0].id.clone();
    let store = TokenStore::new(&env.config());
    let tokens = Tokens {
        provider: provider.name().into(),
        user_id: user.clone(),
        access_token: oauth2::AccessToken::new(token),
        refresh_token: None,
        // The client reads the system clock; the simulator (frozen) its own.
        expires_at: chrono::Utc::now() + Duration::hours(8),
        scope,
        timezone: Some("America/New_York".into()),
        refresh_expires_at: None,
        refused_at: None,
    };
    let (auth_url, token_url, revoke_url) = provider.endpoints(&env.sim.base_url());
    let app = OAuthApp {
        auth_url,
        token_url,
        revoke_url,
        client_id: env.sim.client_id(),
        client_secret: None,
        redirect_uri: "http://127.0.0.1:1/".into(),
        scopes: provider.scopes(),
        auth_params: provider.auth_params(),
    };
    let progress = Arc::new(Silent);
    let mut client = ApiClient::new(
        &env.sim.base_url(),
        app,
        store,
        tokens,
        Arc::new(SystemClock),
        progress.clone(),
        Options::default(),
    );
    let from = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2026, 10, 14).unwrap();
    let job = Job {
        provider,
        out: env.out(),
        formats: None,
        from: Some(from),
        to: Some(to),
        resources: parse_resources(provider, &[], &[]).unwrap(),
        overlap: 3,
        refetch: false,
        dry_run: false,
        timezone: None,
        quiet: true,
        verbose: false,
        participant: None,
        valid_day_minutes: None,
    };
    let before = env.requests();
    let outcome = env
        .rt
        .block_on(ingest(&job, &mut client, progress))
        .unwrap();
    assert!(matches!(outcome.outcome, Outcome::Done));
    // One request per resource for two weeks: the nine default ones.
    assert_eq!(env.requests() - before, job.resources.len() as u64);
    let (days, dups) = table_keys(&env.out(), "daily_activity", &["user_id", "date"]);
    assert_eq!((days, dups), (14, 0));
}

/// Every row of every table as text, by user: what `forget` may and may not change.
fn rows_by_user(out: &std::path::Path) -> std::collections::BTreeMap<String, Vec<String>> {
    use arrow::util::display::{ArrayFormatter, FormatOptions};
    let mut m: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for spec in fitpipe_transform::ALL_TABLES {
        let ds = fitpipe_export::Dataset::new(out, &[fitpipe_export::Format::Parquet]);
        for b in ds
            .read_table(&fitpipe_pipeline::tables::layout(spec))
            .unwrap()
        {
            let f: Vec<_> = b
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &FormatOptions::default()).unwrap())
                .collect();
            let uid = b.schema().index_of("user_id").unwrap();
            for i in 0..b.num_rows() {
                let row: Vec<String> = f.iter().map(|x| x.value(i).to_string()).collect();
                m.entry(row[uid].clone()).or_default().push(format!(
                    "{}: {}",
                    spec.name,
                    row.join(",")
                ));
            }
        }
    }
    for v in m.values_mut() {
        v.sort();
    }
    m
}

#[test]
fn forget_removes_one_person_everywhere_and_nobody_else() {
    let mut env = SimEnv::auto();
    env.authorise();
    let args = [
        "ingest",
        "--from",
        "2026-10-20",
        "--intraday",
        "steps",
        "-q",
    ];
    assert_eq!(env.run(&args).code, 0);
    env.google = true;
    env.authorise();
    assert_eq!(env.run(&args).code, 0);
    let out = env.out();
    let before = rows_by_user(&out);
    assert_eq!(before.len(), 2, "{:?}", before.keys());
    let google_id = before
        .keys()
        .find(|k| k.len() == 19)
        .cloned()
        .expect("the Google user");
    let r = env.run(&[
        "forget",
        "--user",
        &google_id,
        "--provider",
        "google-health",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("revoked the grant"), "{}", r.stdout);
    let after = rows_by_user(&out);
    assert!(
        !after.contains_key(&google_id),
        "no row of the person is left"
    );
    for (user, rows) in &before {
        if *user != google_id {
            assert_eq!(after.get(user), Some(rows), "{user}'s rows are untouched");
        }
    }
    // No raw answer, no CSV cell, no state entry of the person is left.
    for (path, bytes) in super::tree(&out) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&google_id)
                && !path.to_string_lossy().contains(&google_id),
            "{} still names the person",
            path.display()
        );
    }
    // The grant is gone here and at the provider.
    let st = env.run(&["auth", "status", "--json"]);
    assert!(!st.stdout.contains(&google_id), "{}", st.stdout);
    // A run for the other person goes on as before.
    env.google = false;
    let r = env.run(&["ingest", "--provider", "fitbit-web-api", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

// The resources each provider declares are the ones `--help` names and `--resources`
// takes: a resource added to a provider's spec and not to the help fails here.
#[test]
fn help_names_every_declared_resource() {
    let help = super::fitpipe(&["ingest", "--help"]).stdout;
    // Fits the 100 columns the help is made for, descriptions wrapped under their column
    // (not back to the margin, where they would read as a resource name).
    for line in help.lines() {
        assert!(line.chars().count() <= 100, "too wide: {line}");
    }
    let rows: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.contains("Daily resources"))
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('`'))
        .collect();
    let column = rows[0]
        .find("the account")
        .expect("the profile's description");
    for l in &rows {
        assert!(
            l.len() > column && l[column - 1..column] == *" " && !l[column..].starts_with(' '),
            "not in the description column: {l:?}"
        );
    }
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    for provider in Provider::ALL {
        for name in provider.resource_names() {
            assert!(
                flat.contains(name),
                "`{name}` of {} is missing from `ingest --help`",
                provider.name()
            );
            assert!(provider.resource(name).is_some());
        }
        for name in provider.intraday_names() {
            assert!(
                flat.contains(name),
                "intraday `{name}` of {}",
                provider.name()
            );
        }
    }
}

// Every Fitbit resource the client declares is answered by the simulator with the scopes
// fitpipe asks for, and refused (403) without its own scope.
#[test]
fn every_declared_fitbit_resource_is_served_and_guarded_by_its_scope() {
    let env = SimEnv::new(Config::default());
    let all = Provider::Fitbit.scopes().join(" ");
    let day = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
    let get = |token: &str, path: &str| {
        env.rt.block_on(async {
            reqwest::Client::new()
                .get(format!("{}{path}", env.sim.base_url()))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    let full = env.sim.issue_token(0, &all);
    for name in fitpipe_ingest::fitbit::resource_names() {
        // The scope the catalog declares for it, as the simulator guards it.
        let need = fitpipe_catalog::get(fitpipe_catalog::Kind::Daily, name)
            .and_then(|t| t.read_by(fitpipe_catalog::Api::Fitbit))
            .unwrap()
            .scope;
        let resource = fitpipe_ingest::fitbit::Resource::parse(name).unwrap();
        assert!(
            Provider::Fitbit.scopes().iter().any(|s| s == need),
            "`{name}` needs `{need}`, which fitpipe does not ask for"
        );
        let mut path = resource.path(day, day);
        assert_eq!(get(&full, &path), 200, "{name}: {path}");
        // Where the answer leads to requests of their own (a route's TCX files), those
        // are what the scope guards.
        let body = env.rt.block_on(async {
            reqwest::Client::new()
                .get(format!("{}{path}", env.sim.base_url()))
                .bearer_auth(&full)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
        });
        let resource = fitpipe_ingest::provider::Resource::Fitbit(resource);
        if let Some(next) = resource.follow_ups(&body, NaiveDate::MAX).first() {
            path = next.path.clone();
            assert_eq!(get(&full, &path), 200, "{name}: {path}");
        }
        assert!(
            name != "exercise-route" || path.ends_with(".tcx"),
            "{name}: {path}"
        );
        // Without the scope that guards it.
        let partial: Vec<String> = Provider::Fitbit
            .scopes()
            .into_iter()
            .filter(|s| s != need)
            .collect();
        let token = env.sim.issue_token(0, &partial.join(" "));
        assert_eq!(get(&token, &path), 403, "{name} without `{need}`");
    }
}

// The catalog's conformance: every data type it declares, for every API it says reads it,
// is served by the simulator (which does not read the catalog) and normalised into rows of
// exactly the tables the catalog names. A declared type without simulator data, without
// a model or normaliser, or filling another table fails here. A type the simulator does
// not serve yet would be listed in NOT_YET_SERVED (the test fails once it is served, so
// the list only shrinks); every type is served now.
#[test]
fn every_catalog_type_is_served_and_lands_in_its_tables() {
    use fitpipe_catalog::{Api, Kind, CATALOG};
    const NOT_YET_SERVED: &[&str] = &[];
    let env = SimEnv::new(Config::default());
    let (from, to) = (
        // Two weeks: Monday weigh-ins, days with an exercise session, runs with GPS.
        NaiveDate::from_ymd_opt(2026, 10, 12).unwrap(),
        NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(),
    );
    let tz: chrono_tz::Tz = env.sim.people()[0].tz;
    let now = env.sim.now();
    let mut checked = 0;
    for t in CATALOG {
        for (api, provider) in [
            (Api::Fitbit, Provider::Fitbit),
            (Api::Google, Provider::Google),
        ] {
            if t.read_by(api).is_none() {
                continue;
            }
            let label = format!("{} {}", provider.name().split('-').next().unwrap(), t.name);
            let resource = match t.kind {
                Kind::Daily => provider.resource(t.name),
                Kind::Intraday => provider.intraday(t.name),
            }
            .unwrap_or_else(|| panic!("{label}: declared, but the provider cannot fetch it"));
            let scope = provider.scopes().join(" ");
            let token = match provider {
                Provider::Fitbit => env.sim.issue_token(0, &scope),
                Provider::Google => env.sim.issue_google_token(0, &scope),
            };
            let mut tables = std::collections::BTreeSet::new();
            for w in resource.plan(from, to, tz, now) {
                let body = env.rt.block_on(async {
                    let url = format!("{}{}", env.sim.base_url(), w.request.path);
                    let mut req = reqwest::Client::new()
                        .request(w.request.method.clone(), url)
                        .bearer_auth(&token);
                    if let Some(b) = &w.request.body {
                        req = req.json(b);
                    }
                    let r = req.send().await.unwrap();
                    assert_eq!(r.status(), 200, "{label}: {}", w.request.path);
                    r.bytes().await.unwrap()
                });
                let rows = fitpipe_pipeline::pipeline::normalise(
                    provider,
                    &body,
                    "U",
                    Some(tz),
                    Some(now),
                )
                .unwrap_or_else(|e| panic!("{label}: {e}"));
                for (spec, batch) in rows.batches() {
                    if batch.num_rows() > 0 {
                        tables.insert(spec.name);
                    }
                }
            }
            if NOT_YET_SERVED.contains(&label.as_str()) {
                assert!(
                    tables.is_empty(),
                    "{label} is served now: take it off NOT_YET_SERVED"
                );
                continue;
            }
            assert!(!tables.is_empty(), "{label}: no rows from the simulator");
            for table in &tables {
                assert!(
                    t.tables.contains(table),
                    "{label} filled `{table}`, which the catalog does not name"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} (type, API) pairs checked");
}

// The library knows no CLI, and the CLI holds no library: no crate under crates/ depends
// on clap, indicatif or the `fitpipe` package, and the root package's sources are the
// command line alone (main, the clap definitions, commands, output and progress bars).
#[test]
fn the_library_crates_know_no_cli_and_the_root_holds_only_the_cli() {
    let root = super::repo();
    for e in std::fs::read_dir(root.join("crates")).unwrap().flatten() {
        let toml = std::fs::read_to_string(e.path().join("Cargo.toml")).unwrap();
        let deps: toml::Table = toml::from_str(&toml).unwrap();
        for section in ["dependencies", "dev-dependencies"] {
            let Some(t) = deps.get(section).and_then(|d| d.as_table()) else {
                continue;
            };
            for banned in ["clap", "indicatif", "fitpipe", "plotters"] {
                assert!(
                    !t.contains_key(banned),
                    "{}: {section} has `{banned}`",
                    e.path().display()
                );
            }
        }
    }
    let mut top: Vec<String> = std::fs::read_dir(root.join("src"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(
        top,
        [
            "cli.rs",
            "commands",
            "lib.rs",
            "main.rs",
            "output.rs",
            "progress.rs"
        ],
        "the root package is the CLI only"
    );
    // Nor does it hand the library out under its own name (`fitpipe::pipeline`): the
    // commands name the crates they call.
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    for line in lib
        .lines()
        .filter(|l| l.trim_start().starts_with("pub use"))
    {
        assert!(
            !line.contains("fitpipe_pipeline") && !line.contains("fitpipe_study"),
            "src/lib.rs re-exports the library: {line}"
        );
    }
}
