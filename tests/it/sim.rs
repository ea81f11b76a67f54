//! `fitpipe sim` standalone.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn sim_command_prints_a_ready_environment_and_serves() {
    let scenario = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        scenario.path(),
        "rate_limit = 5\nfaults = [{ kind = { status = 503 }, count = 1 }]\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fitpipe"))
        .args([
            "sim",
            "--port",
            "0",
            "--auto-consent",
            "--scenario",
            scenario.path().to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    let mut base = None;
    for _ in 0..6 {
        let mut l = String::new();
        out.read_line(&mut l).unwrap();
        if let Some(b) = l.trim().strip_prefix("export FITPIPE_API_BASE=") {
            base = Some(b.to_string());
        }
        lines.push(l);
    }
    let base = base.unwrap_or_else(|| panic!("{lines:?}"));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("export FITPIPE_CLIENT_ID=")));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        reqwest::get(format!("{base}/1/user/-/profile.json"))
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 401, "no token, no data");
    let _ = child.kill();
    let _ = child.wait();
}
