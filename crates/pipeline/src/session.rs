//! Resolves flags, config file and environment into an API client for one user.

use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};
use fitpipe_ingest::client::{ApiClient, Options, Reporter};
use fitpipe_ingest::clock::{Clock, ExternalClock, SystemClock};
use fitpipe_ingest::oauth::OAuthApp;
use fitpipe_ingest::provider::Provider;
use fitpipe_ingest::store::{TokenStore, Tokens};
use oauth2::ClientSecret;

use crate::config::{self, Config, DEFAULT_REDIRECT};
use crate::env;
use crate::hint;

/// Everything needed to talk to the provider as an app.
pub struct AppSettings {
    pub app: OAuthApp,
    pub api_base: String,
}

/// Builds the OAuth app from flags, environment and config file.
pub fn app(
    provider: Provider,
    client_id: Option<String>,
    redirect: Option<String>,
    api_base: Option<String>,
    need_secret: bool,
) -> anyhow::Result<AppSettings> {
    let cfg = Config::load()?.provider(provider.name());
    let api_base = api_base
        .or(cfg.api_base.clone())
        .unwrap_or_else(|| provider.api_base().to_string());
    let client_id = client_id
        .or_else(|| env::get(env::CLIENT_ID))
        .or(cfg.client_id.clone())
        .ok_or_else(|| {
        hint(
            format!("no OAuth client id for `{}`", provider.name()),
            match provider {
                Provider::Fitbit => "pass `--client-id` (from your app's page) to `fitpipe auth`, or try `fitpipe ingest --demo`",
                Provider::Google => "pass `--client-id` (the Desktop client of your Google Cloud project; see the README, \"Google Health setup\") to `fitpipe auth --provider google-health`, or try `fitpipe ingest --demo --provider google-health`",
            },
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
    let (auth_url, token_url, revoke_url) = provider.endpoints(&api_base);
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
            scopes: provider.scopes(),
            auth_params: provider.auth_params(),
        },
        api_base,
    })
}

pub fn store() -> anyhow::Result<TokenStore> {
    Ok(TokenStore::new(&config::dir()?))
}

