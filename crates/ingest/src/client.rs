//! The generic request loop: auth (refresh before expiry and on `expired_token`), pacing
//! by the rate-limit headers, retries with backoff and jitter. Endpoint knowledge lives
//! in the provider modules; this only fetches paths.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};

use crate::clock::Clock;
use crate::oauth::OAuthApp;
use crate::pacelog::{PaceLog, Recent};
use crate::store::{TokenStore, Tokens};
use crate::IngestError;

/// Told about waits and budget so a CLI can show them.
pub trait Reporter: Send + Sync {
    /// The rate-limit headers of the last response.
    fn rate(&self, _remaining: u32, _limit: u32) {}
    /// A wait starts (rate-limit reset or backoff).
    fn waiting(&self, _seconds: i64, _why: &str) {}
    /// A request is retried after a transient failure.
    fn retry(&self, _attempt: u32, _why: &str) {}
    /// A response arrived: method, URL without its query, status and body size. Never
    /// given a token.
    fn response(&self, _method: &str, _url: &str, _status: u16, _bytes: usize) {}
}

/// A seed that differs between processes and runs: the clock's nanoseconds and the
/// process id, hashed with `RandomState` (whose keys come from the OS's random source).
fn jitter_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    h.finish() | 1
}

/// Reports nothing.
pub struct Silent;
impl Reporter for Silent {}

/// How the client behaves.
#[derive(Clone)]
pub struct Options {
    /// Per-request timeout.
    pub timeout: StdDuration,
    /// Attempts for transient failures (5xx, timeouts, dropped connections, bad bodies).
    pub max_attempts: u32,
    /// First backoff; doubles each attempt, with jitter, capped at 5 minutes.
    pub backoff: Duration,
    /// Requests kept in reserve before waiting for the reset ("headers are approximate").
    pub reserve: u32,
    /// Extra wait after the announced reset (clock skew at the top of the hour).
    pub reset_buffer: Duration,
    /// Stop with [`IngestError::BudgetSpent`] instead of waiting for the reset.
    pub no_wait: bool,
    /// Refresh when the access token has less than this left.
    pub refresh_margin: Duration,
    /// Pace to at most this many requests in any 60 seconds (Google: 300 per user per
    /// minute, paced at 240 as the reference recommends); `None` paces by the
    /// rate-limit headers (Fitbit).
    pub per_minute: Option<u32>,
    /// A pace shared by every client of a project (a study's participants together):
    /// at most its limit in any 60 seconds across them all, on top of `per_minute`.
    pub project: Option<Arc<SharedPace>>,
}

/// A per-minute request limit shared by many clients (the project-wide quota: Google
/// allows 120,000 a minute per project, 250 a second for an unverified app).
#[derive(Debug)]
pub struct SharedPace {
    per_minute: u32,
    sent: std::sync::Mutex<(Recent, Option<PaceLog>)>,
}

impl SharedPace {
    /// A shared limit of `per_minute` requests in any 60 seconds.
    pub fn new(per_minute: u32) -> Arc<Self> {
        Arc::new(SharedPace {
            per_minute: per_minute.max(1),
            sent: Default::default(),
        })
    }

    /// The same, remembered in the pace log at `path` (what a killed run sent in its
    /// last minute still counts after a restart).
    pub fn logged(per_minute: u32, path: std::path::PathBuf, now: DateTime<Utc>) -> Arc<Self> {
        let (log, recent) = PaceLog::open(path, now);
        Arc::new(SharedPace {
            per_minute: per_minute.max(1),
            sent: std::sync::Mutex::new((recent, Some(log))),
        })
    }

    /// Books a request at `now`, or says how long to wait before asking again.
    fn book(&self, now: DateTime<Utc>) -> Option<Duration> {
        let mut guard = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        let (recent, log) = &mut *guard;
        let sent = &mut recent.sent;
        while sent
            .front()
            .is_some_and(|t| now - *t >= Duration::minutes(1))
        {
            sent.pop_front();
        }
        let n = self.per_minute as usize;
        if sent.len() >= n {
            return Some(sent[sent.len() - n] + Duration::minutes(1) - now);
        }
        sent.push_back(now);
        if let Some(log) = log {
            log.sent(now, recent);
        }
        None
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: StdDuration::from_secs(60),
            max_attempts: 6,
            backoff: Duration::seconds(2),
            reserve: 2,
            reset_buffer: Duration::seconds(60),
            no_wait: false,
            refresh_margin: Duration::minutes(5),
            per_minute: None,
            project: None,
        }
    }
}

/// A fetched response body.
#[derive(Debug)]
pub struct Fetched {
    /// The body exactly as received.
    pub body: Vec<u8>,
    /// When it was received.
    pub at: DateTime<Utc>,
}

/// What the last response said about the budget (remembered across restarts by the
/// pace log).
pub use crate::pacelog::Announced as Budget;

