//! Studies: a roster run against the simulator, participants side by side in hive
//! partitions, shards that split the roster without overlap, a revoked participant who
//! does not stop the others, and no account id or name anywhere in the dataset.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};
use fitpipe_ingest::provider::Provider;
use fitpipe_ingest::store::{TokenStore, Tokens};
use fitpipe_sim::Config;

use super::simenv::SimEnv;

/// A Google study of `n` simulated people, their grants stored for study ids `P01`...
/// (person `i` is `P0{i+1}`), as `fitpipe enroll` would have stored them.
pub(super) fn study(n: usize) -> (SimEnv, PathBuf) {
    study_with(n, Config::default())
}

fn study_with(n: usize, cfg: Config) -> (SimEnv, PathBuf) {
    let mut env = SimEnv::new(Config { users: n, ..cfg });
    env.google = true;
    let grants = env.dir.path().join("grants");
    let store = TokenStore::new(&grants);
    let scope = Provider::Google.scopes().join(" ");
    for i in 0..n {
        let token = env.sim.issue_google_token(i, &scope);
        store
            .save(&Tokens {
                provider: "google-health".into(),
                user_id: format!("P{:02}", i + 1),
                access_token: oauth2::AccessToken::new(token),
                refresh_token: None,
                expires_at: env.sim.now() + Duration::minutes(50),
                scope: scope.clone(),
                timezone: None,
                refresh_expires_at: None,
                refused_at: None,
            })
            .unwrap();
    }
    let file = write_study(&env, "data", n, "");
    (env, file)
}

/// One participant's line of `status --study --json`.
fn participant(v: &serde_json::Value, id: &str) -> serde_json::Value {
    v.as_array()
        .unwrap()
        .iter()
        .find(|p| p["participant"] == id)
        .unwrap()
        .clone()
}

fn write_study(env: &SimEnv, out: &str, n: usize, extra: &str) -> PathBuf {
    let ids: Vec<String> = (1..=n).map(|i| format!("\"P{i:02}\"")).collect();
    let file = env.dir.path().join(format!("{out}.toml"));
    std::fs::write(
        &file,
        format!(
            r#"study = "sleep-2026"
provider = "google-health"
client_id = "{client}"
api_base = "{base}"
out = "{out}"
grants = "{grants}"
first_from = "2026-10-20"
resources = ["profile", "steps", "heart", "sleep", "devices"]
formats = ["parquet"]
concurrency = 3
participants = [{ids}]
{extra}
"#,
            client = env.sim.google_client_id(),
            base = env.sim.base_url(),
            out = env.dir.path().join(out).display(),
            grants = env.dir.path().join("grants").display(),
            ids = ids.join(", "),
        ),
    )
    .unwrap();
    file
}

/// Points a study file's `out` at `url`.
pub(super) fn study_at(env: &SimEnv, name: &str, n: usize, url: &str) -> std::path::PathBuf {
    let file = write_study(env, name, n, "");
    let text = std::fs::read_to_string(&file).unwrap().replace(
        &format!("out = \"{}\"", env.dir.path().join(name).display()),
        &format!("out = \"{url}\""),
    );
    std::fs::write(&file, text).unwrap();
    file
}

