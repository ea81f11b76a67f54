//! Fitbit's OAuth 2.0 server: authorize (consent page), token (code + PKCE, rotating
//! refresh tokens with a replay window), revoke. Reference: fitbit-web-api.md §1.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{lock, Shared};

/// Access tokens of the authorization-code flow live 8 hours.
pub const ACCESS_SECONDS: i64 = 28_800;

const SCOPES: &[&str] = &[
    "activity",
    "cardio_fitness",
    "electrocardiogram",
    "heartrate",
    "irregular_rhythm_notifications",
    "location",
    "nutrition",
    "oxygen_saturation",
    "profile",
    "respiratory_rate",
    "settings",
    "sleep",
    "social",
    "temperature",
    "weight",
];

struct Code {
    user: String,
    client_id: String,
    redirect_uri: Option<String>,
    scope: String,
    challenge: Option<(String, String)>,
    expires: DateTime<Utc>,
}

pub(crate) struct Access {
    pub user: String,
    pub expires: DateTime<Utc>,
    pub scope: String,
}

struct Refresh {
    active: String,
    scope: String,
    /// The last rotation: the spent token, the answer given, when, and the new access token.
    last: Option<(String, serde_json::Value, DateTime<Utc>, String)>,
}

#[derive(Default)]
pub(crate) struct OAuthState {
    codes: HashMap<String, Code>,
    pub access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    counter: u64,
}

/// Why a bearer token was refused.
pub(crate) enum Refused {
    Missing,
    Expired,
    Invalid,
}

impl OAuthState {
    fn mint(&mut self, seed: u64, kind: &str) -> String {
        self.counter += 1;
        let mut r = crate::people::Rng::new(&[seed, self.counter, kind.len() as u64]);
        format!("{kind}.{:016x}{:016x}", r.next_u64(), r.next_u64())
    }

    pub fn revoke_user(&mut self, user: &str) {
        self.access.retain(|_, a| a.user != user);
        self.refresh.remove(user);
    }

    /// The user of a bearer token, marking a freshly rotated pair as used.
    pub fn check(
        &mut self,
        header: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(String, String), Refused> {
        let token = crate::oauth::bearer(header).ok_or(Refused::Missing)?;
        let a = self.access.get(token).ok_or(Refused::Invalid)?;
        if a.expires <= now {
            return Err(Refused::Expired);
        }
        let (user, scope) = (a.user.clone(), a.scope.clone());
        if let Some(r) = self.refresh.get_mut(&user) {
            if r.last.as_ref().is_some_and(|l| l.3 == token) {
                r.last = None; // the new pair is in use: the replay window closes
            }
        }
        Ok((user, scope))
    }

    pub fn issue(
        &mut self,
        seed: u64,
        user: &str,
        scope: &str,
        now: DateTime<Utc>,
    ) -> serde_json::Value {
        let access = self.mint(seed, "at");
        let refresh = self.mint(seed, "rt");
        self.access.insert(
            access.clone(),
            Access {
                user: user.into(),
                expires: now + Duration::seconds(ACCESS_SECONDS),
                scope: scope.into(),
            },
        );
        let prev = self.refresh.insert(
            user.into(),
            Refresh {
                active: refresh.clone(),
                scope: scope.into(),
                last: None,
            },
        );
        // "each user will only have one active refresh token": the old one dies.
        drop(prev);
        json!({
            "access_token": access,
            "expires_in": ACCESS_SECONDS,
            "refresh_token": refresh,
            "scope": scope,
            "token_type": "Bearer",
            "user_id": user,
        })
    }
}

fn page(status: StatusCode, msg: &str) -> Response {
    (
        status,
        Html(format!(
            "<!doctype html><title>Fitbit</title><h1>Error</h1><p>{}</p>",
            html_escape(msg)
        )),
    )
        .into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(crate) fn redirect_with(uri: &str, params: &[(&str, &str)]) -> Response {
    let mut u = uri.to_string();
    let q: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    u.push(if u.contains('?') { '&' } else { '?' });
    u.push_str(&q.join("&"));
    Redirect::to(&u).into_response()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn fitbit_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"errors": [{"errorType": kind, "message": message}], "success": false})),
    )
        .into_response()
}

