//! Google's OAuth 2.0 server as the Google Health API uses it (google-health-api.md §2):
//! a Desktop client with loopback redirects on any port, PKCE, `access_type=offline`
//! and `prompt=consent` for a refresh token, granular consent (the person may untick
//! scopes), access tokens of 3599 s, refresh tokens that do not rotate and, in Testing
//! mode, die 7 days after consent (`refresh_token_expires_in: 604799`), `invalid_grant`
//! for a dead one, and revoke.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::oauth::redirect_with;
use crate::{lock, Shared};

/// Access tokens live an hour, less a second, as Google reports it.
pub const ACCESS_SECONDS: i64 = 3599;
/// Testing-mode refresh tokens: "expire seven days from the time of consent".
pub const TESTING_REFRESH_SECONDS: i64 = 604_799;

/// The prefix of every Google Health scope.
pub const SCOPE_PREFIX: &str = "https://www.googleapis.com/auth/googlehealth.";

const AREAS: &[&str] = &[
    "activity_and_fitness",
    "health_metrics_and_measurements",
    "sleep",
    "profile",
    "settings",
    "location",
    "nutrition",
    "ecg",
    "irn",
];

fn known_scope(s: &str) -> bool {
    if matches!(s, "openid" | "email" | "profile") {
        return true;
    }
    s.strip_prefix(SCOPE_PREFIX).is_some_and(|rest| {
        let area = rest
            .strip_suffix(".readonly")
            .or_else(|| rest.strip_suffix(".writeonly"))
            .unwrap_or(rest);
        AREAS.contains(&area)
    })
}

struct Code {
    user: String,
    redirect_uri: String,
    scope: String,
    challenge: Option<(String, String)>,
    offline: bool,
    expires: DateTime<Utc>,
}

pub(crate) struct Access {
    pub user: String,
    pub expires: DateTime<Utc>,
    pub scope: String,
    grant: u64,
}

struct Grant {
    user: String,
    scope: String,
    /// Testing mode: when the refresh token dies.
    refresh_expires: Option<DateTime<Utc>>,
    revoked: bool,
}

#[derive(Default)]
pub(crate) struct GoogleOAuth {
    codes: HashMap<String, Code>,
    pub access: HashMap<String, Access>,
    /// Refresh token -> grant.
    refresh: HashMap<String, u64>,
    grants: HashMap<u64, Grant>,
    /// Users who have consented before (without `prompt=consent` they get no new refresh token).
    consented: std::collections::HashSet<String>,
    counter: u64,
}

/// Why a bearer token was refused.
pub(crate) enum Refused {
    Missing,
    Invalid,
}

impl GoogleOAuth {
    fn mint(&mut self, seed: u64, prefix: &str) -> String {
        self.counter += 1;
        let mut r = crate::people::Rng::new(&[seed, self.counter, 0x600913]);
        format!("{prefix}{:016x}{:016x}", r.next_u64(), r.next_u64())
    }

    /// The user and scopes of a bearer token.
    pub fn check(
        &self,
        header: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(String, String), Refused> {
        let token = crate::oauth::bearer(header).ok_or(Refused::Missing)?;
        let a = self.access.get(token).ok_or(Refused::Invalid)?;
        let alive = self.grants.get(&a.grant).is_some_and(|g| !g.revoked);
        if a.expires <= now || !alive {
            return Err(Refused::Invalid);
        }
        Ok((a.user.clone(), a.scope.clone()))
    }

    fn access_token(&mut self, seed: u64, grant: u64, now: DateTime<Utc>) -> String {
        let token = self.mint(seed, "ya29.");
        let g = &self.grants[&grant];
        self.access.insert(
            token.clone(),
            Access {
                user: g.user.clone(),
                expires: now + Duration::seconds(ACCESS_SECONDS),
                scope: g.scope.clone(),
                grant,
            },
        );
        token
    }

    /// Mints a grant with an access token (and a refresh token when `offline`).
    pub fn issue(
        &mut self,
        seed: u64,
        user: &str,
        scope: &str,
        offline: bool,
        testing: bool,
        now: DateTime<Utc>,
    ) -> serde_json::Value {
        self.counter += 1;
        let id = self.counter;
        self.grants.insert(
            id,
            Grant {
                user: user.into(),
                scope: scope.into(),
                refresh_expires: testing.then(|| now + Duration::seconds(TESTING_REFRESH_SECONDS)),
                revoked: false,
            },
        );
        let access = self.access_token(seed, id, now);
        let mut body = json!({
            "access_token": access,
            "expires_in": ACCESS_SECONDS,
            "scope": scope,
            "token_type": "Bearer",
        });
        if offline {
            let rt = self.mint(seed, "1//0");
            self.refresh.insert(rt.clone(), id);
            body["refresh_token"] = json!(rt);
            if testing {
                body["refresh_token_expires_in"] = json!(TESTING_REFRESH_SECONDS);
            }
        }
        self.consented.insert(user.to_string());
        body
    }

    /// Revokes every grant of a user (the person removing the app's access).
    pub fn revoke_user(&mut self, user: &str) {
        for g in self.grants.values_mut().filter(|g| g.user == user) {
            g.revoked = true;
        }
    }
}

fn error_page(msg: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><title>Error 400</title><h1>Access blocked: authorization error</h1><p>{}</p>",
            msg.replace('<', "&lt;")
        )),
    )
        .into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// A Desktop client accepts a loopback redirect on any port (native-app guide).
