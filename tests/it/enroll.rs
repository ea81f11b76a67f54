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

    let mut child = env
        .cmd(&["enroll", study.to_str().unwrap(), "serve"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let _page = Page(child);
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("listening"), "{line}");
    std::thread::spawn(move || for _ in err.lines() {});

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
    let enrolled: Value =
        serde_json::from_slice(&std::fs::read(grants.join("enrolled.json")).unwrap()).unwrap();
    assert_eq!(enrolled["P01"]["account_id"], person.health_user_id());
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
    let mut child = env
        .cmd(&["enroll", study.to_str().unwrap(), "serve"])
        .env("FITPIPE_CLIENT_SECRET", env.sim.google_client_secret())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let _page = Page(child);
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
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
