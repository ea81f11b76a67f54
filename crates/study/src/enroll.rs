//! The enrollment page of a study: a participant opens their signed personal link,
//! reads what will be collected, presses one button, consents at the provider and lands
//! on a thank-you page; the grant is stored for their study id.
//!
//! - Links are `<public_url>/e/<id>.<expiry>-<nonce>.<signature>`, the signature an
//!   HMAC-SHA256 of the study, the id, the expiry and the nonce under the study's link key (`link.key`, 0600,
//!   made on first use; or `FITPIPE_ENROLL_KEY`). A forged, expired or used link is
//!   refused.
//! - The consent button posts a form with a CSRF token that must match a cookie set
//!   with the page (SameSite=Strict). Its answer starts the code flow: PKCE S256, a
//!   fresh `state` kept server-side with the link and bound to the browser by a cookie,
//!   the redirect URI `<public_url>/callback` of a Web application client.
//! - The callback takes each `state` once: a replayed callback is refused. A denial
//!   stores nothing and leaves the link usable.
//! - No page shows a token, a secret or the account's id. The server speaks plain HTTP:
//!   put it behind the operator's TLS proxy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use axum::extract::{Form, Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use fitpipe_ingest::oauth::OAuthApp;
use fitpipe_ingest::provider::Provider;
use fitpipe_ingest::store::Tokens;
use hmac::{Hmac, Mac};
use oauth2::{CsrfToken, PkceCodeVerifier};
use sha2::Sha256;

use crate::study::{EnrollSettings, Enrolled, NotRecorded, Recorded, Study};
use fitpipe_pipeline::{hint, Report};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How long a started consent may take.
const PENDING_MINUTES: i64 = 30;

/// Pages shown and consents started that the server keeps at once (each expires after
/// `PENDING_MINUTES`): a flood of page views cannot grow memory past this.
const MAX_OPEN: usize = 20_000;

/// Connections served at once; one more is closed at once.
const MAX_CONNECTIONS: usize = 512;

/// How long a connection may take to send a request's headers (a half-sent request is
/// closed after this: slowloris).
const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long one connection may live, whatever it does.
const CONNECTION_LIFETIME: std::time::Duration = std::time::Duration::from_secs(60);

/// The largest request body (the consent form is a few dozen bytes).
const MAX_BODY: usize = 16 * 1024;

fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        page(
            "Please try again",
            "<p>The enrollment page is busy. Please open your link again in a few minutes.</p>",
        ),
    )
        .into_response()
}