pub(crate) async fn authorize(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut g = lock(&s);
    if g.cfg.gone {
        return crate::fitbit::gone();
    }
    let get = |k: &str| q.get(k).map(String::as_str);
    if get("client_id") != Some(g.client_id.as_str()) {
        return page(StatusCode::BAD_REQUEST, "Invalid client_id");
    }
    let redirect = match get("redirect_uri") {
        Some(r) if g.cfg.redirect_uris.iter().any(|u| u == r) => r.to_string(),
        Some(_) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Invalid redirect_uri parameter value",
            )
        }
        None if g.cfg.redirect_uris.len() == 1 => g.cfg.redirect_uris[0].clone(),
        None => {
            return page(
                StatusCode::BAD_REQUEST,
                "Missing redirect_uri parameter value",
            )
        }
    };
    let state = get("state").unwrap_or("").to_string();
    let bad = |msg: &str| {
        redirect_with(
            &redirect,
            &[
                ("error", "invalid_request"),
                ("error_description", msg),
                ("state", &state),
            ],
        )
    };
    if get("response_type") != Some("code") {
        return bad("Unsupported response_type");
    }
    let scope = get("scope")
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>();
    if scope.is_empty() || scope.iter().any(|s| !SCOPES.contains(s)) {
        return redirect_with(&redirect, &[("error", "invalid_scope"), ("state", &state)]);
    }
    let challenge = match get("code_challenge") {
        None => None,
        Some(c) => {
            // The default method is `plain` (fitbit-web-api.md §1).
            let method = get("code_challenge_method").unwrap_or("plain");
            if method != "S256" && method != "plain" {
                return bad("Unsupported code_challenge_method");
            }
            if !(43..=128).contains(&c.len()) {
                return bad("The code_challenge parameter length must be between 43 and 128");
            }
            Some((c.to_string(), method.to_string()))
        }
    };
    let client_id = g.client_id.clone();
    let ctx = Pending {
        client_id,
        redirect,
        scope: scope.join(" "),
        state,
        challenge,
    };
    if g.cfg.auto_consent {
        let user = g.people[g.cfg.default_user.min(g.people.len() - 1)]
            .id
            .clone();
        // People may untick scopes on the consent page (fitbit-web-api.md, "Scopes").
        let unticked = g.cfg.fitbit_unticked_scopes.clone();
        let ctx = Pending {
            scope: ctx
                .scope
                .split_whitespace()
                .filter(|s| !unticked.iter().any(|u| u == s))
                .collect::<Vec<_>>()
                .join(" "),
            ..ctx
        };
        return grant(&mut g, ctx, &user, true);
    }
    let users: String = g
        .people
        .iter()
        .map(|p| {
            format!(
                "<option value=\"{0}\">{1} ({0})</option>",
                p.id,
                html_escape(&p.name)
            )
        })
        .collect();
    let hidden = |k: &str, v: &str| {
        format!(
            "<input type=hidden name=\"{k}\" value=\"{}\">",
            html_escape(v)
        )
    };
    let (cc, cm) = ctx.challenge.clone().unwrap_or_default();
    Html(format!(
        "<!doctype html><title>Fitbit: allow access</title><h1>Allow fitpipe to access your Fitbit data?</h1>\
         <p>Requested: {scopes}</p><form method=post action=/oauth2/authorize>{}{}{}{}{}{}\
         <label>Account <select name=user>{users}</select></label>\
         <button name=decision value=allow>Allow</button> <button name=decision value=deny>Deny</button></form>",
        hidden("client_id", &ctx.client_id),
        hidden("redirect_uri", &ctx.redirect),
        hidden("scope", &ctx.scope),
        hidden("state", &ctx.state),
        hidden("code_challenge", &cc),
        hidden("code_challenge_method", &cm),
        scopes = html_escape(&ctx.scope),
    ))
    .into_response()
}

struct Pending {
    client_id: String,
    redirect: String,
    scope: String,
    state: String,
    challenge: Option<(String, String)>,
}

fn grant(g: &mut crate::Inner, p: Pending, user: &str, allow: bool) -> Response {
    if !allow {
        return redirect_with(
            &p.redirect,
            &[("error", "access_denied"), ("state", &p.state)],
        );
    }
    let code = g.oauth.mint(g.cfg.seed, "code");
    let now = g.now();
    g.oauth.codes.insert(
        code.clone(),
        Code {
            user: user.into(),
            client_id: p.client_id,
            redirect_uri: Some(p.redirect.clone()),
            scope: p.scope,
            challenge: p.challenge,
            expires: now + Duration::minutes(10),
        },
    );
    // Fitbit appends `#_=_` to the redirect; clients must ignore the fragment.
    let mut r = redirect_with(&p.redirect, &[("code", &code), ("state", &p.state)]);
    if let Some(loc) = r
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|l| format!("{l}#_=_"))
    {
        r.headers_mut()
            .insert(header::LOCATION, loc.parse().expect("valid header"));
    }
    r
}

