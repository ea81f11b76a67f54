//! A loopback simulator of the Fitbit Web API and its OAuth 2.0 server.
//!
//! It follows ../shared/reference/fitbit-web-api.md and the real samples: the same paths,
//! status codes, headers, JSON shapes and quirks (string values in daily series, offset-less
//! local times, `datetime`-free v1.2 sleep, rotating single-use refresh tokens, 150 requests
//! per user per clock hour). It shares no code with the client crates: it builds JSON the
//! way the API does, so the two cannot agree on the same mistake.
//!
//! Its clock is its own: tests advance it (`POST /_sim/clock`) instead of sleeping.
//!
//! ```no_run
//! # async fn demo() {
//! let sim = fitpipe_sim::Sim::start(fitpipe_sim::Config::default()).await.unwrap();
//! println!("{} client {}", sim.base_url(), sim.client_id());
//! # }
//! ```
#![warn(missing_docs)]

mod fitbit;
mod google;
mod google_oauth;
mod oauth;
// Plain data carriers of the generator; their fields are named for what they hold.
#[allow(missing_docs)]
pub mod people;
mod tcx;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

pub use people::Person;

/// How the simulator behaves.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Seed of the synthetic people.
    pub seed: u64,
    /// Number of people (1 to 5 zones; ids from the seed).
    pub users: usize,
    /// Requests per user per clock hour.
    pub rate_limit: u32,
    /// Whether a 429 carries `Retry-After` (Fitbit's is unreliable; default off).
    pub retry_after: bool,
    /// Answer the consent page automatically with "Allow" for `default_user`.
    pub auto_consent: bool,
    /// Index of the person who consents when `auto_consent` is on.
    pub default_user: usize,
    /// Registered redirect URIs of the client (must match exactly, as at Fitbit).
    pub redirect_uris: Vec<String>,
    /// The simulated "now" when the simulator starts.
    pub start: DateTime<Utc>,
    /// Whether the clock runs with real time (standalone) or stays frozen until advanced.
    pub frozen: bool,
    /// How long a replay of a spent refresh token returns the same pair, seconds.
    pub refresh_grace_seconds: i64,
    /// Faults to inject, in order.
    pub faults: Vec<Fault>,
    /// Answer every API and OAuth request with 410 Gone, like the shut-down API.
    pub gone: bool,
    /// Google Health: requests per user per minute (300 by the rate-limits page).
    pub google_rate_limit: u32,
    /// Google Health: requests per minute of the whole project, every user together
    /// (120,000 by the rate-limits page; an unverified app 250 a second).
    pub google_project_rate_limit: u32,
    /// Google OAuth: the app is in Testing publishing status, so refresh tokens die
    /// 7 days after consent.
    pub google_testing: bool,
    /// Google OAuth: scopes (suffixes, e.g. `sleep.readonly`) the auto-consenting person unticks.
    pub google_unticked_scopes: Vec<String>,
    /// Fitbit OAuth: scopes (`sleep`, `heartrate`, ...) the auto-consenting person unticks;
    /// the resources that need them answer 403 `insufficient_scope`.
    pub fitbit_unticked_scopes: Vec<String>,
    /// Google Health: indexes of people whose Google account has no Google Health profile.
    pub google_unlinked: Vec<usize>,
    /// Google Health: refuse every filter on the sleep list, as some third parties saw
    /// (google-health-api.md §3.3: which sleep filter members work is UNCONFIRMED).
    pub google_reject_sleep_filter: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 1,
            users: 3,
            rate_limit: 150,
            retry_after: false,
            auto_consent: false,
            default_user: 0,
            redirect_uris: vec!["http://127.0.0.1:8080/".into()],
            start: DateTime::parse_from_rfc3339("2026-10-15T12:00:00Z")
                .expect("valid")
                .with_timezone(&Utc),
            frozen: true,
            refresh_grace_seconds: 120,
            faults: Vec::new(),
            gone: false,
            google_rate_limit: 300,
            google_project_rate_limit: 120_000,
            google_testing: true,
            google_unticked_scopes: Vec::new(),
            fitbit_unticked_scopes: Vec::new(),
            google_unlinked: Vec::new(),
            google_reject_sleep_filter: false,
        }
    }
}