/// The study's link key: `FITPIPE_ENROLL_KEY`, else `<grants>/link.key`, made (32
/// random bytes, 0600) on first use.
pub fn link_key(study: &Study) -> anyhow::Result<Vec<u8>> {
    if let Some(k) =
        fitpipe_pipeline::env::get(fitpipe_pipeline::env::ENROLL_KEY).filter(|k| k.len() >= 16)
    {
        return Ok(k.into_bytes());
    }
    let path = study.dir.join("link.key");
    match std::fs::read(&path) {
        Ok(k) if k.len() >= 32 => return Ok(k),
        Ok(_) => anyhow::bail!("`{}` is too short to be a link key", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading `{}`", path.display())),
    }
    // 32 bytes from the operating system's generator (two 16-byte CSRF tokens).
    let key = format!(
        "{}{}",
        CsrfToken::new_random().secret(),
        CsrfToken::new_random().secret()
    )
    .into_bytes();
    fitpipe_ingest::store::write_private(&path, &key)?;
    Ok(key)
}

fn settings(study: &Study) -> anyhow::Result<&EnrollSettings> {
    study.file.enroll.as_ref().ok_or_else(|| {
        hint(
            "the study file has no `[enroll]` section",
            "add `[enroll]` with `public_url = \"https://...\"` (see pipelines/study.toml)",
        )
    })
}

/// The link's MAC; `expires` is the link's expiry field as written (`<unix time>` in
/// older links, `<unix time>-<nonce>` since, so two links made in one second differ).
fn signature(key: &[u8], study: &str, id: &str, expires: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(format!("fitpipe-enroll|{study}|{id}|{expires}").as_bytes());
    mac
}

/// A participant's personal link, valid until `expires`.
pub fn link(study: &Study, key: &[u8], id: &str, expires: DateTime<Utc>) -> anyhow::Result<String> {
    crate::study::check_id(id)?;
    if !study.roster.iter().any(|r| r == id) {
        return Err(hint(
            format!("`{id}` is not on the study's roster"),
            "add them to `participants` (or the `participants_file`) first",
        ));
    }
    let s = settings(study)?;
    let nonce: String = CsrfToken::new_random().secret().chars().take(8).collect();
    let exp = format!("{}-{nonce}", expires.timestamp());
    let sig = B64.encode(
        signature(key, &study.file.study, id, &exp)
            .finalize()
            .into_bytes(),
    );
    Ok(format!(
        "{}/e/{id}.{exp}.{sig}",
        s.public_url.trim_end_matches('/')
    ))
}

/// A link's parts once its signature, expiry and roster place are checked.
struct Checked {
    id: String,
    sig: String,
}

/// Why a link is refused (shown to the participant, who can do nothing but ask for a new
/// one).
enum Refusal {
    Forged,
    Expired,
    Used,
    /// The participant withdrew; the study team must readmit them first.
    Withdrawn,
    /// The consent record cannot be read: nobody enrolls until it is repaired.
    Unavailable,
}

impl Refusal {
    fn page(&self) -> Response {
        let (status, text) = match self {
            Refusal::Forged => (
                StatusCode::FORBIDDEN,
                "This link is not valid. Please use the link the study team sent you, exactly as it was sent.",
            ),
            Refusal::Expired => (
                StatusCode::GONE,
                "This link has expired. Please ask the study team for a new one.",
            ),
            Refusal::Used => (
                StatusCode::GONE,
                "This link was already used: your consent is recorded. If you want to consent again, ask the study team for a new link.",
            ),
            Refusal::Withdrawn => (
                StatusCode::GONE,
                "You have withdrawn from this study, so this link no longer works. If you want to take part again, please contact the study team.",
            ),
            Refusal::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Enrollment is paused for a moment. Please try again later or contact the study team.",
            ),
        };
        (status, page("Enrollment link", &format!("<p>{text}</p>"))).into_response()
    }
}

struct Server {
    study: Study,
    key: Vec<u8>,
    app: OAuthApp,
    api_base: String,
    provider: Provider,
    /// `state` -> the consent it belongs to; each taken once.
    pending: Mutex<HashMap<String, Pending>>,
    /// CSRF tokens of pages shown, with when they were shown.
    csrf: Mutex<HashMap<String, DateTime<Utc>>>,
    /// The public address is https: cookies are `Secure` and `__Host-`.
    secure: bool,
    /// Where the page's events go (consents, refusals, failures): the CLI's log lines.
    report: Arc<dyn Report>,
}

impl Server {
    /// A cookie's name: `__Host-` prefixed over https (bound to this host, path `/`,
    /// `Secure`; a sibling domain cannot set it).
    fn cookie_name(&self, name: &str) -> String {
        if self.secure {
            format!("__Host-{name}")
        } else {
            name.to_string()
        }
    }

    fn set_cookie(&self, name: &str, value: &str, same_site: &str) -> String {
        format!(
            "{}={value}; Path=/; HttpOnly; SameSite={same_site}{}",
            self.cookie_name(name),
            if self.secure { "; Secure" } else { "" }
        )
    }
}

struct Pending {
    id: String,
    sig: String,
    verifier: PkceCodeVerifier,
    started: DateTime<Utc>,
}

impl Server {
    fn check(&self, token: &str) -> Result<Checked, Refusal> {
        let mut parts = token.splitn(3, '.');
        let (Some(id), Some(exp), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Refusal::Forged);
        };
        let raw = B64.decode(sig).map_err(|_| Refusal::Forged)?;
        signature(&self.key, &self.study.file.study, id, exp)
            .verify_slice(&raw)
            .map_err(|_| Refusal::Forged)?;
        if !self.study.roster.iter().any(|r| r == id) {
            return Err(Refusal::Forged);
        }
        let exp: i64 = exp
            .split_once('-')
            .map_or(exp, |(t, _)| t)
            .parse()
            .map_err(|_| Refusal::Forged)?;
        if Utc::now().timestamp() > exp {
            return Err(Refusal::Expired);
        }
        // An unreadable consent record refuses every link (it fails closed).
        let consents = self.study.consents().map_err(|e| {
            self.report
                .warn(&format!("enroll: the consent record cannot be read: {e:#}"));
            Refusal::Unavailable
        })?;
        if consents.withdrawn.contains_key(id) {
            return Err(Refusal::Withdrawn);
        }
        if consents.used_links.contains(sig) {
            return Err(Refusal::Used);
        }
        Ok(Checked {
            id: id.to_string(),
            sig: sig.to_string(),
        })
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
         <title>{t}</title><style>body{{font:17px/1.5 system-ui,sans-serif;max-width:34em;margin:2em auto;padding:0 1em}}\
         button{{font-size:1.1em;padding:.6em 1.4em}}</style><h1>{t}</h1>{body}</html>",
        t = esc(title)
    ))
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

