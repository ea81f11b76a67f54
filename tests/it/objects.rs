//! Object storage for every command: an S3-compatible server on loopback (moto, from CI's
//! Python) and `object_store`'s `file://` store. A dataset named by a URL is never a
//! local folder named after it; a withdrawal from a study on object storage leaves no
//! object of the participant.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::simenv::free_port;
use super::study::{files, study, study_at};

/// A moto S3 server on a loopback port with one bucket, killed when dropped.
pub struct Moto {
    pub python: String,
    pub endpoint: String,
    child: Child,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts moto and makes `bucket`; `None` (with a notice) where no Python has moto
    /// and pyarrow, which fails under `CI=true`.
    pub fn start(bucket: &str) -> Option<Moto> {
        let py = super::python_with("moto.server, pyarrow.fs")?;
        let port = free_port();
        let endpoint = format!("http://127.0.0.1:{port}");
        let child = Command::new(&py)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut moto = Moto {
            python: py,
            endpoint,
            child,
        };
        // Wait for it, then make the bucket (moto takes unsigned requests).
        let http = reqwest::blocking_free_put(&moto.endpoint, bucket, &mut moto.child);
        assert!(http, "moto did not start or refused the bucket");
        Some(moto)
    }

    /// The environment that points `object_store` at it.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// Every object key below `prefix` of `bucket`, listed over S3 by pyarrow.
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let script = r#"
import sys, pyarrow.fs as f
scheme, host = sys.argv[1].split("://", 1)
fs = f.S3FileSystem(endpoint_override=host, scheme=scheme, access_key="test", secret_key="test", region="us-east-1")
try:
    infos = fs.get_file_info(f.FileSelector(sys.argv[2], recursive=True))
except FileNotFoundError:
    infos = []
for i in infos:
    if i.type == f.FileType.File:
        print(i.path)
"#;
        let o = Command::new(&self.python)
            .args(["-c", script, &self.endpoint, &format!("{bucket}/{prefix}")])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(String::from)
            .collect()
    }
}