/// The provider to use: `flag` (`--provider` or `FITPIPE_PROVIDER`) when given; else the
/// provider of the stored grants when they are all of one provider (or `user` names a
/// grant of one); else `default` when nothing is stored. Several providers' grants and no
/// choice is an error that lists them.
pub fn provider(
    flag: Option<Provider>,
    user: Option<&str>,
    default: Provider,
) -> anyhow::Result<Provider> {
    if let Some(p) = flag {
        return Ok(p);
    }
    let all = store()?.users(None)?;
    let mine: Vec<&Tokens> = all
        .iter()
        .filter(|t| user.is_none_or(|u| t.user_id == u))
        .collect();
    let mut providers: Vec<&str> = mine.iter().map(|t| t.provider.as_str()).collect();
    providers.sort();
    providers.dedup();
    match providers.as_slice() {
        [] => Ok(default),
        [one] => Provider::parse(one)
            .ok_or_else(|| anyhow::anyhow!("a stored grant names an unknown provider `{one}`")),
        _ => Err(hint(
            "authorisations of several providers are stored; which one?",
            format!(
                "pass `--provider` (and `--user` if needed): {}",
                mine.iter()
                    .map(|t| format!("`--provider {} --user {}`", t.provider, t.user_id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// The tokens of `user`, or of the only authorised user.
pub fn tokens(
    store: &TokenStore,
    provider: Provider,
    user: Option<&str>,
) -> anyhow::Result<Tokens> {
    let again = format!(
        "run `fitpipe auth --provider {0}` to authorise (or `fitpipe ingest --demo --provider {0}` to try the simulator)",
        provider.name()
    );
    match user {
        Some(u) => store.load(provider.name(), u)?.ok_or_else(|| {
            hint(
                format!("user `{u}` is not authorised with `{}`", provider.name()),
                again,
            )
        }),
        None => {
            let mut all = store.users(Some(provider.name()))?;
            match all.len() {
                0 => Err(hint(
                    format!("no authorised user for `{}`", provider.name()),
                    again,
                )),
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
            // The simulator's clock is frozen but for what fitpipe advances: so is this
            // one, or client and server would drift apart by the real time a run takes.
            let start = sim_now.await.unwrap_or_else(Utc::now);
            let offset = Arc::new(Mutex::new(Duration::zero()));
            let o2 = offset.clone();
            let http = reqwest::Client::new();
            ExternalClock::new(
                move || start + *offset.lock().unwrap_or_else(|e| e.into_inner()),
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

pub fn options(provider: Provider, no_wait: bool) -> Options {
    let mut o = Options {
        no_wait,
        // Google: 300 requests per user per minute; pace at 240 (google-health-api.md §5).
        per_minute: (provider == Provider::Google).then_some(240),
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
    provider: Provider,
    user: Option<&str>,
    api_base: Option<String>,
    reporter: Arc<dyn Reporter>,
    no_wait: bool,
) -> anyhow::Result<ApiClient> {
    // A valid access token needs no secret: the secret is only for a refresh, and comes
    // from the environment, the config file, or the store (kept there by `fitpipe auth`).
    let mut s = app(provider, None, None, api_base, false)?;
    let store = store()?;
    let t = tokens(&store, provider, user)?;
    if s.app.client_secret.is_none() {
        s.app.client_secret = store.load_secret(provider.name(), &t.user_id)?;
    }
    Ok(ApiClient::new(
        &s.api_base,
        s.app,
        store,
        t,
        clock().await,
        reporter,
        options(provider, no_wait),
    ))
}

/// Revokes a stored grant at its provider (the refresh token, else the access token; at
/// both providers one revokes the whole grant) and deletes its tokens here.
pub fn revoke_grant(
    provider: Provider,
    store: &TokenStore,
    t: &Tokens,
    client_id: Option<String>,
    api_base: Option<String>,
) -> anyhow::Result<Result<(), String>> {
    let mut s = app(provider, client_id, None, api_base, false)?;
    if s.app.client_secret.is_none() {
        s.app.client_secret = store.load_secret(provider.name(), &t.user_id)?;
    }
    let token = t
        .refresh_token
        .as_ref()
        .map(|r| r.secret().clone())
        .unwrap_or_else(|| t.access_token.secret().clone());
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    if let Err(e) = rt.block_on(s.app.revoke(&token)) {
        return Ok(Err(e.to_string()));
    }
    store.remove(provider.name(), &t.user_id)?;
    Ok(Ok(()))
}

/// The hint for an error of the ingest crate, if it has one.
pub fn explain(e: fitpipe_ingest::IngestError) -> anyhow::Error {
    use fitpipe_ingest::IngestError as E;
    let h = match &e {
        E::InvalidGrant | E::Unauthorized(_) => Some("the authorisation was revoked or has ended: run `fitpipe auth` again (with the same `--provider`; nothing fetched so far is lost)".to_string()),
        E::TestingExpired(_) => Some("run `fitpipe auth --provider google-health` again now; to stop this every week, publish the app (Google Auth Platform > Audience > Publish app, \"In production\"): its refresh tokens then last until revoked or unused for 6 months. See the README, \"Google Health setup\"".to_string()),
        E::Api { status: 403, message, .. } if message.contains("MISSING_OAUTH_SCOPE") || message.contains("SCOPE_INSUFFICIENT") => Some("the authorisation lacks a scope this data needs (a box was unticked at the consent screen): run `fitpipe auth --provider google-health` again and leave every box ticked, or drop that resource from `--resources`".to_string()),
        E::Api { message, .. } if message.contains("ACCOUNT_NOT_LINKED") => Some("this Google account has no Google Health (Fitbit) data profile: sign in once to the Google Health (Fitbit) app with it, or authorise the account that has your data".to_string()),
        E::Api { message, .. } if message.contains("SERVICE_DISABLED") => Some("enable the Google Health API in your Google Cloud project (APIs & Services > Library)".to_string()),
        E::Token(_) => Some("the provider's token endpoint refused the request: check the client id and secret (`fitpipe auth status` shows the client; the secret comes from `FITPIPE_CLIENT_SECRET` or the config file), then run `fitpipe auth` again".to_string()),
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

/// The user id and time zone of a fresh access token: Fitbit's profile, or Google's
/// identity (`healthUserId`) and settings (the settings scope may have been unticked).
pub async fn identify(
    provider: Provider,
    api_base: &str,
    token: &str,
) -> anyhow::Result<(String, Option<String>)> {
    if provider == Provider::Fitbit {
        return profile(api_base, token).await;
    }
    let get = |path: &'static str| get_json(api_base, path, token);
    let id = get("/v4/users/me/identity").await?;
    let user = id["healthUserId"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("the identity answer has no `healthUserId`"))?
        .to_string();
    let tz = get("/v4/users/me/settings")
        .await
        .ok()
        .and_then(|v| v["timeZone"].as_str().map(str::to_string));
    Ok((user, tz))
}

/// GETs a JSON document with a bearer token; an error answer is explained.
async fn get_json(api_base: &str, path: &str, token: &str) -> anyhow::Result<serde_json::Value> {
    let body = get_body(api_base, path, token).await?;
    serde_json::from_slice(&body).with_context(|| format!("GET {path}: the answer is not JSON"))
}

/// GETs a body with a bearer token; an error answer is explained.
async fn get_body(api_base: &str, path: &str, token: &str) -> anyhow::Result<Vec<u8>> {
    let url = format!("{}{path}", api_base.trim_end_matches('/'));
    // Right after a code exchange a passing 5xx or a dropped connection must not cost the
    // new grant: a few tries, backing off.
    let base = env::get(env::RETRY_BASE_MS)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(500);
    let mut attempt = 0;
    let (status, body) = loop {
        attempt += 1;
        let sent = reqwest::Client::new()
            .get(&url)
            .bearer_auth(token)
            .send()
            .await;
        let answer = match sent {
            Ok(r) => {
                let status = r.status();
                r.bytes().await.map(|b| (status, b))
            }
            Err(e) => Err(e),
        };
        match answer {
            Ok((status, body)) if !status.is_server_error() || attempt >= 4 => {
                break (status, body)
            }
            Err(e) if attempt >= 4 => {
                return Err(anyhow::Error::new(e).context(format!("GET {url}")))
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(base << attempt)).await,
        }
    };
    if !status.is_success() {
        return Err(explain(fitpipe_ingest::IngestError::Api {
            status: status.as_u16(),
            url,
            message: fitpipe_ingest::client::api_message(&body),
        }));
    }
    Ok(body.to_vec())
}

/// Fetches the Fitbit profile with a fresh access token (user id and time zone).
pub async fn profile(api_base: &str, token: &str) -> anyhow::Result<(String, Option<String>)> {
    let url = format!("{}/1/user/-/profile.json", api_base.trim_end_matches('/'));
    let body = get_body(api_base, "/1/user/-/profile.json", token).await?;
    let doc = fitpipe_transform::fitbit::parse(&body)?;
    let p = doc
        .profile
        .ok_or_else(|| anyhow::anyhow!("GET {url}: no `user` in the answer"))?;
    let id = p
        .encoded_id
        .ok_or_else(|| anyhow::anyhow!("GET {url}: no `encodedId` in the profile"))?;
    Ok((id, p.timezone))
}

/// When a grant's refresh token dies, where the provider says.
pub fn refresh_expiry(
    now: DateTime<Utc>,
    g: &fitpipe_ingest::oauth::Grant,
) -> Option<DateTime<Utc>> {
    g.refresh_expires_in
        .and_then(|d| Duration::from_std(d).ok())
        .map(|d| now + d)
}

/// Expiry of a grant from now.
pub fn expiry(now: DateTime<Utc>, g: &fitpipe_ingest::oauth::Grant) -> DateTime<Utc> {
    now + Duration::from_std(g.expires_in.unwrap_or(std::time::Duration::from_secs(3600)))
        .unwrap_or_default()
}