async fn show(State(s): State<Arc<Server>>, UrlPath(token): UrlPath<String>) -> Response {
    let c = match s.check(&token) {
        Ok(c) => c,
        Err(r) => return r.page(),
    };
    let csrf = CsrfToken::new_random().secret().clone();
    {
        let mut m = s.csrf.lock().unwrap_or_else(|e| e.into_inner());
        let now = Utc::now();
        m.retain(|_, at| now - *at < Duration::minutes(PENDING_MINUTES));
        if m.len() >= MAX_OPEN {
            return busy();
        }
        m.insert(csrf.clone(), now);
    }
    let f = &s.study.file;
    let what = f
        .enroll
        .as_ref()
        .and_then(|e| e.description.clone())
        .unwrap_or_else(|| {
            "Your daily activity, heart rate and sleep, as recorded by your Fitbit.".into()
        });
    let resources = f.resources.clone().unwrap_or_else(|| {
        s.provider
            .default_resources()
            .iter()
            .map(|r| r.to_string())
            .collect()
    });
    let provider = match s.provider {
        Provider::Google => "Google",
        Provider::Fitbit => "Fitbit",
    };
    let body = format!(
        "<p>You are invited to share your Fitbit data with the study <b>{study}</b> as participant <b>{id}</b>.</p>\
         <p>{what}</p><p>What is collected: {list}{intraday}. Read-only: the study cannot change anything in your account. \
         Your data is stored under your participant number only, never your name or e-mail address.</p>\
         <p>After you press the button, {provider} asks you to sign in and to allow access. \
         You can withdraw at any time; ask the study team, and your data is deleted.</p>\
         <form method=post action=\"/e/{token}\"><input type=hidden name=csrf value=\"{csrf}\">\
         <button id=consent type=submit>Continue to {provider}</button></form>",
        study = esc(&f.study),
        id = esc(&c.id),
        what = esc(&what),
        list = esc(&resources.join(", ")),
        intraday = if f.intraday.is_empty() {
            String::new()
        } else {
            format!(", and minute-by-minute {}", esc(&f.intraday.join(", ")))
        },
        token = esc(&token),
    );
    (
        [(header::SET_COOKIE, s.set_cookie("fp_csrf", &csrf, "Strict"))],
        page("Share your Fitbit data", &body),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct ConsentForm {
    csrf: String,
}

async fn consent(
    State(s): State<Arc<Server>>,
    UrlPath(token): UrlPath<String>,
    headers: HeaderMap,
    Form(form): Form<ConsentForm>,
) -> Response {
    let c = match s.check(&token) {
        Ok(c) => c,
        Err(r) => return r.page(),
    };
    let known = s
        .csrf
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&form.csrf)
        .is_some();
    if !known || cookie(&headers, &s.cookie_name("fp_csrf")).as_deref() != Some(form.csrf.as_str())
    {
        return (
            StatusCode::FORBIDDEN,
            page(
                "Please start again",
                "<p>This form was not sent from the enrollment page. Please open your link again.</p>",
            ),
        )
            .into_response();
    }
    let a = match s.app.start() {
        Ok(a) => a,
        Err(e) => {
            s.report.warn(&format!(
                "enroll: cannot start the consent of {}: {e}",
                c.id
            ));
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                page(
                    "Sorry",
                    "<p>Something went wrong. Please try again later.</p>",
                ),
            )
                .into_response();
        }
    };
    let state = a.state.secret().clone();
    {
        let mut m = s.pending.lock().unwrap_or_else(|e| e.into_inner());
        let now = Utc::now();
        m.retain(|_, p| now - p.started < Duration::minutes(PENDING_MINUTES));
        if m.len() >= MAX_OPEN {
            return busy();
        }
        m.insert(
            state.clone(),
            Pending {
                id: c.id,
                sig: c.sig,
                verifier: a.verifier,
                started: now,
            },
        );
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, a.url),
            (header::SET_COOKIE, s.set_cookie("fp_state", &state, "Lax")),
        ],
    )
        .into_response()
}

