//! Server cost per request, by endpoint, against a baseline of the cheapest answer (a
//! 401 for a missing token). Run: `cargo bench -p fitpipe-sim`. Prints a markdown table.
//!
//! Figures are client-observed round trips on loopback with keep-alive, so they are an
//! upper bound on server time; the ratio to the baseline shows what the endpoint adds.

use std::time::Instant;

use fitpipe_sim::{Config, Sim};

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let sim = Sim::start(Config {
            auto_consent: true,
            rate_limit: u32::MAX,
            ..Config::default()
        })
        .await
        .unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let token = sim.issue_token(0, "activity heartrate sleep profile settings");
        let cases: [(&str, &str, bool); 7] = [
            (
                "baseline: 401 without token",
                "/1/user/-/profile.json",
                false,
            ),
            ("profile", "/1/user/-/profile.json", true),
            (
                "steps, 7 days",
                "/1/user/-/activities/steps/date/2026-09-01/2026-09-07.json",
                true,
            ),
            (
                "sleep by date",
                "/1.2/user/-/sleep/date/2026-09-02.json",
                true,
            ),
            (
                "heart intraday 1min, one day",
                "/1/user/-/activities/heart/date/2026-09-01/1d/1min.json",
                true,
            ),
            (
                "steps, 1095 days",
                "/1/user/-/activities/steps/date/2023-09-01/2026-08-30.json",
                true,
            ),
            (
                "sleep, 100 days",
                "/1.2/user/-/sleep/date/2026-06-01/2026-09-08.json",
                true,
            ),
        ];
        println!("| endpoint | requests | mean per request | vs baseline |");
        println!("|---|---|---|---|");
        let mut base = None;
        for (name, path, auth) in cases {
            let n = if path.contains("2023-09-01") || path.contains("06-01") {
                50
            } else {
                400
            };
            let url = format!("{}{path}", sim.base_url());
            for _ in 0..20 {
                let mut q = http.get(&url);
                if auth {
                    q = q.bearer_auth(&token);
                }
                q.send().await.unwrap().bytes().await.unwrap();
            }
            let t0 = Instant::now();
            for _ in 0..n {
                let mut q = http.get(&url);
                if auth {
                    q = q.bearer_auth(&token);
                }
                q.send().await.unwrap().bytes().await.unwrap();
            }
            let per = t0.elapsed().as_secs_f64() / n as f64 * 1e6;
            let b = *base.get_or_insert(per);
            println!("| {name} | {n} | {per:.0} µs | {:.1}x |", per / b);
        }
    });
}