fn loopback(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

struct Request {
    redirect: String,
    scope: String,
    state: String,
    challenge: Option<(String, String)>,
    offline: bool,
    force_consent: bool,
}

/// `GET /o/oauth2/v2/auth`: checks the request, then shows the consent page (or
/// consents at once for the configured person).
pub(crate) async fn authorize(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut g = lock(&s);
    let get = |k: &str| q.get(k).map(String::as_str);
    if get("client_id") != Some(g.google_client_id.as_str()) {
        return error_page("Error 401: invalid_client. The OAuth client was not found.");
    }
    let redirect = match get("redirect_uri") {
        Some(r) if loopback(r) => r.to_string(),
        _ => return error_page("Error 400: redirect_uri_mismatch"),
    };
    let state = get("state").unwrap_or("").to_string();
    if get("response_type") != Some("code") {
        return redirect_with(
            &redirect,
            &[("error", "unsupported_response_type"), ("state", &state)],
        );
    }
    let scopes: Vec<&str> = get("scope").unwrap_or("").split_whitespace().collect();
    if scopes.is_empty() {
        return error_page("Error 400: invalid_request. Missing required parameter: scope");
    }
    if let Some(bad) = scopes.iter().find(|s| !known_scope(s)) {
        return error_page(&format!(
            "Error 400: invalid_scope. Some requested scopes were invalid. {{invalid=[{bad}]}}"
        ));
    }
    let challenge = match get("code_challenge") {
        None => None,
        Some(c) => {
            let method = get("code_challenge_method").unwrap_or("plain");
            if !matches!(method, "S256" | "plain") || !(43..=128).contains(&c.len()) {
                return error_page("Error 400: invalid_request. Invalid code_challenge");
            }
            Some((c.to_string(), method.to_string()))
        }
    };
    let req = Request {
        redirect,
        scope: scopes.join(" "),
        state,
        challenge,
        offline: get("access_type") == Some("offline"),
        force_consent: get("prompt").is_some_and(|p| p.split(' ').any(|x| x == "consent")),
    };
    if g.cfg.auto_consent {
        let user = g.people[g.cfg.default_user.min(g.people.len() - 1)]
            .id
            .clone();
        // Granular consent: the person may untick some of the requested scopes.
        let denied = g.cfg.google_unticked_scopes.clone();
        let scope = req
            .scope
            .split(' ')
            .filter(|s| !denied.iter().any(|d| s.ends_with(d.as_str())))
            .collect::<Vec<_>>()
            .join(" ");
        return grant(&mut g, req, &user, Some(scope));
    }
    let esc = |v: &str| {
        v.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
    };
    let hidden =
        |k: &str, v: &str| format!("<input type=hidden name=\"{k}\" value=\"{}\">", esc(v));
    let (cc, cm) = req.challenge.clone().unwrap_or_default();
    let users: String = g
        .people
        .iter()
        .map(|p| format!("<option value=\"{0}\">{1}</option>", p.id, esc(&p.name)))
        .collect();
    let boxes: String = req
        .scope
        .split(' ')
        .map(|s| {
            format!(
                "<label><input type=checkbox name=granted value=\"{0}\" checked> {0}</label><br>",
                esc(s)
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><title>Sign in - Google Accounts</title><h1>fitpipe wants access to your Google Account</h1>\
         <form method=post action=/o/oauth2/v2/auth>{}{}{}{}{}{}{}\
         <label>Account <select name=user>{users}</select></label><br>{boxes}\
         <button name=decision value=allow>Continue</button> <button name=decision value=deny>Cancel</button></form>",
        hidden("redirect_uri", &req.redirect),
        hidden("scope", &req.scope),
        hidden("state", &req.state),
        hidden("code_challenge", &cc),
        hidden("code_challenge_method", &cm),
        hidden("access_type", if req.offline { "offline" } else { "online" }),
        hidden("prompt", if req.force_consent { "consent" } else { "" }),
    ))
    .into_response()
}

/// `POST /o/oauth2/v2/auth`: the consent page's answer.
pub(crate) async fn decide(State(s): State<Shared>, body: String) -> Response {
    let mut g = lock(&s);
    let pairs: Vec<(String, String)> = url_pairs(&body);
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let redirect = get("redirect_uri");
    if !loopback(&redirect) {
        return error_page("Error 400: redirect_uri_mismatch");
    }
    let user = get("user");
    if !g.people.iter().any(|p| p.id == user) {
        return error_page("Unknown account");
    }
    let cc = get("code_challenge");
    let req = Request {
        redirect,
        scope: get("scope"),
        state: get("state"),
        challenge: (!cc.is_empty()).then(|| (cc, get("code_challenge_method"))),
        offline: get("access_type") == "offline",
        force_consent: get("prompt") == "consent",
    };
    if get("decision") != "allow" {
        return redirect_with(
            &req.redirect,
            &[("error", "access_denied"), ("state", &req.state)],
        );
    }
    let granted: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "granted")
        .map(|(_, v)| v.clone())
        .collect();
    grant(&mut g, req, &user, Some(granted.join(" ")))
}

fn url_pairs(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(h, 16).unwrap_or(b'?'));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn grant(g: &mut crate::Inner, req: Request, user: &str, scope: Option<String>) -> Response {
    let code = g.google_oauth.mint(g.cfg.seed, "4/0A");
    let now = g.now();
    // Without `prompt=consent`, a person who consented before gets no new refresh token.
    let offline = req.offline && (req.force_consent || !g.google_oauth.consented.contains(user));
    g.google_oauth.codes.insert(
        code.clone(),
        Code {
            user: user.into(),
            redirect_uri: req.redirect.clone(),
            scope: scope.unwrap_or(req.scope),
            challenge: req.challenge,
            offline,
            expires: now + Duration::minutes(10),
        },
    );
    let scope = g.google_oauth.codes[&code].scope.clone();
    redirect_with(
        &req.redirect,
        &[("state", &req.state), ("code", &code), ("scope", &scope)],
    )
}

fn client(g: &crate::Inner, headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|s| s.split_once(':').map(|(a, b)| (decode(a), decode(b))));
    let (id, secret) = basic.unwrap_or_else(|| {
        (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        )
    });
    id == g.google_client_id && secret == g.google_client_secret
}