/// A fault applied to the next matching API requests.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// What goes wrong.
    pub kind: FaultKind,
    /// How many requests it hits.
    #[serde(default = "one")]
    pub count: u32,
    /// Only requests whose path contains this.
    #[serde(default)]
    pub path_contains: Option<String>,
}

fn one() -> u32 {
    1
}

/// Kinds of injected fault.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// An HTTP 5xx with Fitbit's `system` error body.
    Status(u16),
    /// A 429 regardless of the budget left.
    RateLimited,
    /// The response is delayed by this many milliseconds (real time).
    Slow(u64),
    /// The connection is closed after part of the body.
    Drop,
    /// A 200 whose JSON body is cut in half.
    Truncate,
    /// A 200 whose body is not JSON.
    Malformed,
    /// The user revokes the app's access (every token dies) before this request.
    Revoke,
}

/// Per-user counters readable at `GET /_sim/stats`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UserStats {
    /// API requests made with this user's tokens.
    pub requests: u64,
    /// By endpoint (path with dates replaced by `{date}`).
    pub by_endpoint: BTreeMap<String, u64>,
    /// 429 answers.
    pub rate_limited: u64,
    /// Requests left in the current hour.
    pub remaining: u32,
    /// Seconds until the hour's budget resets.
    pub reset_seconds: i64,
}

/// What `GET /_sim/stats` returns.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stats {
    /// Simulated now.
    pub now: String,
    /// By user id.
    pub users: BTreeMap<String, UserStats>,
    /// Token endpoint calls by grant type.
    pub token_requests: BTreeMap<String, u64>,
}

pub(crate) struct Window {
    hour: i64,
    used: u32,
}

pub(crate) struct Inner {
    pub cfg: Config,
    pub people: Vec<Person>,
    pub client_id: String,
    pub client_secret: String,
    pub google_client_id: String,
    pub google_client_secret: String,
    pub google_oauth: google_oauth::GoogleOAuth,
    /// Google Health: (minute, used) per health user id.
    pub minutes: HashMap<String, (i64, u32)>,
    /// Google Health requests of the whole project in the current clock minute.
    pub project_minute: (i64, u32),
    /// Simulated time at `real_base` plus what has been advanced.
    pub sim_base: DateTime<Utc>,
    pub real_base: std::time::Instant,
    pub oauth: oauth::OAuthState,
    pub windows: HashMap<String, Window>,
    pub stats: Stats,
    pub faults: Vec<Fault>,
    /// Trackers whose last sync a test has set (by person index), instead of the
    /// person's habit.
    pub pinned_syncs: HashMap<usize, DateTime<Utc>>,
}

impl Inner {
    /// The person's last tracker sync at `now`, on their wall clock: a pinned one (never
    /// later than now), else their habit's.
    pub fn last_sync(&self, p: &Person, now: DateTime<Utc>) -> chrono::NaiveDateTime {
        match self.pinned_syncs.get(&p.index) {
            Some(t) => (*t).min(now).with_timezone(&p.tz).naive_local(),
            None => p.last_sync_local(now),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        if self.cfg.frozen {
            self.sim_base
        } else {
            self.sim_base + Duration::from_std(self.real_base.elapsed()).unwrap_or_default()
        }
    }

    /// Counts a request against the user's hour; `Err` with the reset seconds past the limit.
    pub fn spend(&mut self, user: &str, endpoint: &str) -> (bool, u32, i64) {
        let now = self.now();
        let hour = now.timestamp().div_euclid(3600);
        let reset = (hour + 1) * 3600 - now.timestamp();
        let limit = self.cfg.rate_limit;
        let w = self
            .windows
            .entry(user.to_string())
            .or_insert(Window { hour, used: 0 });
        if w.hour != hour {
            *w = Window { hour, used: 0 };
        }
        let st = self.stats.users.entry(user.to_string()).or_default();
        st.requests += 1;
        *st.by_endpoint.entry(endpoint.to_string()).or_default() += 1;
        let ok = w.used < limit;
        if ok {
            w.used += 1;
        } else {
            st.rate_limited += 1;
        }
        (ok, limit - w.used, reset)
    }

    /// Counts a Google Health request against the user's clock minute; false past the limit.
    pub fn spend_minute(&mut self, user: &str, endpoint: &str, limit: u32) -> bool {
        let minute = self.now().timestamp().div_euclid(60);
        let w = self.minutes.entry(user.to_string()).or_insert((minute, 0));
        if w.0 != minute {
            *w = (minute, 0);
        }
        let st = self.stats.users.entry(user.to_string()).or_default();
        st.requests += 1;
        *st.by_endpoint.entry(endpoint.to_string()).or_default() += 1;
        if self.project_minute.0 != minute {
            self.project_minute = (minute, 0);
        }
        let project_ok = self.project_minute.1 < self.cfg.google_project_rate_limit;
        if w.1 < limit && project_ok {
            w.1 += 1;
            self.project_minute.1 += 1;
            true
        } else {
            st.rate_limited += 1;
            false
        }
    }

    pub fn take_fault(&mut self, path: &str) -> Option<FaultKind> {
        let i = self.faults.iter().position(|f| {
            f.count > 0 && f.path_contains.as_deref().is_none_or(|p| path.contains(p))
        })?;
        let f = &mut self.faults[i];
        f.count -= 1;
        let kind = f.kind.clone();
        if f.count == 0 {
            self.faults.remove(i);
        }
        Some(kind)
    }
}

pub(crate) type Shared = Arc<Mutex<Inner>>;

/// A running simulator; it stops when dropped.
pub struct Sim {
    addr: SocketAddr,
    inner: Shared,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// Errors starting the simulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address tried.
        addr: SocketAddr,
        /// OS error.
        source: std::io::Error,
    },
}

