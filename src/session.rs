//! Resolves flags, config file and environment into an API client for one user.

use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};
use fitpipe_ingest::client::{ApiClient, Options, Reporter};
use fitpipe_ingest::clock::{Clock, ExternalClock, SystemClock};
use fitpipe_ingest::fitbit::{self, PROVIDER};
use fitpipe_ingest::oauth::OAuthApp;
use fitpipe_ingest::store::{TokenStore, Tokens};
use oauth2::ClientSecret;

use crate::config::{self, Config, DEFAULT_REDIRECT, FITBIT_API};
use crate::env;
use crate::output::hint;

/// Everything needed to talk to the provider as an app.
pub struct AppSettings {
    pub app: OAuthApp,
    pub api_base: String,
}

/// Builds the OAuth app from flags, environment and config file.
pub fn app(
    client_id: Option<String>,
    redirect: Option<String>,
    api_base: Option<String>,
    need_secret: bool,
) -> anyhow::Result<AppSettings> {
    let cfg = Config::load()?.provider(PROVIDER);
    let api_base = api_base
        .or(cfg.api_base.clone())
        .unwrap_or_else(|| FITBIT_API.to_string());
    let client_id = client_id.or(cfg.client_id.clone()).ok_or_else(|| {
        hint(
            "no OAuth client id",
            "pass `--client-id` (from your app's page) to `fitpipe auth`, or try `fitpipe ingest --demo`",
        )
    })?;
    let secret = env::get(env::CLIENT_SECRET).or(cfg.client_secret.clone());
    if need_secret && secret.is_none() {
        return Err(hint(
            "no client secret",
            format!(
                "set `{}` (it is never taken as a flag) or add `client_secret` to `{}`",
                env::CLIENT_SECRET,
                config::dir()?.join("config.toml").display()
            ),
        ));
    }
    let (auth_url, token_url, revoke_url) = fitbit::endpoints(&api_base);
    Ok(AppSettings {
        app: OAuthApp {
            auth_url,
            token_url,
            revoke_url,
            client_id,
            client_secret: secret.map(ClientSecret::new),
            redirect_uri: redirect
                .or(cfg.redirect_uri)
                .unwrap_or_else(|| DEFAULT_REDIRECT.to_string()),
            scopes: fitbit::SCOPES.iter().map(|s| s.to_string()).collect(),
        },
        api_base,
    })
}

pub fn store() -> anyhow::Result<TokenStore> {
    Ok(TokenStore::new(&config::dir()?))
}