/// A client for one user of one provider.
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    app: OAuthApp,
    store: TokenStore,
    tokens: Tokens,
    clock: Arc<dyn Clock>,
    reporter: Arc<dyn Reporter>,
    opts: Options,
    /// The requests of the last minute and the last budget (with the log that keeps
    /// them across restarts).
    recent: Recent,
    pace_log: PaceLog,
    jitter: u64,
    /// Requests sent (including retries).
    pub requests: u64,
    /// Requests that got no answer within [`Options::timeout`] (each one retried).
    pub timeouts: u64,
}

impl ApiClient {
    /// A client for the user whose tokens are given.
    pub fn new(
        base: &str,
        app: OAuthApp,
        store: TokenStore,
        tokens: Tokens,
        clock: Arc<dyn Clock>,
        reporter: Arc<dyn Reporter>,
        opts: Options,
    ) -> Self {
        let http = reqwest::Client::builder()
            .timeout(opts.timeout)
            .user_agent(concat!("fitpipe/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("TLS backend available");
        // What this account spent before this process started (a killed run's requests).
        let (pace_log, recent) = PaceLog::open(
            store.pace_log(&tokens.provider, &tokens.user_id),
            clock.now(),
        );
        ApiClient {
            http,
            base: base.trim_end_matches('/').to_string(),
            app,
            store,
            jitter: jitter_seed(),
            tokens,
            clock,
            reporter,
            opts,
            recent,
            pace_log,
            requests: 0,
            timeouts: 0,
        }
    }

    /// The user's tokens as they stand.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// Now, by the client's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The last budget seen.
    pub fn budget(&self) -> Option<Budget> {
        self.recent.budget
    }

    /// Refreshes the access token under the user's inter-process lock. If another process
    /// refreshed meanwhile, its (newer) tokens are used instead of spending ours.
    pub async fn refresh(&mut self) -> Result<(), IngestError> {
        let store = self.store.clone();
        let (provider, user) = (self.tokens.provider.clone(), self.tokens.user_id.clone());
        let _lock = tokio::task::spawn_blocking(move || store.lock_user(&provider, &user))
            .await
            .map_err(|e| IngestError::Config(e.to_string()))??;
        if let Some(on_disk) = self
            .store
            .load(&self.tokens.provider, &self.tokens.user_id)?
        {
            let ours = self.tokens.refresh_token.as_ref().map(|r| r.secret());
            if on_disk.refresh_token.as_ref().map(|r| r.secret()) != ours
                && on_disk.expires_at - self.clock.now() > self.opts.refresh_margin
            {
                self.tokens = on_disk;
                return Ok(());
            }
        }
        let Some(rt) = self.tokens.refresh_token.clone() else {
            return Err(IngestError::InvalidGrant);
        };
        let g = match self.app.refresh(&rt).await {
            Err(IngestError::InvalidGrant) => {
                return Err(match self.tokens.refresh_expires_at {
                    Some(at) if at <= self.clock.now() + Duration::minutes(5) => {
                        IngestError::TestingExpired(at)
                    }
                    _ => IngestError::InvalidGrant,
                })
            }
            other => other?,
        };
        let mut t = self.tokens.clone();
        t.access_token = g.access_token;
        if let Some(r) = g.refresh_token {
            t.refresh_token = Some(r);
        }
        t.expires_at = self.clock.now()
            + Duration::from_std(g.expires_in.unwrap_or(StdDuration::from_secs(3600)))
                .unwrap_or_default();
        if let Some(s) = g.scope {
            t.scope = s;
        }
        // Fitbit refresh tokens are single use: the new pair is on disk before it is used.
        self.store.save(&t)?;
        self.tokens = t;
        Ok(())
    }

    /// Exponential backoff with full-range jitter (0.5 to 1.5 times the step), from a
    /// generator seeded per process: concurrent runs do not retry in lockstep.
    fn backoff(&mut self, attempt: u32) -> Duration {
        let base = self.opts.backoff * 2i32.pow(attempt.min(8));
        self.jitter = self
            .jitter
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let frac = (self.jitter >> 33) as f64 / (1u64 << 31) as f64; // 0..1
        let ms = (base.num_milliseconds() as f64 * (0.5 + frac)) as i64;
        Duration::milliseconds(ms.min(300_000))
    }

    async fn wait(&self, d: Duration, why: &str) {
        self.reporter.waiting(d.num_seconds(), why);
        self.clock.sleep(d).await;
    }

    async fn pace(&mut self) -> Result<(), IngestError> {
        self.pace_user().await?;
        if let Some(project) = self.opts.project.clone() {
            while let Some(d) = project.book(self.clock.now()) {
                self.wait(
                    d.max(Duration::milliseconds(10)),
                    "pacing under the project-wide quota",
                )
                .await;
            }
        }
        Ok(())
    }

    /// Notes in the token store that the provider refused these tokens (revoked or
    /// ended), so `auth status` and a study's summary say so. Best effort.
    pub fn mark_refused(&mut self) {
        self.tokens.refused_at = Some(self.clock.now());
        let _ = self.store.save(&self.tokens);
    }

    async fn pace_user(&mut self) -> Result<(), IngestError> {
        if let Some(n) = self.opts.per_minute {
            let now = self.clock.now();
            let sent = &mut self.recent.sent;
            while sent
                .front()
                .is_some_and(|t| now - *t >= Duration::minutes(1))
            {
                sent.pop_front();
            }
            if sent.len() >= n as usize {
                let until = sent[sent.len() - n as usize] + Duration::minutes(1) - now;
                self.wait(until, "pacing under the per-minute quota").await;
            }
            let at = self.clock.now();
            self.recent.sent.push_back(at);
            self.pace_log.sent(at, &self.recent);
            return Ok(());
        }
        let Some(b) = self.budget() else {
            return Ok(());
        };
        if b.remaining > self.opts.reserve {
            return Ok(());
        }
        let until = b.reset_at + self.opts.reset_buffer - self.clock.now();
        if until <= Duration::zero() {
            return Ok(());
        }
        if self.opts.no_wait {
            return Err(IngestError::BudgetSpent {
                reset_at: b.reset_at,
            });
        }
        self.wait(until, "rate-limit budget spent; waiting for the reset")
            .await;
        Ok(())
    }

    fn read_budget(&mut self, h: &reqwest::header::HeaderMap) {
        let num = |k: &str| {
            h.get(k)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        if let (Some(limit), Some(rem), Some(reset)) = (
            num("fitbit-rate-limit-limit"),
            num("fitbit-rate-limit-remaining"),
            num("fitbit-rate-limit-reset"),
        ) {
            // Whatever the server sends: the budget resets within the hour (no overflow
            // from a hostile or broken header).
            let b = Budget {
                limit: limit.clamp(0, i64::from(u32::MAX)) as u32,
                remaining: rem.clamp(0, i64::from(u32::MAX)) as u32,
                reset_at: self.clock.now() + Duration::seconds(reset.clamp(0, 3600)),
            };
            self.reporter.rate(b.remaining, b.limit);
            self.recent.budget = Some(b);
            self.pace_log.budget(b, &self.recent);
        }
    }

    /// GETs `path` (relative to the API base) and returns the body once it is valid JSON.
    pub async fn get(&mut self, path: &str) -> Result<Fetched, IngestError> {
        self.send(&crate::Request::get(path)).await
    }

    /// Sends a request (relative to the API base) and returns the body once it is valid JSON.
    pub async fn send(&mut self, req: &crate::Request) -> Result<Fetched, IngestError> {
        let url = format!("{}{}", self.base, req.path);
        let mut attempt = 0u32;
        let mut refreshed = false;
        loop {
            if self.tokens.expires_at - self.clock.now() < self.opts.refresh_margin {
                self.refresh().await?;
            }
            self.pace().await?;
            self.requests += 1;
            let mut builder = self
                .http
                .request(req.method.clone(), &url)
                .bearer_auth(self.tokens.access_token.secret());
            if let Some(b) = &req.body {
                builder = builder.json(b);
            }
            let sent = builder.send().await;
            let transient = match sent {
                Err(e) => {
                    if e.is_timeout() {
                        self.timeouts += 1;
                        "timed out".to_string()
                    } else {
                        e.to_string()
                    }
                }
                Ok(r) => {
                    self.read_budget(r.headers());
                    let status = r.status().as_u16();
                    let size = r.content_length().unwrap_or(0) as usize;
                    self.reporter
                        .response(req.method.as_str(), &redact(&url), status, size);
                    let retry_after = r
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<i64>().ok());
                    match r.bytes().await {
                        Err(e) => format!("the connection broke while reading the body ({e})"),
                        Ok(body) => match status {
                            200..=299 => {
                                if whole_answer(&req.path, &body) {
                                    return Ok(Fetched {
                                        body: body.to_vec(),
                                        at: self.clock.now(),
                                    });
                                }
                                "the body is not valid JSON or a whole TCX file (truncated or malformed)".to_string()
                            }
                            401 => {
                                let text = String::from_utf8_lossy(&body);
                                // Fitbit names an expired token; Google answers any bad
                                // token with UNAUTHENTICATED: refresh once, then give up.
                                if (text.contains("expired_token")
                                    || text.contains("UNAUTHENTICATED"))
                                    && !refreshed
                                {
                                    refreshed = true;
                                    self.refresh().await?;
                                    continue;
                                }
                                return Err(IngestError::Unauthorized(api_message(&body)));
                            }
                            410 => return Err(IngestError::Gone),
                            429 => {
                                if self.opts.no_wait {
                                    let reset_at = self
                                        .budget()
                                        .map_or(self.clock.now() + Duration::hours(1), |b| {
                                            b.reset_at
                                        });
                                    return Err(IngestError::BudgetSpent { reset_at });
                                }
                                // `Retry-After` is unreliable at Fitbit; the reset header is
                                // not. Google sends neither for sure: back off from 1 s.
                                let wait = match (self.budget(), retry_after) {
                                    (Some(b), _) => {
                                        (b.reset_at - self.clock.now()).max(Duration::zero())
                                            + self.opts.reset_buffer
                                    }
                                    // A wait beyond the hour is not waited out: the run
                                    // stops, keeping what it has (a peer's huge
                                    // `Retry-After` once overflowed the clock here).
                                    (None, Some(s)) if s > LONGEST_RETRY_AFTER_S => {
                                        return Err(IngestError::BudgetSpent {
                                            reset_at: self.clock.now()
                                                + Duration::seconds(s.min(7 * 86_400)),
                                        });
                                    }
                                    (None, Some(s)) => Duration::seconds(s.max(0)),
                                    (None, None) => self.backoff(attempt),
                                };
                                self.wait(wait, "429 Too Many Requests; waiting").await;
                                attempt += 1;
                                if attempt >= self.opts.max_attempts * 2 {
                                    return Err(IngestError::Api {
                                        status,
                                        url: redact(&url),
                                        message: api_message(&body),
                                    });
                                }
                                continue;
                            }
                            500..=599 => format!("HTTP {status}: {}", api_message(&body)),
                            _ => {
                                return Err(IngestError::Api {
                                    status,
                                    url: redact(&url),
                                    message: api_message(&body),
                                })
                            }
                        },
                    }
                }
            };
            attempt += 1;
            if attempt >= self.opts.max_attempts {
                return Err(IngestError::Http {
                    url: redact(&url),
                    message: format!("{transient} (gave up after {attempt} attempts)"),
                });
            }
            self.reporter.retry(attempt, &transient);
            let d = self.backoff(attempt - 1);
            self.wait(d, "retrying after a transient failure").await;
        }
    }
}

/// The longest `Retry-After` a run waits out; a longer one stops the run (resumable).
const LONGEST_RETRY_AFTER_S: i64 = 3600;

fn redact(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}

/// The API's own message from a Fitbit or Google error body, else the start of the body.
pub fn api_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(m) = v["errors"][0]["message"].as_str() {
            let kind = v["errors"][0]["errorType"].as_str().unwrap_or("error");
            return format!("{kind}: {}", strip_tokens(m));
        }
        if let Some(m) = v["error"]["message"].as_str() {
            // google.rpc.Status: classify by status and ErrorInfo reason, not the text.
            let e = &v["error"];
            let status = e["status"].as_str().unwrap_or("");
            let info = e["details"]
                .as_array()
                .and_then(|d| d.iter().find(|x| x["reason"].is_string()));
            let reason = info.and_then(|i| i["reason"].as_str()).unwrap_or("");
            let meta = info
                .and_then(|i| i["metadata"].as_object())
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| !matches!(k.as_str(), "service" | "method" | "consumer"))
                        .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .filter(|m| !m.is_empty())
                .map(|m| format!(" ({m})"))
                .unwrap_or_default();
            let head = [status, reason]
                .iter()
                .filter(|x| !x.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            return if head.is_empty() {
                m.to_string()
            } else {
                format!("{head}: {m}{meta}")
            };
        }
    }
    String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned()
}

/// Fitbit echoes the token in some messages ("Access token expired: eyJ..."); never print it.
fn strip_tokens(m: &str) -> String {
    match m.find(": ") {
        Some(i) if m.starts_with("Access token") || m.starts_with("Refresh token") => {
            format!("{}: <redacted>", &m[..i])
        }
        _ => m.to_string(),
    }
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("base", &self.base)
            .field("user", &self.tokens.user_id)
            .finish()
    }
}

/// Whether a 2xx body arrived whole: JSON that parses, or for a route (TCX) request an
/// XML file that ends with its root element's end tag (a cut connection leaves it out).
fn whole_answer(path: &str, body: &[u8]) -> bool {
    let route = path.ends_with(".tcx") || path.contains(":exportExerciseTcx");
    if route {
        return body
            .trim_ascii_end()
            .ends_with(b"</TrainingCenterDatabase>");
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Regression: the seed was the access token's length, so every process backed off in
    // lockstep.
    #[test]
    fn jitter_seeds_differ_between_clients() {
        let seeds: std::collections::HashSet<u64> = (0..16).map(|_| jitter_seed()).collect();
        assert_eq!(seeds.len(), 16);
    }
}