mod reqwest {
    //! The one blocking call the helper needs, on a runtime of its own.
    pub fn blocking_free_put(
        endpoint: &str,
        bucket: &str,
        child: &mut std::process::Child,
    ) -> bool {
        let http = ::reqwest::Client::new();
        let rt = tokio::runtime::Runtime::new().unwrap();
        for _ in 0..100 {
            if let Ok(r) = rt.block_on(http.put(format!("{endpoint}/{bucket}")).send()) {
                return r.status().is_success();
            }
            if child.try_wait().unwrap().is_some() {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        false
    }
}

/// `fitpipe ARGS` run in `dir`, with none of the caller's `FITPIPE_*` settings and its
/// config (tokens) in `dir/config`.
fn in_folder(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fitpipe"));
    for (k, _) in std::env::vars() {
        if k.starts_with("FITPIPE_") {
            c.env_remove(k);
        }
    }
    c.args(args)
        .current_dir(dir)
        .env("FITPIPE_CONFIG_DIR", dir.join("config"))
        .stdin(Stdio::null());
    c
}

/// Folders in `dir` whose names look like a URL's scheme (`s3:`, `file:`).
fn url_folders(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(':') || n == "data")
        .collect()
}

// Regression: `ingest --out s3://...` wrote a local folder named `s3:` and said it
// imported into the bucket. A `file://` URL goes through object storage too: the tables
// are objects, the demo's tokens are not, nothing lands in the working folder, and a
// second run continues from the stored sync state.
#[test]
fn ingest_status_and_import_to_a_file_url_write_objects_not_a_folder_named_after_it() {
    let work = tempfile::tempdir().unwrap();
    let bucket = work.path().join("bucket");
    std::fs::create_dir_all(&bucket).unwrap();
    let url = format!("file://{}/demo", bucket.display());
    let run =
        |args: &[&str]| -> super::Run { in_folder(work.path(), args).output().unwrap().into() };
    let r = run(&[
        "ingest",
        "--demo",
        "--from",
        "2026-11-20",
        "--quiet",
        "--out",
        &url,
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        url_folders(work.path()).is_empty(),
        "{:?}",
        url_folders(work.path())
    );
    let stored = files(&bucket.join("demo"));
    assert!(
        stored
            .keys()
            .any(|k| k.starts_with("daily_activity/") && k.ends_with(".parquet")),
        "{:?}",
        stored.keys()
    );
    assert!(
        stored.keys().all(|k| !k.contains("demo-config")),
        "{:?}",
        stored.keys()
    );
    assert!(bucket.join("demo/.fitpipe/state.json").exists());
    assert!(!bucket.join("demo/.fitpipe/lock").exists());
    // `--data` reads the same objects.
    let st = run(&["status", "--json", "--data", &url]);
    assert_eq!(st.code, 0, "{}", st.stderr);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    let daily = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "daily_activity")
        .unwrap();
    assert!(daily["rows"].as_u64().unwrap() >= 10, "{daily}");
    // An import into the same URL adds its rows beside them.
    let fixtures = super::fixtures();
    let r = run(&[
        "import",
        "json",
        fixtures.to_str().unwrap(),
        "--quiet",
        "--data",
        &url,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(&url) || r.stdout.contains("daily_activity"),
        "{}",
        r.stderr
    );
    let after = files(&bucket.join("demo"));
    assert!(after.len() >= stored.len());
    assert!(url_folders(work.path()).is_empty());
}

// `fitpipe ingest --demo --out s3://bucket/x` puts the tables in the bucket (read back
// over S3 with pyarrow) and creates no local folder.
#[test]
fn ingest_demo_to_s3_puts_the_tables_in_the_bucket() {
    let Some(moto) = Moto::start("fitpipe-demo") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let r: super::Run = in_folder(
        work.path(),
        &[
            "ingest",
            "--demo",
            "--from",
            "2026-11-20",
            "--quiet",
            "--out",
            "s3://fitpipe-demo/x",
        ],
    )
    .envs(moto.env())
    .output()
    .unwrap()
    .into();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        url_folders(work.path()).is_empty(),
        "{:?}",
        url_folders(work.path())
    );
    let keys = moto.keys("fitpipe-demo", "x");
    assert!(keys.iter().all(|k| !k.contains("demo-config")), "{keys:?}");
    let back = Command::new(&moto.python)
        .arg(super::repo().join("scripts/s3_readback.py"))
        .arg(&moto.endpoint)
        .arg("fitpipe-demo/x")
        .args(["daily_activity", "sleep_sessions", "profile"])
        .envs(moto.env())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&back.stdout);
    assert!(
        back.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&back.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for t in ["daily_activity", "sleep_sessions", "profile"] {
        assert_eq!(v[t]["unique_keys"], true, "{t}: {v}");
        assert!(v[t]["rows"].as_u64().unwrap() >= 1, "{t}: {v}");
    }
}

// Regression: `forget --study` on a study whose `out` is object storage removed 0 rows
// under a stray `./data`, ignored the study's client and API, and left every object of
// the participant in the bucket. Now: every object of theirs goes, nobody else's changes,
// the grant is revoked with the study's client, and a disagreeing `--out` is refused.
#[test]
fn a_withdrawal_from_a_study_on_object_storage_leaves_no_object_of_theirs() {
    let (env, _) = study(3);
    let bucket = env.dir.path().join("bucket");
    std::fs::create_dir_all(&bucket).unwrap();
    let url = format!("file://{}/study", bucket.display());
    let file = study_at(&env, "remote", 3, &url);
    let r = env.run(&["run", file.to_str().unwrap(), "--quiet"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let before = files(&bucket.join("study"));
    assert!(before.keys().filter(|k| k.contains("P02")).count() >= 5);
    // Another output than the study's is refused, before anything is removed.
    let r = env.run(&[
        "forget",
        "--user",
        "P02",
        "--study",
        file.to_str().unwrap(),
        "--data",
        "elsewhere",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("not the study's output"), "{}", r.stderr);
    assert_eq!(files(&bucket.join("study")), before);
    let r = env
        .cmd(&["forget", "--user", "P02", "--study", file.to_str().unwrap()])
        .env_remove("FITPIPE_CLIENT_ID")
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    let r: super::Run = r.into();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("revoked the grant"), "{}", r.stdout);
    let after = files(&bucket.join("study"));
    let left: Vec<_> = after.keys().filter(|k| k.contains("P02")).collect();
    assert!(left.is_empty(), "{left:?}");
    for (k, v) in &before {
        if !k.contains("P02") {
            assert!(after.get(k) == Some(v), "{k} changed");
        }
    }
    assert!(!env.dir.path().join("data").exists(), "a stray ./data");
    let store = fitpipe_ingest::store::TokenStore::new(&env.dir.path().join("grants"));
    assert!(store.load("google-health", "P02").unwrap().is_none());
}

// The same on S3 (moto): no object of the participant is left in the bucket.
#[test]
fn a_withdrawal_from_a_study_on_s3_leaves_no_object_of_theirs() {
    let Some(moto) = Moto::start("fitpipe-study") else {
        return;
    };
    let (env, _) = study(3);
    let file = study_at(&env, "s3", 3, "s3://fitpipe-study/s");
    let r: super::Run = env
        .cmd(&["run", file.to_str().unwrap(), "--quiet"])
        .envs(moto.env())
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let before = moto.keys("fitpipe-study", "s");
    assert!(
        before.iter().filter(|k| k.contains("P02")).count() >= 5,
        "{before:?}"
    );
    let r: super::Run = env
        .cmd(&["forget", "--user", "P02", "--study", file.to_str().unwrap()])
        .envs(moto.env())
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let after = moto.keys("fitpipe-study", "s");
    assert!(after.iter().all(|k| !k.contains("P02")), "{after:?}");
    let others: Vec<_> = before.iter().filter(|k| !k.contains("P02")).collect();
    assert_eq!(after.iter().collect::<Vec<_>>(), others);
}