async fn callback(
    State(s): State<Arc<Server>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let state = q.get("state").cloned().unwrap_or_default();
    let taken = s
        .pending
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&state);
    let Some(p) = taken else {
        return (
            StatusCode::BAD_REQUEST,
            page(
                "This page has expired",
                "<p>This consent was already completed or has expired. If you are enrolling, open your link again.</p>",
            ),
        )
            .into_response();
    };
    if cookie(&headers, &s.cookie_name("fp_state")).as_deref() != Some(state.as_str()) {
        return (
            StatusCode::BAD_REQUEST,
            page(
                "Please start again",
                "<p>This consent was started in another browser. Please open your link again in this one.</p>",
            ),
        )
            .into_response();
    }
    if let Some(e) = q.get("error") {
        // The provider's text, escaped: it comes from the query string.
        s.report
            .warn(&format!("enroll: {} declined ({})", p.id, e.escape_debug()));
        return page(
            "Nothing was shared",
            "<p>You chose not to allow access, so nothing was stored. If you change your mind, open your link again.</p>",
        )
        .into_response();
    }
    let Some(code) = q.get("code") else {
        return (StatusCode::BAD_REQUEST, page("Please start again", "<p>The answer from the sign-in page was incomplete. Please open your link again.</p>")).into_response();
    };
    match finish(s.clone(), &p, code).await {
        Ok(Err(refused)) => refused.page(),
        Ok(Ok(())) => page(
            "Thank you",
            &format!(
                "<p>Thank you: your consent is recorded for participant <b>{}</b> and your data will be collected from now on. You can close this page.</p>",
                esc(&p.id)
            ),
        )
        .into_response(),
        Err(e) => {
            s.report.warn(&format!("enroll: the consent of {} failed: {e:#}", p.id));
            (
                StatusCode::BAD_GATEWAY,
                page("Sorry", "<p>The sign-in could not be completed. Please open your link again in a few minutes.</p>"),
            )
                .into_response()
        }
    }
}

/// Exchanges the code, finds the account, then under the consent lock decides that the
/// link was never used, records the consent (synced) and only then keeps the grant.
async fn finish(s: Arc<Server>, p: &Pending, code: &str) -> anyhow::Result<Result<(), Refusal>> {
    let verifier = PkceCodeVerifier::new(p.verifier.secret().clone());
    let grant = s
        .app
        .exchange(code, verifier)
        .await
        .map_err(fitpipe_pipeline::session::explain)?;
    let (account, tz) =
        fitpipe_pipeline::session::identify(s.provider, &s.api_base, grant.access_token.secret())
            .await?;
    let now = fitpipe_pipeline::session::clock().await.now();
    let tokens = Tokens {
        provider: s.provider.name().into(),
        user_id: p.id.clone(),
        expires_at: fitpipe_pipeline::session::expiry(now, &grant),
        refresh_expires_at: fitpipe_pipeline::session::refresh_expiry(now, &grant),
        refused_at: None,
        access_token: grant.access_token,
        refresh_token: grant.refresh_token,
        scope: grant.scope.unwrap_or_default(),
        timezone: tz,
    };
    let (id, link) = (p.id.clone(), p.sig.clone());
    // File locks and syncs block: off the runtime's threads.
    tokio::task::spawn_blocking(move || keep(&s, &id, link, account, tokens))
        .await
        .context("recording the consent")?
}

/// Records the consent, then stores the grant, both under the consent lock.
fn keep(
    s: &Server,
    id: &str,
    link: String,
    account: String,
    tokens: Tokens,
) -> anyhow::Result<Result<(), Refusal>> {
    let lock = s.study.lock_consents()?;
    let recorded = s.study.record_enrolled(
        &lock,
        id,
        Enrolled {
            at: Utc::now(),
            account_id: account,
            link,
        },
    )?;
    match recorded {
        Err(NotRecorded::LinkUsed) => {
            s.report.warn(&format!("enroll: {id}: a second consent through a used link was refused"));
            return Ok(Err(Refusal::Used));
        }
        Err(NotRecorded::Withdrawn) => {
            s.report.warn(&format!("enroll: {id} withdrew; their consent through an old link was refused"));
            return Ok(Err(Refusal::Withdrawn));
        }
        Ok(Recorded::AccountChanged) => s.report.warn(&format!(
            "enroll: warning: {id} consented again with a different account than before; their data now comes from the new one (check with them)"
        )),
        Ok(Recorded::New) => {}
    }
    let store = s.study.store();
    store.save(&tokens)?;
    if let Some(secret) = &s.app.client_secret {
        store.save_secret(s.provider.name(), id, secret)?;
    }
    drop(lock);
    s.report.warn(&format!("enroll: {id} consented"));
    Ok(Ok(()))
}