/// `POST /token`: the authorization-code and refresh-token grants.
pub(crate) async fn token(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let mut g = lock(&s);
    let grant_type = f.get("grant_type").cloned().unwrap_or_default();
    *g.stats
        .token_requests
        .entry(format!("google:{grant_type}"))
        .or_default() += 1;
    if !client(&g, &headers, &f) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        );
    }
    let (now, seed, testing) = (g.now(), g.cfg.seed, g.cfg.google_testing);
    match grant_type.as_str() {
        "authorization_code" => {
            let Some(code) = f.get("code").and_then(|c| g.google_oauth.codes.remove(c)) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Malformed auth code.",
                );
            };
            if code.expires <= now {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Bad Request");
            }
            if f.get("redirect_uri") != Some(&code.redirect_uri) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "redirect_uri_mismatch",
                    "Bad Request",
                );
            }
            if let Some((challenge, method)) = &code.challenge {
                let v = f.get("code_verifier").map(String::as_str).unwrap_or("");
                if !crate::oauth::pkce_ok(challenge, method, v) {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "Invalid code verifier.",
                    );
                }
            }
            let body =
                g.google_oauth
                    .issue(seed, &code.user, &code.scope, code.offline, testing, now);
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        "refresh_token" => {
            let rt = f.get("refresh_token").cloned().unwrap_or_default();
            let alive = g.google_oauth.refresh.get(&rt).copied().filter(|id| {
                g.google_oauth
                    .grants
                    .get(id)
                    .is_some_and(|gr| !gr.revoked && gr.refresh_expires.is_none_or(|e| e > now))
            });
            let Some(id) = alive else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Token has been expired or revoked.",
                );
            };
            // Google's refresh tokens do not rotate: the answer has no `refresh_token`.
            let access = g.google_oauth.access_token(seed, id, now);
            let scope = g.google_oauth.grants[&id].scope.clone();
            (
                StatusCode::OK,
                axum::Json(json!({
                    "access_token": access,
                    "expires_in": ACCESS_SECONDS,
                    "scope": scope,
                    "token_type": "Bearer",
                })),
            )
                .into_response()
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {grant_type}"),
        ),
    }
}

/// `POST /revoke`: an access or refresh token ends its whole grant.
pub(crate) async fn revoke(
    State(s): State<Shared>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let mut g = lock(&s);
    let t = f.get("token").cloned().unwrap_or_default();
    let o = &mut g.google_oauth;
    let grant = o
        .refresh
        .get(&t)
        .copied()
        .or_else(|| o.access.get(&t).map(|a| a.grant));
    match grant
        .and_then(|id| o.grants.get_mut(&id))
        .filter(|gr| !gr.revoked)
    {
        Some(gr) => {
            gr.revoked = true;
            (StatusCode::OK, axum::Json(json!({}))).into_response()
        }
        None => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_token",
            "Token expired or revoked",
        ),
    }
}