/// The tokens of `user`, or of the only authorised user.
pub fn tokens(store: &TokenStore, user: Option<&str>) -> anyhow::Result<Tokens> {
    let again = "run `fitpipe auth` to authorise (or `fitpipe ingest --demo` to try the simulator)";
    match user {
        Some(u) => store
            .load(PROVIDER, u)?
            .ok_or_else(|| hint(format!("user `{u}` is not authorised"), again)),
        None => {
            let mut all = store.users(Some(PROVIDER))?;
            match all.len() {
                0 => Err(hint("no authorised user", again)),
                1 => Ok(all.remove(0)),
                _ => Err(hint(
                    format!("{} users are authorised", all.len()),
                    format!(
                        "pick one with `--user` ({})",
                        all.iter()
                            .map(|t| t.user_id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            }
        }
    }
}

/// The clock: real, or (for tests) the simulator's, advanced instead of sleeping.
pub async fn clock() -> Arc<dyn Clock> {
    match env::get(env::SIM_CONTROL) {
        None => Arc::new(SystemClock),
        Some(url) => {
            let sim_now = async {
                let v: serde_json::Value =
                    reqwest::get(format!("{}/_sim/stats", url.trim_end_matches('/')))
                        .await
                        .ok()?
                        .json()
                        .await
                        .ok()?;
                v["now"].as_str()?.parse::<DateTime<Utc>>().ok()
            };
            let start = sim_now.await.map_or(Duration::zero(), |t| t - Utc::now());
            let offset = Arc::new(Mutex::new(start));
            let o2 = offset.clone();
            let http = reqwest::Client::new();
            ExternalClock::new(
                move || Utc::now() + *offset.lock().unwrap_or_else(|e| e.into_inner()),
                move |d: Duration| {
                    *o2.lock().unwrap_or_else(|e| e.into_inner()) += d;
                    let req = http
                        .post(format!("{}/_sim/clock", url.trim_end_matches('/')))
                        .json(&serde_json::json!({"advance_seconds": d.num_seconds().max(0)}));
                    Box::pin(async move {
                        let _ = req.send().await;
                    })
                },
            )
        }
    }
}

pub fn options(no_wait: bool) -> Options {
    let mut o = Options {
        no_wait,
        ..Options::default()
    };
    if let Some(ms) = env::get(env::RETRY_BASE_MS).and_then(|v| v.parse().ok()) {
        o.backoff = Duration::milliseconds(ms);
    }
    if let Some(ms) = env::get(env::HTTP_TIMEOUT_MS).and_then(|v| v.parse().ok()) {
        o.timeout = std::time::Duration::from_millis(ms);
    }
    o
}

/// A client for a stored user.
pub async fn client(
    user: Option<&str>,
    api_base: Option<String>,
    reporter: Arc<dyn Reporter>,
    no_wait: bool,
) -> anyhow::Result<ApiClient> {
    let s = app(None, None, api_base, true)?;
    let store = store()?;
    let t = tokens(&store, user)?;
    Ok(ApiClient::new(
        &s.api_base,
        s.app,
        store,
        t,
        clock().await,
        reporter,
        options(no_wait),
    ))
}

/// The hint for an error of the ingest crate, if it has one.
pub fn explain(e: fitpipe_ingest::IngestError) -> anyhow::Error {
    use fitpipe_ingest::IngestError as E;
    let h = match &e {
        E::InvalidGrant | E::Unauthorized(_) => Some("the authorisation was revoked or has ended: run `fitpipe auth` again (nothing fetched so far is lost)".to_string()),
        E::Gone => Some("use `--provider google-health` (the Google Health API) or `fitpipe import takeout` for your archive".to_string()),
        E::Http { .. } => Some("the server kept failing; run the same command again later: it resumes where it stopped".to_string()),
        E::StateMismatch => Some("start again with `fitpipe auth` and use the newest link".to_string()),
        E::AuthTimeout(_) => Some("run `fitpipe auth` again; on a machine without a browser, use `--no-browser` and paste the redirect URL".to_string()),
        _ => None,
    };
    match h {
        Some(h) => hint(e.to_string(), h),
        None => anyhow::Error::new(e),
    }
}

/// Fetches the profile with a fresh access token (user id and time zone).
pub async fn profile(api_base: &str, token: &str) -> anyhow::Result<(String, Option<String>)> {
    let url = format!("{}/1/user/-/profile.json", api_base.trim_end_matches('/'));
    let r = reqwest::Client::new()
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = r.status();
    let body = r.bytes().await?;
    if !status.is_success() {
        anyhow::bail!(
            "GET {url}: HTTP {status}: {}",
            fitpipe_ingest::client::api_message(&body)
        );
    }
    let doc = fitpipe_transform::fitbit::parse(&body)?;
    let p = doc
        .profile
        .ok_or_else(|| anyhow::anyhow!("GET {url}: no `user` in the answer"))?;
    let id = p
        .encoded_id
        .ok_or_else(|| anyhow::anyhow!("GET {url}: no `encodedId` in the profile"))?;
    Ok((id, p.timezone))
}

/// Expiry of a grant from now.
pub fn expiry(now: DateTime<Utc>, g: &fitpipe_ingest::oauth::Grant) -> DateTime<Utc> {
    now + Duration::from_std(g.expires_in.unwrap_or(std::time::Duration::from_secs(3600)))
        .unwrap_or_default()
}