/// Serves the enrollment page until the process is stopped; `ready` gets the address.
///
/// Its own accept loop rather than `axum::serve`: at most `MAX_CONNECTIONS` at once, a
/// header-read timeout (a half-sent request is closed), a lifetime per connection, a
/// body limit, security headers on every answer, and a handler's panic answered with a
/// 500 page while the server goes on.
pub async fn serve(
    study: Study,
    report: Arc<dyn Report>,
    ready: impl FnOnce(std::net::SocketAddr),
) -> anyhow::Result<()> {
    let s = settings(&study)?.clone();
    let secure = check_public_url(&s.public_url)?;
    let key = link_key(&study)?;
    let f = &study.file;
    let redirect = format!("{}/callback", s.public_url.trim_end_matches('/'));
    let settings = fitpipe_pipeline::session::app(
        study.provider,
        f.client_id.clone(),
        Some(redirect),
        f.api_base.clone(),
        true,
    )?;
    let listener = tokio::net::TcpListener::bind(&s.listen)
        .await
        .map_err(|e| {
            hint(
                format!("cannot listen on `{}`: {e}", s.listen),
                "set `listen` in `[enroll]` to a free address (the TLS proxy forwards to it)",
            )
        })?;
    let addr = listener.local_addr()?;
    let server = Arc::new(Server {
        provider: study.provider,
        key,
        app: settings.app,
        api_base: settings.api_base,
        study,
        pending: Mutex::new(HashMap::new()),
        csrf: Mutex::new(HashMap::new()),
        secure,
        report: report.clone(),
    });
    let router = Router::new()
        .route("/e/{token}", get(show).post(consent))
        .route("/callback", get(callback))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(server);
    // A bug in a handler answers that request with a 500 page; the server goes on (the
    // process-wide hook would exit).
    std::panic::set_hook(Box::new(move |info| {
        report.warn(&format!(
            "enroll: a request hit a bug and got an error page; the page goes on: {}",
            info.to_string().escape_debug()
        ));
    }));
    ready(addr);
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut stop => return Ok(()),
            conn = listener.accept() => match conn {
                Ok(c) => c,
                // Out of file descriptors and the like: wait a moment, go on.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let router = router.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let svc =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let router = router.clone();
                    async move { Ok::<_, std::convert::Infallible>(answer(router, req).await) }
                });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(64 * 1024)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, conn).await;
        });
    }
}

/// One request through the router, a panic turned into a 500 page, and the headers every
/// page carries.
async fn answer(router: Router, req: hyper::Request<hyper::body::Incoming>) -> Response {
    use futures::FutureExt as _;
    use tower::ServiceExt as _;
    let call = router.oneshot(req.map(axum::body::Body::new));
    let mut r = match std::panic::AssertUnwindSafe(call).catch_unwind().await {
        Ok(Ok(r)) => r,
        Ok(Err(never)) => match never {},
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            page(
                "Sorry",
                "<p>Something went wrong. Please try again later.</p>",
            ),
        )
            .into_response(),
    };
    let h = r.headers_mut();
    for (k, v) in [
        ("content-security-policy", "frame-ancestors 'none'"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("cache-control", "no-store"),
    ] {
        h.insert(k, header::HeaderValue::from_static(v));
    }
    r
}

/// Whether the public address is https; plain http only on a loopback host (a test, or
/// a proxy on the same machine that participants never see).
fn check_public_url(public: &str) -> anyhow::Result<bool> {
    let u = url::Url::parse(public).map_err(|e| {
        hint(
            format!("`public_url = \"{public}\"` is not a URL: {e}"),
            "write the address participants open, such as `https://study.example.org`",
        )
    })?;
    let loopback = match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match u.scheme() {
        "https" => Ok(true),
        "http" if loopback => Ok(false),
        _ => Err(hint(
            format!("`public_url = \"{public}\"` is not https"),
            "participants must reach the page over TLS: put the operator's TLS proxy in front and write its `https://` address",
        )),
    }
}
