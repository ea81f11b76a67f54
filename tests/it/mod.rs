//! Helpers: a temp dir per test and a `fitpipe` command.

mod crash;
mod enroll;
mod flags;
mod golden;
mod google;
mod import_json;
mod ingest;
mod library;
mod messy;
mod new_types;
mod objects;
mod plot;
mod quality;
mod schema;
mod sim;
mod simenv;
mod study;
mod takeout;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The package folder, as `cargo test` gives it at run time (not the one a reused test
/// binary was built in, which may be another checkout's).
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), PathBuf::from)
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into(),
            stderr: String::from_utf8_lossy(&o.stderr).into(),
        }
    }
}

pub fn fitpipe(args: &[&str]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fitpipe"));
    c.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("FITPIPE_") {
            c.env_remove(k);
        }
    }
    c.output().expect("run fitpipe").into()
}

pub fn repo() -> PathBuf {
    manifest_dir()
}

pub fn fixtures() -> PathBuf {
    repo().join("crates/transform/tests/fixtures/fitbit")
}

/// ../shared/reference/samples/fitbit-web-api, or None (with a notice).
pub fn samples() -> Option<PathBuf> {
    let d = repo().join("../shared/reference/samples/fitbit-web-api");
    if d.is_dir() {
        Some(d)
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} is absent, and CI=true: the reference samples must be there",
            d.display()
        );
        eprintln!("notice: {} is absent; test skipped", d.display());
        None
    }
}

/// Every file below `dir` with its bytes.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    fn walk(d: &Path, root: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A PNG decoded to 8-bit RGB (the charts fitpipe writes).
pub struct Picture {
    pub width: u32,
    pub height: u32,
    rgb: Vec<u8>,
}

impl Picture {
    pub fn open(path: &Path) -> Picture {
        let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
        let mut reader = dec.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        buf.truncate(info.buffer_size());
        Picture {
            width: info.width,
            height: info.height,
            rgb: buf,
        }
    }

    pub fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    pub fn get_pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }
}

/// The test Python (`FITPIPE_TEST_PYTHON`, else `python3`) if it imports `modules` (e.g.
/// `"duckdb"`, `"moto.server, pyarrow.fs"`); `None` with a notice where it does not,
/// which fails under `CI=true` (CI installs them).
pub fn python_with(modules: &str) -> Option<String> {
    let py = std::env::var("FITPIPE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py)
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(py);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI must provide a Python with {modules} (FITPIPE_TEST_PYTHON)"
    );
    eprintln!("skipped: no Python with {modules} (set FITPIPE_TEST_PYTHON)");
    None
}