pub(crate) async fn decide(
    State(s): State<Shared>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let mut g = lock(&s);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let redirect = get("redirect_uri");
    if get("client_id") != g.client_id || !g.cfg.redirect_uris.contains(&redirect) {
        return page(StatusCode::BAD_REQUEST, "Invalid request");
    }
    let user = get("user");
    if !g.people.iter().any(|p| p.id == user) {
        return page(StatusCode::BAD_REQUEST, "Unknown account");
    }
    let cc = get("code_challenge");
    let p = Pending {
        client_id: get("client_id"),
        redirect,
        scope: get("scope"),
        state: get("state"),
        challenge: (!cc.is_empty()).then(|| (cc, get("code_challenge_method"))),
    };
    grant(&mut g, p, &user, get("decision") == "allow")
}

/// The token of an `Authorization: Bearer ...` header.
pub(crate) fn bearer(header: Option<&str>) -> Option<&str> {
    header
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
}

/// Whether a PKCE verifier answers the challenge sent with the authorization (RFC 7636).
pub(crate) fn pkce_ok(challenge: &str, method: &str, verifier: &str) -> bool {
    match method {
        "S256" => {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(Sha256::digest(verifier.as_bytes()))
                == challenge
        }
        _ => verifier == challenge,
    }
}

fn basic_client(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(v.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (id, secret) = s.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

pub(crate) async fn token(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let mut g = lock(&s);
    if g.cfg.gone {
        return crate::fitbit::gone();
    }
    let grant_type = f.get("grant_type").cloned().unwrap_or_default();
    *g.stats
        .token_requests
        .entry(grant_type.clone())
        .or_default() += 1;
    let client = match basic_client(&headers) {
        Some((id, secret)) if id == g.client_id && secret == g.client_secret => id,
        Some(_) => {
            return fitbit_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Invalid authorization header. Client credentials are invalid.",
            )
        }
        None => match f.get("client_id") {
            Some(id) if *id == g.client_id => id.clone(),
            _ => {
                return fitbit_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "Authorization header required.",
                )
            }
        },
    };
    let now = g.now();
    let seed = g.cfg.seed;
    match grant_type.as_str() {
        "authorization_code" => {
            let Some(code) = f.get("code").and_then(|c| g.oauth.codes.remove(c)) else {
                return fitbit_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Authorization code invalid",
                );
            };
            if code.expires <= now || code.client_id != client {
                return fitbit_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Authorization code expired",
                );
            }
            if code.redirect_uri.is_some() && f.get("redirect_uri") != code.redirect_uri.as_ref() {
                return fitbit_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Invalid redirect_uri parameter value",
                );
            }
            if let Some((challenge, method)) = &code.challenge {
                let verifier = f.get("code_verifier").map(String::as_str).unwrap_or("");
                if !pkce_ok(challenge, method, verifier) {
                    return fitbit_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "Code verifier invalid",
                    );
                }
            }
            let body = g.oauth.issue(seed, &code.user, &code.scope, now);
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        "refresh_token" => {
            let rt = f.get("refresh_token").cloned().unwrap_or_default();
            let grace = Duration::seconds(g.cfg.refresh_grace_seconds);
            let found = g.oauth.refresh.iter().find_map(|(user, r)| {
                if r.active == rt {
                    Some((user.clone(), r.scope.clone(), None))
                } else {
                    match &r.last {
                        Some((spent, answer, at, _)) if *spent == rt && now - *at < grace => {
                            Some((user.clone(), r.scope.clone(), Some(answer.clone())))
                        }
                        _ => None,
                    }
                }
            });
            match found {
                Some((_, _, Some(same))) => (StatusCode::OK, axum::Json(same)).into_response(),
                Some((user, scope, None)) => {
                    let body = g.oauth.issue(seed, &user, &scope, now);
                    let new_access = body["access_token"].as_str().unwrap_or_default().to_string();
                    if let Some(r) = g.oauth.refresh.get_mut(&user) {
                        r.last = Some((rt, body.clone(), now, new_access));
                    }
                    (StatusCode::OK, axum::Json(body)).into_response()
                }
                None => fitbit_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    &format!("Refresh token invalid: {rt}. Visit https://dev.fitbit.com/docs/oauth2 for more information on the Fitbit Web API authorization process."),
                ),
            }
        }
        _ => fitbit_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The grant type is not supported",
        ),
    }
}

pub(crate) async fn revoke(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let mut g = lock(&s);
    match basic_client(&headers) {
        Some((id, secret)) if id == g.client_id && secret == g.client_secret => {}
        _ => {
            return fitbit_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Invalid authorization header.",
            )
        }
    }
    let t = f.get("token").cloned().unwrap_or_default();
    let user = g.oauth.access.get(&t).map(|a| a.user.clone()).or_else(|| {
        g.oauth
            .refresh
            .iter()
            .find(|(_, r)| r.active == t)
            .map(|(u, _)| u.clone())
    });
    if let Some(u) = user {
        // "When the token is revoked, all tokens are revoked for that user".
        g.oauth.revoke_user(&u);
    }
    (StatusCode::OK, axum::Json(json!({}))).into_response()
}
