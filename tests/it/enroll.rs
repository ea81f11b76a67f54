//! The enrollment page in a real headless Chromium (driven over WebDriver by Debian's
//! chromedriver) against the simulator's Google consent page: open the signed link,
//! press the button, choose the account, allow, land on the thank-you page, and find the
//! grant stored for the study id. Then the refusals: a forged link, a replayed callback,
//! a used link, a denied consent.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use fitpipe_sim::Config;
use serde_json::{json, Value};

use super::simenv::{free_port, SimEnv};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A WebDriver session of headless Chromium.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start() -> Option<Browser> {
        if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI must install chromium and chromium-driver"
            );
            eprintln!("skipped: {CHROMEDRIVER} or {CHROMIUM} is not installed");
            return None;
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         format!("--user-data-dir={}", profile.path().display())]
            }
        }}});
        // The driver takes a moment to listen.
        let mut session = None;
        for _ in 0..100 {
            let r = rt.block_on(http.post(format!("{base}/session")).json(&caps).send());
            if let Ok(r) = r {
                let v: Value = rt.block_on(r.json()).unwrap();
                session = Some(
                    v["value"]["sessionId"]
                        .as_str()
                        .unwrap_or_else(|| panic!("no session: {v}"))
                        .to_string(),
                );
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Some(Browser {
            driver,
            base,
            session: session.expect("chromedriver did not start"),
            http,
            rt,
            _profile: profile,
        })
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let req = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url).json(&body),
        };
        let v: Value = self
            .rt
            .block_on(async { req.send().await.unwrap().json().await.unwrap() });
        if v["value"].get("error").is_some() {
            panic!("WebDriver {method} {path}: {v}");
        }
        v["value"].clone()
    }

    fn open(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url }));
    }

    fn click(&self, css: &str) {
        let e = self.call(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        let id = e["element-6066-11e4-a52e-4f735466cecf"].as_str().unwrap();
        self.call("POST", &format!("/element/{id}/click"), json!({}));
    }

    fn text(&self) -> String {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": "return document.body.innerText", "args": []}),
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// The page's text once it contains `want` (navigations finish after a click
    /// returns), or what it shows after 10 seconds.
    fn wait_for(&self, want: &str) -> String {
        let mut text = String::new();
        for _ in 0..100 {
            text = self.text();
            if text.contains(want) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        text
    }

    fn url(&self) -> String {
        self.call("GET", "/url", json!({}))
            .as_str()
            .unwrap()
            .to_string()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.rt.block_on(
            self.http
                .delete(format!("{}/session/{}", self.base, self.session))
                .send(),
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

struct Page(Child);

impl Drop for Page {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `fitpipe enroll STUDY serve` (as `cmd` says) and waits until it listens.
fn serve_page(mut cmd: Command) -> Page {
    let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let page = Page(child);
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("listening"), "{line}");
    std::thread::spawn(move || for _ in err.lines() {});
    page
}

#[test]
fn a_participant_enrolls_in_a_real_browser_and_the_refusals_hold() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let mut env = SimEnv::new(Config {
        users: 3,
        ..Config::default()
    });
    env.google = true;
    let port = free_port();
    let grants = env.dir.path().join("grants");
    let study = env.dir.path().join("study.toml");
    std::fs::write(
        &study,
        format!(
            r#"study = "sleep-2026"
provider = "google-health"
client_id = "{client}"
api_base = "{base}"
out = "{out}"
grants = "{grants}"
participants = ["P01", "P02"]
[enroll]
listen = "127.0.0.1:{port}"
public_url = "http://127.0.0.1:{port}"
description = "Your steps, heart rate and sleep for 90 days."
"#,
            client = env.sim.google_client_id(),
            base = env.sim.base_url(),
            out = env.dir.path().join("data").display(),
            grants = grants.display(),
        ),
    )
    .unwrap();
    let links = env.run(&["enroll", study.to_str().unwrap(), "link"]);
    assert_eq!(links.code, 0, "{}", links.stderr);
    let link_of = |id: &str| {
        links
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{id}\t")))
            .unwrap()
            .to_string()
    };
    let (p1, p2) = (link_of("P01"), link_of("P02"));
    // The key is the study's secret, kept 0600.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(grants.join("link.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let _page = serve_page(env.cmd(&["enroll", study.to_str().unwrap(), "serve"]));

    // P01: the link, the button, the account, Allow, thank you.
    browser.open(&p1);
    let text = browser.text();
    assert!(text.contains("P01") && text.contains("90 days"), "{text}");
    browser.click("#consent");
    let text = browser.wait_for("wants access to your Google Account");
    assert!(
        browser.url().starts_with(&env.sim.base_url()),
        "{}: {text}",
        browser.url()
    );
    let person = &env.sim.people()[1];
    browser.click(&format!(
        "select[name=user] option[value=\"{}\"]",
        person.id
    ));
    browser.click("button[value=allow]");
    let text = browser.wait_for("Thank you");
    assert!(text.contains("Thank you"), "{text}");
    let callback = browser.url();
    assert!(callback.contains("/callback?"), "{callback}");
    // The grant is stored for the study id, the account id only in the enrollment record.
    let store = fitpipe_ingest::store::TokenStore::new(&grants);
    let t = store
        .load("google-health", "P01")
        .unwrap()
        .expect("grant stored");
    assert!(t.refresh_token.is_some());
    let log = std::fs::read_to_string(grants.join("consent.log")).unwrap();
    let enrolled: Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(enrolled["id"], "P01");
    assert_eq!(enrolled["account_id"], person.health_user_id());
    assert!(!text.contains(&person.health_user_id()) && !text.contains(t.access_token.secret()));

    // A replayed callback is refused, and so is the used link.
    browser.open(&callback);
    let text = browser.wait_for("already completed");
    assert!(text.contains("already completed"), "{text}");
    browser.open(&p1);
    let text = browser.wait_for("already used");
    assert!(text.contains("already used"), "{text}");
    // A forged link (P02's id with P01's signature) is refused.
    let forged = p1.replace("/e/P01.", "/e/P02.");
    browser.open(&forged);
    let text = browser.wait_for("not valid");
    assert!(text.contains("not valid"), "{text}");
    // P02 declines at the consent page: nothing stored, the link still works.
    browser.open(&p2);
    browser.click("#consent");
    browser.wait_for("wants access to your Google Account");
    browser.click("button[value=deny]");
    let text = browser.wait_for("nothing was stored");
    assert!(text.contains("nothing was stored"), "{text}");
    assert!(store.load("google-health", "P02").unwrap().is_none());
    browser.open(&p2);
    let text = browser.wait_for("Continue to Google");
    assert!(text.contains("Continue to Google"), "{text}");

    // The enrolled participant's data comes in with the study run.
    let r = env.run(&["run", study.to_str().unwrap()]);
    // Someone not enrolled yet does not fail the run.
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("P01") && l.contains(" ok ")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("P02") && l.contains("not-enrolled")),
        "{}",
        r.stdout
    );
}

// Without a browser: a POST without the page's CSRF cookie is refused.
#[test]
fn a_consent_post_without_the_page_is_refused() {
    let env = SimEnv::new(Config::default());
    let port = free_port();
    let study = env.dir.path().join("study.toml");
    std::fs::write(
        &study,
        format!(
            "study = \"s1\"\nprovider = \"google-health\"\nclient_id = \"{}\"\napi_base = \"{}\"\ngrants = \"{}\"\nparticipants = [\"P01\"]\n[enroll]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n",
            env.sim.google_client_id(),
            env.sim.base_url(),
            env.dir.path().join("grants").display()
        ),
    )
    .unwrap();
    let link = env.run(&["enroll", study.to_str().unwrap(), "link", "P01"]);
    assert_eq!(link.code, 0, "{}", link.stderr);
    let url = link.stdout.trim().split('\t').nth(1).unwrap().to_string();
    let mut serve = env.cmd(&["enroll", study.to_str().unwrap(), "serve"]);
    serve.env("FITPIPE_CLIENT_SECRET", env.sim.google_client_secret());
    let _page = serve_page(serve);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    env.rt.block_on(async {
        let page = http.get(&url).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let body = page.text().await.unwrap();
        let csrf = body
            .split("name=csrf value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        // The right token but no cookie: a cross-site form.
        let r = http
            .post(&url)
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        // An unknown `state` at the callback.
        let r = http
            .get(format!(
                "http://127.0.0.1:{port}/callback?code=x&state=forged"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        // A link for someone off the roster, signed with the wrong key.
        let r = http
            .get(url.replace("/e/P01.", "/e/P99."))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    });
}

/// A consent page served for `n` participants `P01`... of a Google study on the
/// simulator (one simulated person each), with the links printed by `fitpipe enroll`.
struct Served {
    env: SimEnv,
    study: std::path::PathBuf,
    grants: std::path::PathBuf,
    port: u16,
    _page: Page,
}

impl Served {
    fn start(n: usize) -> Served {
        let mut env = SimEnv::new(Config {
            users: n,
            ..Config::default()
        });
        env.google = true;
        let port = free_port();
        let grants = env.dir.path().join("grants");
        let study = env.dir.path().join("study.toml");
        let ids: Vec<String> = (1..=n).map(|i| format!("\"P{i:02}\"")).collect();
        std::fs::write(
            &study,
            format!(
                "study = \"s1\"\nprovider = \"google-health\"\nclient_id = \"{}\"\napi_base = \"{}\"\nout = \"{}\"\ngrants = \"{}\"\nparticipants = [{}]\n[enroll]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n",
                env.sim.google_client_id(),
                env.sim.base_url(),
                env.dir.path().join("data").display(),
                grants.display(),
                ids.join(", "),
            ),
        )
        .unwrap();
        let page = serve_page(env.cmd(&["enroll", study.to_str().unwrap(), "serve"]));
        Served {
            env,
            study,
            grants,
            port,
            _page: page,
        }
    }

    /// Fresh links, by study id.
    fn links(&self, ids: &[&str]) -> std::collections::BTreeMap<String, String> {
        let mut args = vec!["enroll", self.study.to_str().unwrap(), "link"];
        args.extend(ids);
        let r = self.env.run(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// The consent record's events, as written.
    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.grants.join("consent.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn cookie_of(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

/// A participant's whole consent over HTTP, as a browser would do it: the page, the
/// button, the simulator's consent screen (as `account`, allowing every scope), the
/// callback. Returns the callback's status and page.
async fn consent_as(http: &reqwest::Client, sim: &str, link: &str, account: &str) -> (u16, String) {
    let page = http.get(link).send().await.unwrap();
    if page.status() != 200 {
        let st = page.status().as_u16();
        return (st, page.text().await.unwrap());
    }
    let csrf = cookie_of(&page, "fp_csrf").unwrap();
    let r = http
        .post(link)
        .header("cookie", format!("fp_csrf={csrf}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let state = cookie_of(&r, "fp_state").unwrap();
    let auth = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let q: std::collections::HashMap<String, String> = auth.query_pairs().into_owned().collect();
    let mut form: Vec<(String, String)> = [
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "access_type",
        "prompt",
    ]
    .iter()
    .map(|k| (k.to_string(), q.get(*k).cloned().unwrap_or_default()))
    .collect();
    form.push(("user".into(), account.into()));
    form.push(("decision".into(), "allow".into()));
    for s in q["scope"].split(' ') {
        form.push(("granted".into(), s.into()));
    }
    let r = http
        .post(format!("{sim}/o/oauth2/v2/auth"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let callback = r.headers()["location"].to_str().unwrap().to_string();
    let r = http
        .get(&callback)
        .header("cookie", format!("fp_state={state}"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

// Regression: `record_enrolled` read and rewrote enrolled.json without a lock, so people
// finishing their consent together lost each other's records (and a lost record let a
// used link enroll again). 30 consents at once: 30 records, 30 grants, every link used.
#[test]
fn thirty_people_enrolling_at_once_give_thirty_records_and_grants() {
    let n = 30;
    let s = Served::start(n);
    let links = s.links(&[]);
    assert_eq!(links.len(), n);
    let people = s.env.sim.people();
    let sim = s.env.sim.base_url();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let results = s.env.rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for (i, p) in people.iter().enumerate() {
            let (http, sim) = (http.clone(), sim.clone());
            let link = links[&format!("P{:02}", i + 1)].clone();
            let account = p.id.clone();
            set.spawn(async move { consent_as(&http, &sim, &link, &account).await });
        }
        set.join_all().await
    });
    for (status, page) in &results {
        assert_eq!(*status, 200, "{page}");
        assert!(page.contains("Thank you"), "{page}");
    }
    let events = s.events();
    assert_eq!(events.len(), n, "{events:?}");
    let store = fitpipe_ingest::store::TokenStore::new(&s.grants);
    for (i, p) in people.iter().enumerate() {
        let id = format!("P{:02}", i + 1);
        let ev: Vec<_> = events.iter().filter(|e| e["id"] == id).collect();
        assert_eq!(ev.len(), 1, "{id}: {ev:?}");
        assert_eq!(ev[0]["event"], "enrolled");
        assert_eq!(ev[0]["account_id"], p.health_user_id(), "{id}");
        assert!(store.load("google-health", &id).unwrap().is_some(), "{id}");
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(s.grants.join("consent.log"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Every link is used now, whoever opens it.
    s.env.rt.block_on(async {
        let (status, page) = consent_as(&http, &sim, &links["P07"], &people[6].id).await;
        assert_eq!(status, 410, "{page}");
        assert!(page.contains("already used"), "{page}");
    });
}

// A withdrawal keeps a record: the participant's unexpired link no longer enrolls them
// (their account id struck from the record), until the study team readmits them. A
// consent through a new link with another account is recorded and reported. A damaged
// consent record refuses every link (fails closed).
#[test]
fn a_withdrawn_participant_cannot_enroll_again_silently_and_a_damaged_record_fails_closed() {
    let s = Served::start(3);
    let people = s.env.sim.people();
    let sim = s.env.sim.base_url();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let first = s.links(&["P01", "P02"]);
    s.env.rt.block_on(async {
        let (st, page) = consent_as(&http, &sim, &first["P01"], &people[0].id).await;
        assert_eq!(st, 200, "{page}");
    });
    let r = s.env.run(&[
        "forget",
        "--user",
        "P01",
        "--study",
        s.study.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("recorded the withdrawal"), "{}", r.stdout);
    let events = s.events();
    let last = events.last().unwrap();
    assert_eq!(last["event"], "withdrawn");
    assert_eq!(last["id"], "P01");
    let log = std::fs::read_to_string(s.grants.join("consent.log")).unwrap();
    assert!(
        !log.contains(&people[0].health_user_id()),
        "the account id stays after withdrawal: {log}"
    );
    // No link of theirs works, an unused one included; `enroll link` skips them.
    let again = s.links(&["P01"]);
    s.env.rt.block_on(async {
        let (st, page) = consent_as(&http, &sim, &again["P01"], &people[0].id).await;
        assert_eq!(st, 410, "{page}");
        assert!(page.contains("withdrawn"), "{page}");
    });
    let pending = s.links(&[]);
    assert!(!pending.contains_key("P01"), "{pending:?}");
    // Readmitted, a new link works; with another account it is reported as such.
    let r = s
        .env
        .run(&["enroll", s.study.to_str().unwrap(), "readmit", "P01"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let fresh = s.links(&["P01"]);
    s.env.rt.block_on(async {
        let (st, page) = consent_as(&http, &sim, &fresh["P01"], &people[2].id).await;
        assert_eq!(st, 200, "{page}");
    });
    let events = s.events();
    assert_eq!(
        events.last().unwrap()["account_id"],
        people[2].health_user_id()
    );
    // A damaged record: every link is refused, none enrolls.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(s.grants.join("consent.log"))
        .unwrap();
    use std::io::Write as _;
    f.write_all(b"{not json\n").unwrap();
    s.env.rt.block_on(async {
        let (st, page) = consent_as(&http, &sim, &first["P02"], &people[1].id).await;
        assert_eq!(st, 503, "{page}");
    });
    let store = fitpipe_ingest::store::TokenStore::new(&s.grants);
    assert!(store.load("google-health", "P02").unwrap().is_none());
    let _ = s.port;
}

// Regression: `axum::serve` ran without a header-read timeout, so 1,200 connections that
// sent half a request were all still held after 42 s. Now a half-sent request is closed
// within 30 s, a real request is served meanwhile, and every page carries the security
// headers.
#[test]
fn half_sent_requests_are_closed_and_real_ones_served_meanwhile() {
    use std::io::{Read as _, Write as _};
    let s = Served::start(1);
    let links = s.links(&["P01"]);
    let mut held: Vec<std::net::TcpStream> = (0..200)
        .map(|_| {
            let mut c = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
            c.write_all(b"GET /e/x HTTP/1.1\r\nHost: a\r\nX-Slow: ")
                .unwrap();
            c
        })
        .collect();
    let started = std::time::Instant::now();
    let http = reqwest::Client::new();
    s.env.rt.block_on(async {
        let r = http.get(&links["P01"]).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let h = r.headers();
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["content-security-policy"], "frame-ancestors 'none'");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["cache-control"], "no-store");
    });
    for c in &mut held {
        c.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let mut buf = [0u8; 512];
        // Closed by the server: end of stream (or a reset, or a 408 then the end).
        loop {
            match c.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "a half-sent request was held for {:?}",
            started.elapsed()
        );
    }
}

// Fuzzing the consent page's routes: random paths, methods, cookies, forms and query
// strings (a seeded generator, so a failure repeats). No panic, no 5xx but the one meant
// (503: busy), and the page still serves a real link afterwards.
#[test]
fn random_requests_to_the_consent_page_get_no_5xx_and_do_not_stop_it() {
    let s = Served::start(2);
    let links = s.links(&["P01"]);
    let link = links["P01"].clone();
    let base = format!("http://127.0.0.1:{}", s.port);
    let mut seed: u64 = 0x5eed_f17b;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let token = link.rsplit("/e/").next().unwrap().to_string();
    let pieces = [
        "",
        "e",
        "callback",
        "%00",
        "..",
        "%2e%2e",
        "e/",
        "P01",
        "P99",
        "%ff",
        "😀",
        "a.b.c",
        "P01.1.x",
        "P01.99999999999999999999-x.sig",
        "P01.-1.sig",
        &token,
        "?state=",
        "?code=x&state=y",
        "?error=%1b%5b31m",
        "?state=&code=",
    ];
    // A connection of its own per request: the server closes one whose oversize body it
    // refused, and a pooled client would race that close with its next request.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    s.env.rt.block_on(async {
        for _ in 0..600 {
            let mut path = String::new();
            for _ in 0..(next() % 4) {
                path.push('/');
                path.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            }
            if path.is_empty() {
                path.push('/');
            }
            let url = format!("{base}{path}");
            let Ok(url) = reqwest::Url::parse(&url) else {
                continue;
            };
            let mut req = match next() % 3 {
                0 => http.get(url),
                1 => http.post(url),
                _ => http.request(reqwest::Method::PUT, url),
            };
            if next() % 2 == 0 {
                let v = pieces[(next() % pieces.len() as u64) as usize];
                req = req.header(
                    "cookie",
                    format!("fp_csrf={}; fp_state={}", v.escape_default(), next()),
                );
            }
            // A body over the page's 16 KiB limit: the server may answer and close
            // before the client has sent it all (a broken pipe, not a failure).
            let mut oversize = false;
            match next() % 4 {
                0 => req = req.form(&[("csrf", pieces[(next() % 8) as usize])]),
                1 => {
                    let n = (next() % 40_000) as usize;
                    oversize = n > 16 * 1024;
                    req = req.body(vec![b'x'; n])
                }
                2 => {
                    req = req
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body("csrf=%zz&&==")
                }
                _ => {}
            }
            let r = match req.send().await {
                Ok(r) => r,
                Err(e) if oversize => {
                    *statuses.entry(413).or_default() += 1;
                    eprintln!("oversize body cut off: {e}");
                    continue;
                }
                Err(e) => panic!("{e}"),
            };
            let st = r.status().as_u16();
            *statuses.entry(st).or_default() += 1;
            assert!(st < 500 || st == 503, "{st} for {}", r.url());
        }
        // Still serving.
        let r = http.get(&link).send().await.unwrap();
        assert_eq!(r.status(), 200);
    });
    assert!(statuses.len() >= 3, "{statuses:?}");
}
