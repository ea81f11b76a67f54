//! A running simulator plus a config folder and output folder for one test, and a
//! `fitpipe` command wired to them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fitpipe_sim::{Config, Sim};

use super::Run;

pub struct SimEnv {
    pub rt: tokio::runtime::Runtime,
    pub sim: Sim,
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// Commands use `--provider google-health` and the Google client.
    pub google: bool,
}

/// The simulated now of every test environment.
pub const START: &str = "2026-11-04T15:10:00Z";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SimEnv {
    pub fn new(cfg: Config) -> SimEnv {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let port = free_port();
        // The simulated now, frozen on a fixed date so the DST changes of 2026 (March 8
        // and November 1 in New York) stay inside the ranges tests fetch, whatever day the
        // tests run on.
        let start = START.parse().unwrap();
        let cfg = Config {
            start,
            redirect_uris: vec![format!("http://127.0.0.1:{port}/")],
            ..cfg
        };
        let sim = rt.block_on(Sim::start(cfg)).unwrap();
        SimEnv {
            rt,
            sim,
            dir: tempfile::tempdir().unwrap(),
            port,
            google: false,
        }
    }

    pub fn auto() -> SimEnv {
        Self::new(Config {
            auto_consent: true,
            ..Config::default()
        })
    }

    pub fn out(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fitpipe"));
        c.args(args);
        for (k, _) in std::env::vars() {
            if k.starts_with("FITPIPE_") {
                c.env_remove(k);
            }
        }
        c.env("FITPIPE_CONFIG_DIR", self.config())
            .env("FITPIPE_API_BASE", self.sim.base_url())
            .env("FITPIPE_CLIENT_ID", self.sim.client_id())
            .env("FITPIPE_CLIENT_SECRET", self.sim.client_secret())
            .env("FITPIPE_SIM_CONTROL", self.sim.base_url())
            .env("FITPIPE_RETRY_BASE_MS", "1")
            .env("FITPIPE_HTTP_TIMEOUT_MS", "3000")
            .env("FITPIPE_OUT", self.out())
            .stdin(Stdio::null());
        if self.google {
            c.env("FITPIPE_PROVIDER", "google-health")
                .env("FITPIPE_CLIENT_ID", self.sim.google_client_id())
                .env("FITPIPE_CLIENT_SECRET", self.sim.google_client_secret());
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.cmd(args).output().unwrap().into()
    }

    /// Starts `fitpipe auth --no-browser`, returns the child and the authorization URL.
    pub fn start_auth(
        &self,
        extra: &[&str],
    ) -> (Child, String, BufReader<std::process::ChildStderr>) {
        let redirect = format!("http://127.0.0.1:{}/", self.port);
        let mut args = vec!["auth", "--no-browser", "--redirect-uri", redirect.as_str()];
        if !self.google {
            // A first `auth` defaults to the live Google Health API.
            args.extend_from_slice(&["--provider", "fitbit-web-api"]);
        }
        args.extend_from_slice(extra);
        let mut child = self
            .cmd(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let mut seen = String::new();
        let url = loop {
            line.clear();
            if err.read_line(&mut line).unwrap() == 0 {
                let status = child.wait().unwrap();
                panic!("auth ended ({status}) before printing a URL; it said:\n{seen}");
            }
            seen.push_str(&line);
            if let Some(u) = line.trim().strip_prefix("http") {
                break format!("http{u}");
            }
        };
        // Give the listener a moment to be ready (it binds before printing).
        (child, url, err)
    }

    /// The whole OAuth flow: fitpipe auth, and a "browser" that follows the consent;
    /// returns what auth wrote to stderr after the URL.
    pub fn authorise(&self) -> String {
        let (child, url, mut err) = self.start_auth(&[]);
        self.rt.block_on(async {
            let _ = reqwest::get(&url).await.unwrap();
        });
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "auth failed: {}{rest}",
            String::from_utf8_lossy(&out.stdout)
        );
        rest
    }

    pub fn requests(&self) -> u64 {
        self.sim.stats().users.values().map(|u| u.requests).sum()
    }

    pub fn rate_limited(&self) -> u64 {
        self.sim
            .stats()
            .users
            .values()
            .map(|u| u.rate_limited)
            .sum()
    }
}

pub fn wait_exit(child: &mut Child, secs: u64) -> Option<std::process::ExitStatus> {
    for _ in 0..secs * 20 {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Rows and duplicate keys of a table, read back from its Parquet files.
pub fn table_keys(out: &Path, table: &str, key: &[&str]) -> (usize, usize) {
    use arrow::array::Array;
    use arrow::util::display::{ArrayFormatter, FormatOptions};
    let mut seen = std::collections::HashSet::new();
    let mut rows = 0;
    let Ok(rd) = std::fs::read_dir(out.join(table)) else {
        return (0, 0);
    };
    for f in rd {
        let p = f.unwrap().path();
        if p.extension().is_none_or(|e| e != "parquet") {
            continue;
        }
        let r = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            std::fs::File::open(&p).unwrap(),
        )
        .unwrap()
        .build()
        .unwrap();
        for b in r {
            let b = b.unwrap();
            let cols: Vec<_> = key
                .iter()
                .map(|k| b.column(b.schema().index_of(k).unwrap()).clone())
                .collect();
            let opts = FormatOptions::default();
            let fmts: Vec<_> = cols
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
                .collect();
            for i in 0..b.num_rows() {
                let k: Vec<String> = fmts.iter().map(|f| f.value(i).to_string()).collect();
                assert!(cols.iter().all(|c| c.is_valid(i)));
                seen.insert(k);
                rows += 1;
            }
        }
    }
    (rows, rows - seen.len())
}