/// Every file below `dir` (relative), fitpipe's own folder left out.
pub(super) fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.file_name().unwrap() == ".fitpipe" {
                continue;
            }
            if p.is_dir() {
                dirs.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Every batch of every Parquet file of a table (all partitions), with the file's path
/// below the table folder.
pub(super) fn table_batches(
    out: &Path,
    table: &str,
) -> Vec<(String, arrow::record_batch::RecordBatch)> {
    let mut all = Vec::new();
    if !out.join(table).is_dir() {
        return all;
    }
    for rel in files(&out.join(table)).into_keys() {
        if !rel.ends_with(".parquet") {
            continue;
        }
        let f = std::fs::File::open(out.join(table).join(&rel)).unwrap();
        let r = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
            .unwrap()
            .build()
            .unwrap();
        all.extend(r.map(|b| (rel.clone(), b.unwrap())));
    }
    all
}

/// The distinct `user_id` values of every Parquet file of a table (all partitions).
fn user_ids(out: &Path, table: &str) -> BTreeSet<String> {
    use arrow::array::{Array, StringArray};
    let mut ids = BTreeSet::new();
    for (rel, b) in table_batches(out, table) {
        let col = b.column_by_name("user_id").unwrap();
        let s = col.as_any().downcast_ref::<StringArray>().unwrap();
        for i in 0..s.len() {
            let v = s.value(i).to_string();
            // The hive folder and the column agree.
            assert!(rel.starts_with(&format!("user_id={v}/")), "{rel}: {v}");
            ids.insert(v);
        }
    }
    ids
}

#[test]
fn a_study_run_fetches_every_participant_into_hive_partitions() {
    let (env, file) = study(4);
    let r = env.run(&["run", file.to_str().unwrap(), "--json", "--quiet"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let runs: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 4);
    let out = env.dir.path().join("data");
    for table in ["daily_activity", "sleep_sessions", "profile"] {
        assert_eq!(
            user_ids(&out, table),
            ["P01", "P02", "P03", "P04"].map(String::from).into(),
            "{table}"
        );
    }
    // Each participant cost exactly what one user's run of the same days costs (the
    // simulator counted), and none was refused for the rate.
    let stats = env.sim.stats();
    let people = env.sim.people();
    for (i, run) in runs.iter().enumerate() {
        assert_eq!(run["status"], "ok", "{run}");
        let served = &stats.users[&people[i].health_user_id()];
        assert_eq!(run["requests"].as_u64().unwrap(), served.requests);
        assert_eq!(served.rate_limited, 0);
    }
    // The single-user run of person 1 (the ordinary `ingest`, its own grant).
    let scope = Provider::Google.scopes().join(" ");
    TokenStore::new(&env.config())
        .save(&Tokens {
            provider: "google-health".into(),
            user_id: people[0].id.clone(),
            access_token: oauth2::AccessToken::new(env.sim.issue_google_token(0, &scope)),
            refresh_token: None,
            expires_at: env.sim.now() + Duration::minutes(50),
            scope,
            timezone: None,
            refresh_expires_at: None,
            refused_at: None,
        })
        .unwrap();
    let single = env.dir.path().join("single");
    let one = env.run(&[
        "ingest",
        "--from",
        "2026-10-20",
        "--resources",
        "profile,steps,heart,sleep,devices",
        "--format",
        "parquet",
        "--quiet",
        "--out",
        single.to_str().unwrap(),
    ]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    let hid = people[0].health_user_id();
    let alone = env.sim.stats().users[&hid].requests - stats.users[&hid].requests;
    assert_eq!(runs[0]["requests"].as_u64().unwrap(), alone);
    // No account id and no name anywhere: not in a table, not in a raw answer's path or
    // body.
    let everything = files(&out);
    for p in &people {
        for id in [p.id.clone(), p.health_user_id(), p.name.clone()] {
            for (rel, bytes) in &everything {
                assert!(!rel.contains(&id), "{rel} names account {id}");
                let text = String::from_utf8_lossy(bytes);
                assert!(!text.contains(&id), "{rel} holds {id}");
            }
        }
    }
    assert!(everything
        .keys()
        .any(|k| k.starts_with("raw/google-health/P01/")));

    // A second run the same day fetches only the overlap again and changes nothing.
    let again = env.run(&["run", file.to_str().unwrap(), "--quiet"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        files(&out)
            .into_iter()
            .filter(|(k, _)| !k.starts_with("raw/"))
            .collect::<BTreeMap<_, _>>(),
        everything
            .into_iter()
            .filter(|(k, _)| !k.starts_with("raw/"))
            .collect::<BTreeMap<_, _>>()
    );
}

#[test]
fn shards_split_the_roster_and_give_the_same_dataset() {
    let (env, file) = study(6);
    let whole = env.run(&["run", file.to_str().unwrap(), "--quiet"]);
    assert_eq!(whole.code, 0, "{}{}", whole.stdout, whole.stderr);
    let sharded = write_study(&env, "sharded", 6, "");
    let mut seen: Vec<String> = Vec::new();
    for i in 0..4 {
        let shard = format!("{i}/4");
        let r = env.run(&[
            "run",
            sharded.to_str().unwrap(),
            "--shard",
            &shard,
            "--json",
        ]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        let runs: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        for run in runs.as_array().unwrap() {
            seen.push(run["participant"].as_str().unwrap().to_string());
        }
    }
    seen.sort();
    assert_eq!(seen, ["P01", "P02", "P03", "P04", "P05", "P06"]);
    let tables = |d: &Path| {
        files(d)
            .into_iter()
            .filter(|(k, _)| !k.starts_with("raw/"))
            .collect::<BTreeMap<_, _>>()
    };
    let (a, b) = (
        tables(&env.dir.path().join("data")),
        tables(&env.dir.path().join("sharded")),
    );
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        assert!(
            b[k] == *v,
            "{k} differs between the whole run and the shards"
        );
    }
    // A bad shard is refused with the fix.
    let bad = env.run(&["run", sharded.to_str().unwrap(), "--shard", "4/4"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("I/N"), "{}", bad.stderr);
}

#[test]
fn a_revoked_participant_does_not_stop_the_others() {
    let (env, file) = study(3);
    let people = env.sim.people();
    env.sim.revoke_user(&people[1].id);
    let r = env.run(&["run", file.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let line = |id: &str| {
        r.stdout
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} missing from\n{}", r.stdout))
            .to_string()
    };
    assert!(line("P01").contains(" ok "), "{}", r.stdout);
    assert!(line("P02").contains(" consent "), "{}", r.stdout);
    assert!(line("P03").contains(" ok "), "{}", r.stdout);
    assert!(
        r.stderr.contains("P02") && r.stderr.contains("hint:"),
        "{}",
        r.stderr
    );
    assert_eq!(
        user_ids(&env.dir.path().join("data"), "daily_activity"),
        ["P01", "P03"].map(String::from).into()
    );
    // The coverage view names who to contact, and its heatmap shows who has data.
    let png = env.dir.path().join("coverage.png");
    let st = env.run(&[
        "status",
        "--study",
        file.to_str().unwrap(),
        "--days",
        "20",
        "--json",
        "--heatmap",
        png.to_str().unwrap(),
    ]);
    assert_eq!(st.code, 0, "{}", st.stderr);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    let by = |id: &str| participant(&v, id);
    assert_eq!(by("P02")["grant"], "refused");
    assert_eq!(by("P02")["days_with_data"], 0);
    assert_eq!(by("P01")["grant"], "ok");
    // The window is the 20 days to the simulator's today (2026-11-04); data from 10-20.
    let p1 = by("P01");
    let days = p1["days_with_data"].as_u64().unwrap();
    assert!((10..=16).contains(&days), "{p1}");
    assert!(p1["days_worn"].as_u64().unwrap() <= days);
    assert!(p1["last_sync"].is_string(), "{p1}");
    let text = env.run(&["status", "--study", file.to_str().unwrap()]);
    assert!(
        text.stdout.contains("to contact") && text.stdout.contains("P02"),
        "{}",
        text.stdout
    );
    // The picture: 3 rows of 18 px, 20 columns of 16 px; P01's row has green, P02's none.
    let img = super::Picture::open(&png);
    assert_eq!(img.dimensions(), (120 + 20 * 16 + 20, 50 + 3 * 18 + 40));
    let row_has_green = |r: u32| {
        let y = 50 + r * 18 + 9;
        (120..120 + 20 * 16).any(|x| {
            let p = img.get_pixel(x, y);
            p[1] as i32 > p[0] as i32 + 20
        })
    };
    assert!(row_has_green(0) && !row_has_green(1) && row_has_green(2));
    // Which days are final: today was fetched before the tracker synced after it, so it
    // is not (amber in the heatmap); the days before it are.
    assert!(p1["complete_through"].is_string(), "{p1}");
    assert!(p1["incomplete_days"].as_u64().unwrap() >= 1, "{p1}");
    assert!(p1["tracker_synced"].is_string(), "{p1}");
    assert_eq!(p1["alerts"].as_array().unwrap().len(), 0, "{p1}");
    let cell = |r: u32, c: u32| img.get_pixel(120 + c * 16 + 8, 50 + r * 18 + 9);
    assert_eq!(
        cell(0, 19),
        [0xf2, 0xb1, 0x34],
        "today of P01 is worn, not final"
    );
    assert_ne!(cell(0, 17), [0xf2, 0xb1, 0x34], "two days ago is final");
}

#[test]
fn a_roster_with_a_name_or_address_is_refused() {
    let (env, _) = study(1);
    let file = env.dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "study = \"s\"\nprovider = \"google-health\"\nparticipants = [\"jane.doe@example.com\"]\n",
    )
    .unwrap();
    let r = env.run(&["run", file.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("not a study id") && r.stderr.contains("pseudonymous"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_withdrawn_participant_leaves_nothing_and_changes_no_other_file() {
    let (env, file) = study(3);
    let r = env.run(&["run", file.to_str().unwrap(), "--quiet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = env.dir.path().join("data");
    let before = files(&out);
    let r = env.run(&[
        "forget",
        "--user",
        "P02",
        "--study",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("revoked the grant"), "{}", r.stdout);
    let after = files(&out);
    assert!(
        after.keys().all(|k| !k.contains("P02")),
        "{:?}",
        after.keys()
    );
    for (k, v) in &before {
        if !k.contains("P02") {
            assert!(after.get(k) == Some(v), "{k} changed");
        }
    }
    // Their folder holds only the (empty) lock file the withdrawal held: removing it would
    // have let a concurrent run lock a fresh file beside it.
    let left: Vec<_> = std::fs::read_dir(out.join(".fitpipe/users/P02"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.iter().all(|n| n == "lock"), "{left:?}");
    assert_eq!(
        user_ids(&out, "daily_activity"),
        ["P01", "P03"].map(String::from).into()
    );
    let store = TokenStore::new(&env.dir.path().join("grants"));
    assert!(store.load("google-health", "P02").unwrap().is_none());
    assert!(store.load("google-health", "P01").unwrap().is_some());
    // The next run goes on for the others; P02 withdrew.
    let r = env.run(&["run", file.to_str().unwrap()]);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("P02") && l.contains("withdrawn")),
        "{}",
        r.stdout
    );
}

// Object storage through `object_store` (here its `file://` store): the same objects a
// folder run writes, whole, with no work files left behind; a second run fetches the
// share back and changes nothing.
#[test]
fn a_study_writes_to_object_storage_as_it_does_to_a_folder() {
    let (env, file) = study(3);
    let r = env.run(&["run", file.to_str().unwrap(), "--quiet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bucket = env.dir.path().join("bucket");
    std::fs::create_dir_all(&bucket).unwrap();
    let url = format!("file://{}/study", bucket.display());
    let remote = study_at(&env, "remote", 3, &url);
    let r = env.run(&["run", remote.to_str().unwrap(), "--quiet"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let tables = |d: &Path| {
        files(d)
            .into_iter()
            .filter(|(k, _)| !k.starts_with("raw/"))
            .collect::<BTreeMap<_, _>>()
    };
    let stored = bucket.join("study");
    assert_eq!(tables(&env.dir.path().join("data")), tables(&stored));
    assert!(stored.join(".fitpipe/users/P01/state.json").exists());
    assert!(!stored.join(".fitpipe/users/P01/lock").exists());
    assert!(files(&stored)
        .keys()
        .any(|k| k.starts_with("raw/google-health/P02/")));
    let again = env.run(&["run", remote.to_str().unwrap(), "--quiet"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(tables(&env.dir.path().join("data")), tables(&stored));
}

// A study on an S3-compatible server on loopback (moto): the run puts every object, and
// pyarrow reads each table back over S3 as one dataset across participants, keys unique.
#[test]
fn a_study_on_s3_reads_back_over_s3_with_pyarrow() {
    let Some(moto) = super::objects::Moto::start("fitpipe-study") else {
        return;
    };
    let (py, endpoint, aws) = (&moto.python, &moto.endpoint, moto.env());
    let (env, _) = study(3);
    let file = study_at(&env, "s3", 3, "s3://fitpipe-study/studies/sleep-2026");
    let r = env
        .cmd(&["run", file.to_str().unwrap(), "--quiet"])
        .envs(aws.clone())
        .output()
        .unwrap();
    let r: super::Run = r.into();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let tables = [
        "daily_activity",
        "sleep_sessions",
        "sleep_stages",
        "profile",
    ];
    let back = std::process::Command::new(py)
        .arg(super::repo().join("scripts/s3_readback.py"))
        .arg(endpoint)
        .arg("fitpipe-study/studies/sleep-2026")
        .args(tables)
        .envs(aws)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&back.stdout);
    assert!(
        back.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&back.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for t in tables {
        assert_eq!(
            v[t]["participants"],
            serde_json::json!(["P01", "P02", "P03"]),
            "{t}: {v}"
        );
        assert_eq!(v[t]["unique_keys"], true, "{t}: {v}");
        assert!(v[t]["rows"].as_u64().unwrap() >= 3, "{t}: {v}");
    }
}

// The project-wide quota: participants in flight together stay under it (the simulator
// answers 429 past its project limit), paced on the shared clock.
#[test]
fn participants_together_stay_under_the_project_quota() {
    let (env, _) = study_with(
        6,
        Config {
            google_project_rate_limit: 30,
            ..Config::default()
        },
    );
    let file = write_study(
        &env,
        "paced",
        6,
        "project_requests_per_minute = 24\nintraday = [\"steps\", \"distance\"]",
    );
    let start = env.sim.now();
    let r = env.run(&["run", file.to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let stats = env.sim.stats();
    let total: u64 = stats.users.values().map(|u| u.requests).sum();
    assert!(
        total > 60,
        "only {total} requests: the test needs more than two minutes' worth"
    );
    for (user, st) in &stats.users {
        assert_eq!(st.rate_limited, 0, "{user} was refused for the rate");
    }
    // 24 a minute: the run took at least (total / 24 - 1) minutes of the shared clock.
    let took = env.sim.now() - start;
    assert!(
        took >= Duration::minutes(total as i64 / 24 - 1),
        "{total} requests in {took}"
    );
}

// Regression: a grant file holding `{` made `fitpipe run`, its shard and `status --study`
// exit 1 before any participant ran, with a hint to run `fitpipe auth`. Now only that
// participant fails (told to send a new link); the others are `ok`.
#[test]
fn a_damaged_grant_fails_only_its_participant() {
    let (env, file) = study(3);
    let grants = env.dir.path().join("grants");
    let damaged = grants.join("tokens/google-health-P02.json");
    assert!(damaged.exists());
    std::fs::write(&damaged, "{").unwrap();
    let r = env.run(&["run", file.to_str().unwrap(), "--json", "--quiet"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let runs: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let status = |id: &str| {
        runs.as_array()
            .unwrap()
            .iter()
            .find(|x| x["participant"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(status("P01")["status"], "ok", "{runs}");
    assert_eq!(status("P03")["status"], "ok", "{runs}");
    assert_eq!(status("P02")["status"], "failed", "{runs}");
    let detail = status("P02")["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("enrollment link"), "{detail}");
    assert!(
        r.stderr.contains("P02") && !r.stderr.contains("fitpipe auth"),
        "{}",
        r.stderr
    );
    let out = env.dir.path().join("data");
    assert_eq!(
        user_ids(&out, "daily_activity"),
        ["P01", "P03"].map(String::from).into()
    );
    let cov = env.run(&["status", "--study", file.to_str().unwrap(), "--json"]);
    assert_eq!(cov.code, 0, "{}", cov.stderr);
    let rows: serde_json::Value = serde_json::from_str(&cov.stdout).unwrap();
    let p2 = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["participant"] == "P02")
        .unwrap();
    assert_eq!(p2["grant"], "damaged", "{rows}");
}

/// Every row of every Parquet file of `table` (all partitions), each as text, counted.
fn table_rows(out: &Path, table: &str) -> BTreeMap<String, usize> {
    use arrow::util::display::{ArrayFormatter, FormatOptions};
    let mut rows = BTreeMap::new();
    for (_, b) in table_batches(out, table) {
        let opts = FormatOptions::default();
        let fmts: Vec<_> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
            .collect();
        for i in 0..b.num_rows() {
            let row: Vec<String> = fmts.iter().map(|f| f.value(i).to_string()).collect();
            *rows.entry(row.join("|")).or_default() += 1;
        }
    }
    rows
}

/// DuckDB reads every table's hive glob under `out` (skipped with a notice where no
/// Python has duckdb, which fails under `CI=true`).
fn duckdb_reads_every_table(out: &Path) {
    let Some(py) = super::python_with("duckdb") else {
        return;
    };
    let script = r#"
import duckdb, os, sys
out = sys.argv[1]
n = 0
for t in sorted(os.listdir(out)):
    if t.startswith('.') or t in ('raw', 'csv') or not os.path.isdir(os.path.join(out, t)):
        continue
    duckdb.sql(f"select count(*) from read_parquet('{out}/{t}/**/*.parquet', hive_partitioning=true)").fetchall()
    n += 1
print(n)
"#;
    let o = std::process::Command::new(&py)
        .args(["-c", script, out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "DuckDB could not read a table: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let n: usize = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    assert!(n > 0, "no table to read");
}

/// Requests the simulator served and 429s it answered, every user together.
fn served(env: &SimEnv) -> (u64, u64) {
    let stats = env.sim.stats();
    (
        stats.users.values().map(|u| u.requests).sum(),
        stats.users.values().map(|u| u.rate_limited).sum(),
    )
}

// Regression: after kill -9 in the middle of a study run, the rerun asked again for
// 100-200 answers per interrupted participant that were already on disk, with a pacer
// that had forgotten the minute's requests, and was refused 8 times for the rate. Now
// the answers a killed run saved are read from raw/ (and its requests of the last minute
// still count, from the pace log): the killed run and the rerun together cost what a
// clean run costs, but for what the kill cut off in flight and each interrupted
// participant's profile (a study keeps no raw profile), and no request is refused.
#[test]
fn a_study_killed_mid_run_resumes_without_asking_again_or_a_429() {
    use std::process::Stdio;
    let n = 5;
    let concurrency = 3;
    let write = |env: &SimEnv| {
        let file = write_study(env, "data", n, "intraday = [\"heart\"]");
        let text = std::fs::read_to_string(&file)
            .unwrap()
            .replace("2026-10-20", "2026-10-27");
        std::fs::write(&file, text).unwrap();
        file
    };
    // A clean run: what the whole study costs, and what it writes.
    let (clean, _) = study(n);
    let file = write(&clean);
    let r = clean.run(&["run", file.to_str().unwrap(), "--quiet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (clean_requests, clean_429) = served(&clean);
    assert_eq!(clean_429, 0);
    // The same study (the simulator is seeded: the same people, the same answers), killed
    // once the second participant's rows are being staged (others in flight), then run
    // again.
    let (env, _) = study(n);
    let file = write(&env);
    let mut cmd = env.cmd(&["run", file.to_str().unwrap(), "--quiet"]);
    cmd.stdin(Stdio::null());
    assert!(
        super::crash::kill_at(cmd, "staged:24"),
        "the run ended before the kill"
    );
    let out = env.dir.path().join("data");
    super::crash::readers_see_whole_files(&out);
    duckdb_reads_every_table(&out);
    let (killed, _) = served(&env);
    eprintln!("killed after {killed} of {clean_requests} requests");
    assert!(
        killed > 0 && killed < clean_requests,
        "killed after {killed} of {clean_requests} requests: not in the middle"
    );
    let again = env.run(&["run", file.to_str().unwrap(), "--json", "--quiet"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let runs: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    let reused: u64 = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reused"].as_u64().unwrap())
        .sum();
    assert!(reused > 0, "nothing was reused: {}", again.stdout);
    let (total, refused) = served(&env);
    assert_eq!(refused, 0, "a restart was refused for the rate");
    let lost_in_flight = concurrency;
    // Google's profile is two answers (identity and settings), and the device list one:
    // read again on every run (a study keeps neither raw).
    let profiles_again = 2 * concurrency + concurrency;
    assert!(
        total <= clean_requests + (lost_in_flight + profiles_again) as u64,
        "the killed run and the rerun sent {total} requests ({killed} + {}); a clean run sends {clean_requests}",
        total - killed
    );
    for table in [
        "daily_activity",
        "heart_rate_intraday",
        "sleep_sessions",
        "sleep_stages",
        "profile",
    ] {
        let want = table_rows(&clean.dir.path().join("data"), table);
        let got = table_rows(&out, table);
        let diff = || {
            let missing = want.keys().filter(|k| !got.contains_key(*k)).take(3);
            let extra = got.keys().filter(|k| !want.contains_key(*k)).take(3);
            format!(
                "missing {:?}, extra {:?}",
                missing.collect::<Vec<_>>(),
                extra.collect::<Vec<_>>()
            )
        };
        assert!(
            got == want,
            "{table}: rows differ from a clean run: {}",
            diff()
        );
    }
}

// The pace survives a restart: a study killed after spending most of a minute's project
// quota, run again at once, waits for the minute instead of being refused (the
// simulator refuses past 20 a minute; the study paces at 18). Before the pace log, the
// new process started from an empty minute and was refused.
#[test]
fn a_restarted_study_paces_by_what_the_killed_run_sent() {
    use std::process::Stdio;
    let n = 8;
    let (env, _) = study_with(
        n,
        Config {
            google_project_rate_limit: 20,
            ..Config::default()
        },
    );
    let file = write_study(&env, "data", n, "project_requests_per_minute = 18");
    let mut cmd = env.cmd(&["run", file.to_str().unwrap(), "--quiet"]);
    cmd.stdin(Stdio::null());
    let start = env.sim.now();
    assert!(
        super::crash::kill_at(cmd, "staged:8"),
        "the run ended before the kill"
    );
    let (killed, refused) = served(&env);
    assert_eq!(refused, 0);
    // The kill came in a minute that had spent at least 10 of its 18.
    let minute = (env.sim.now() - start).num_minutes();
    assert!(
        killed as i64 - minute * 18 >= 10,
        "{killed} requests in {minute} whole minute(s): the kill came too early in its minute"
    );
    let again = env.run(&["run", file.to_str().unwrap(), "--json", "--quiet"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    let (total, refused) = served(&env);
    assert!(
        total > killed + 10,
        "the rerun sent only {} requests",
        total - killed
    );
    assert_eq!(refused, 0, "the restarted run was refused for the rate");
    assert!(env.dir.path().join("grants/pace").is_dir());
}

// The simulator's person 4 has a low battery and person 7's tracker stopped syncing on
// 2026-10-25 (nine days and a bit before the simulator's today): the coverage view names both, with
// why, and person 7's days after the last sync are not final; person 6's tracker syncs
// every fourth day only, so its last days wait for the next sync.
#[test]
fn a_low_battery_and_a_silent_tracker_are_named_with_why() {
    let (env, file) = study_with(
        7,
        Config {
            auto_consent: true,
            ..Config::default()
        },
    );
    let r = env.run(&["run", file.to_str().unwrap(), "--quiet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let st = env.run(&[
        "status",
        "--study",
        file.to_str().unwrap(),
        "--days",
        "16",
        "--json",
    ]);
    assert_eq!(st.code, 0, "{}", st.stderr);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    let by = |id: &str| participant(&v, id);
    let alerts = |id: &str| by(id)["alerts"].to_string();
    assert!(alerts("P04").contains("battery low"), "{}", by("P04"));
    assert!(
        alerts("P07").contains("has not synced for 9 days (since 2026-10-25 19:00 UTC)"),
        "{}",
        by("P07")
    );
    assert_eq!(alerts("P01"), "[]");
    let people = env.sim.people();
    let stopped = people[6].last_sync(env.sim.now());
    assert_eq!(
        by("P07")["tracker_synced"],
        stopped.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert_eq!(by("P07")["complete_through"], "2026-10-24");
    assert!(
        by("P07")["incomplete_days"].as_u64().unwrap() >= 10,
        "{}",
        by("P07")
    );
    // Every fourth day: the last sync was at most four days ago, at 20:00 local.
    let every4 = people[5].last_sync(env.sim.now());
    let local = every4.with_timezone(&people[5].tz);
    assert_eq!(local.format("%H:%M").to_string(), "20:00");
    assert!(env.sim.now() - every4 <= Duration::days(4));
    let through: NaiveDate = by("P06")["complete_through"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        through,
        local.date_naive() - Duration::days(1),
        "{}",
        by("P06")
    );
    let text = env.run(&["status", "--study", file.to_str().unwrap(), "--days", "16"]);
    assert!(
        text.stdout.contains("to contact: P04 (battery low")
            && text
                .stdout
                .contains("to contact: P07 (Charge 6 has not synced"),
        "{}",
        text.stdout
    );
}