impl Sim {
    /// Starts on 127.0.0.1 with an ephemeral port.
    pub async fn start(cfg: Config) -> Result<Sim, SimError> {
        Self::start_on(cfg, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts on the given loopback address.
    pub async fn start_on(cfg: Config, addr: SocketAddr) -> Result<Sim, SimError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SimError::Bind { addr, source })?;
        let mut r = people::Rng::new(&[cfg.seed, 99]);
        let client_id: String = (0..6)
            .map(|_| b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ"[(r.next_u64() % 32) as usize] as char)
            .collect();
        let client_secret = format!("{:016x}{:016x}", r.next_u64(), r.next_u64());
        let google_client_id = format!(
            "{:012}-{:016x}.apps.googleusercontent.com",
            r.next_u64() % 1_000_000_000_000,
            r.next_u64()
        );
        let google_client_secret =
            format!("GOCSPX-{:016x}{:08x}", r.next_u64(), r.next_u64() as u32);
        let inner = Arc::new(Mutex::new(Inner {
            people: people::people(cfg.seed, cfg.users.max(1)),
            client_id,
            client_secret,
            google_client_id,
            google_client_secret,
            google_oauth: google_oauth::GoogleOAuth::default(),
            minutes: HashMap::new(),
            project_minute: (0, 0),
            sim_base: cfg.start,
            real_base: std::time::Instant::now(),
            oauth: oauth::OAuthState::default(),
            windows: HashMap::new(),
            stats: Stats::default(),
            faults: cfg.faults.clone(),
            pinned_syncs: HashMap::new(),
            cfg,
        }));
        let app = Router::new()
            .route(
                "/oauth2/authorize",
                get(oauth::authorize).post(oauth::decide),
            )
            .route("/oauth2/token", post(oauth::token))
            .route("/oauth2/revoke", post(oauth::revoke))
            .route(
                "/o/oauth2/v2/auth",
                get(google_oauth::authorize).post(google_oauth::decide),
            )
            .route("/token", post(google_oauth::token))
            .route("/revoke", post(google_oauth::revoke))
            .route("/v4/{*rest}", axum::routing::any(google::api))
            .route("/_sim/stats", get(stats))
            .route("/_sim/clock", post(clock))
            .route("/_sim/faults", post(add_faults))
            .fallback(fitbit::api)
            .with_state(inner.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Sim {
            addr,
            inner,
            _shutdown: tx,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The registered client's id.
    pub fn client_id(&self) -> String {
        self.lock().client_id.clone()
    }

    /// The registered client's secret.
    pub fn client_secret(&self) -> String {
        self.lock().client_secret.clone()
    }

    /// The registered Google OAuth client's id (a Desktop client).
    pub fn google_client_id(&self) -> String {
        self.lock().google_client_id.clone()
    }

    /// The registered Google OAuth client's secret.
    pub fn google_client_secret(&self) -> String {
        self.lock().google_client_secret.clone()
    }

    /// A Google bearer token for person `index` with the given scopes, minted without
    /// the OAuth dance (for benchmarks).
    pub fn issue_google_token(&self, index: usize, scope: &str) -> String {
        let mut g = self.lock();
        let (seed, now, testing) = (g.cfg.seed, g.now(), g.cfg.google_testing);
        let user = g.people[index.min(g.people.len() - 1)].id.clone();
        g.google_oauth
            .issue(seed, &user, scope, false, testing, now)["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The synthetic people.
    pub fn people(&self) -> Vec<Person> {
        self.lock().people.clone()
    }

    /// Current counters.
    pub fn stats(&self) -> Stats {
        snapshot(&mut self.lock())
    }

    /// Simulated now.
    pub fn now(&self) -> DateTime<Utc> {
        self.lock().now()
    }

    /// Moves the simulated clock forward.
    pub fn advance(&self, by: Duration) {
        self.lock().sim_base += by;
    }

    /// Sets the simulated clock.
    pub fn set_now(&self, now: DateTime<Utc>) {
        let mut g = self.lock();
        g.sim_base = now;
        g.real_base = std::time::Instant::now();
    }

    /// Sets when person `index`'s tracker last synced (`None`: back to their habit). The
    /// API then holds their days as synced by that instant, and lists it as the device's
    /// `lastSyncTime`.
    pub fn pin_sync(&self, index: usize, at: Option<DateTime<Utc>>) {
        let mut g = self.lock();
        match at {
            Some(t) => g.pinned_syncs.insert(index, t),
            None => g.pinned_syncs.remove(&index),
        };
    }

    /// Queues faults for the next matching requests.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.lock().faults.extend(faults);
    }

    /// Registers one more redirect URI for the client.
    pub fn add_redirect_uri(&self, uri: &str) {
        self.lock().cfg.redirect_uris.push(uri.to_string());
    }

    /// A bearer token for person `index` with the given scopes, minted without the OAuth
    /// dance (for benchmarks; tests should go through the real flow).
    pub fn issue_token(&self, index: usize, scope: &str) -> String {
        let mut g = self.lock();
        let (seed, now) = (g.cfg.seed, g.now());
        let user = g.people[index.min(g.people.len() - 1)].id.clone();
        g.oauth.issue(seed, &user, scope, now)["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Revokes every token of a user (as a user removing the app would).
    pub fn revoke_user(&self, user_id: &str) {
        let mut g = self.lock();
        g.oauth.revoke_user(user_id);
        g.google_oauth.revoke_user(user_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn snapshot(inner: &mut Inner) -> Stats {
    let now = inner.now();
    let hour = now.timestamp().div_euclid(3600);
    let reset = (hour + 1) * 3600 - now.timestamp();
    let limit = inner.cfg.rate_limit;
    let mut s = inner.stats.clone();
    s.now = now.to_rfc3339();
    for (user, st) in s.users.iter_mut() {
        let used = inner
            .windows
            .get(user)
            .filter(|w| w.hour == hour)
            .map_or(0, |w| w.used);
        st.remaining = limit - used;
        st.reset_seconds = reset;
    }
    s
}

pub(crate) fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

async fn stats(State(s): State<Shared>) -> Json<Stats> {
    Json(snapshot(&mut lock(&s)))
}

#[derive(Deserialize)]
struct ClockReq {
    advance_seconds: Option<i64>,
    set: Option<DateTime<Utc>>,
}

async fn clock(State(s): State<Shared>, Json(req): Json<ClockReq>) -> Json<serde_json::Value> {
    let mut g = lock(&s);
    if let Some(t) = req.set {
        g.sim_base = t;
        g.real_base = std::time::Instant::now();
    }
    if let Some(n) = req.advance_seconds {
        g.sim_base += Duration::seconds(n);
    }
    Json(serde_json::json!({ "now": g.now().to_rfc3339() }))
}

async fn add_faults(State(s): State<Shared>, Json(f): Json<Vec<Fault>>) -> Json<serde_json::Value> {
    let mut g = lock(&s);
    g.faults.extend(f);
    Json(serde_json::json!({ "queued": g.faults.len() }))
}
