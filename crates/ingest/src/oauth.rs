//! The OAuth 2.0 authorization-code flow with PKCE (S256) and `state`, using the `oauth2`
//! crate, plus the loopback callback listener that exits as soon as it has an answer.

use std::time::Duration as StdDuration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::IngestError;

/// Token-response fields beyond RFC 6749 that fitpipe reads.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ExtraFields {
    /// Google, for an app in Testing status: seconds until the refresh token dies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_expires_in: Option<u64>,
}
impl oauth2::ExtraTokenFields for ExtraFields {}

type TokenResponse_ = oauth2::StandardTokenResponse<ExtraFields, oauth2::basic::BasicTokenType>;

/// The `oauth2` client with fitpipe's token response, and a token endpoint when `T` is
/// `EndpointSet`.
type Client<T = oauth2::EndpointNotSet> = oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    TokenResponse_,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    T,
>;
type TokenClient = Client<oauth2::EndpointSet>;

/// A registered OAuth client of a provider.
#[derive(Debug, Clone)]
pub struct OAuthApp {
    /// Authorization page.
    pub auth_url: String,
    /// Token endpoint.
    pub token_url: String,
    /// Revocation endpoint.
    pub revoke_url: String,
    /// Client id.
    pub client_id: String,
    /// Client secret (server and personal apps); never logged.
    pub client_secret: Option<ClientSecret>,
    /// Registered redirect URI (loopback).
    pub redirect_uri: String,
    /// Scopes to ask for.
    pub scopes: Vec<String>,
    /// Extra parameters of the authorization URL (Google: `access_type=offline`).
    pub auth_params: Vec<(String, String)>,
}

/// A started authorization: the URL to open, and what checks the answer.
#[derive(Debug)]
pub struct Authorization {
    /// The URL to open in a browser.
    pub url: String,
    /// The anti-forgery `state` sent.
    pub state: CsrfToken,
    /// The PKCE verifier whose S256 challenge was sent.
    pub verifier: PkceCodeVerifier,
}

/// Tokens from the token endpoint.
#[derive(Debug)]
pub struct Grant {
    /// Access token.
    pub access_token: oauth2::AccessToken,
    /// Refresh token, when one was issued.
    pub refresh_token: Option<RefreshToken>,
    /// Lifetime of the access token.
    pub expires_in: Option<StdDuration>,
    /// Granted scopes, space-separated.
    pub scope: Option<String>,
    /// How long the refresh token lives, where the provider says (Google Testing status).
    pub refresh_expires_in: Option<StdDuration>,
}

fn http() -> reqwest::Client {
    // Following redirects from a token endpoint opens the door to SSRF.
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(StdDuration::from_secs(60))
        .build()
        .expect("TLS backend available")
}

impl OAuthApp {
    fn url<T>(
        &self,
        what: &'static str,
        s: &str,
        f: impl FnOnce(String) -> Result<T, oauth2::url::ParseError>,
    ) -> Result<T, IngestError> {
        f(s.to_string()).map_err(|e| IngestError::Config(format!("invalid {what} `{s}`: {e}")))
    }

    /// Builds the authorization URL with a fresh `state` and PKCE S256 challenge.
    pub fn start(&self) -> Result<Authorization, IngestError> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_auth_uri(self.url("authorization URL", &self.auth_url, AuthUrl::new)?)
            .set_redirect_uri(self.url("redirect URI", &self.redirect_uri, RedirectUrl::new)?);
        let mut req = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(self.scopes.iter().map(|s| Scope::new(s.clone())))
            .set_pkce_challenge(challenge);
        for (k, v) in &self.auth_params {
            req = req.add_extra_param(k.clone(), v.clone());
        }
        let (url, state) = req.url();
        Ok(Authorization {
            url: url.to_string(),
            state,
            verifier,
        })
    }

    fn token_client(&self) -> Result<TokenClient, IngestError> {
        let mut c = Client::new(ClientId::new(self.client_id.clone()))
            .set_token_uri(self.url("token URL", &self.token_url, TokenUrl::new)?)
            .set_redirect_uri(self.url("redirect URI", &self.redirect_uri, RedirectUrl::new)?);
        if let Some(s) = &self.client_secret {
            c = c.set_client_secret(s.clone());
        }
        Ok(c)
    }

    /// Exchanges the code for tokens, proving possession of the PKCE verifier.
    pub async fn exchange(
        &self,
        code: &str,
        verifier: PkceCodeVerifier,
    ) -> Result<Grant, IngestError> {
        let r = self
            .token_client()?
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(verifier)
            .request_async(&http())
            .await
            .map_err(token_error)?;
        Ok(grant(r))
    }

    /// Uses a refresh token. At Fitbit it is single use: save the new pair before use.
    pub async fn refresh(&self, refresh: &RefreshToken) -> Result<Grant, IngestError> {
        let r = self
            .token_client()?
            .exchange_refresh_token(refresh)
            .request_async(&http())
            .await
            .map_err(token_error)?;
        Ok(grant(r))
    }

    /// Revokes a token (at Fitbit: every token of the user).
    pub async fn revoke(&self, token: &str) -> Result<(), IngestError> {
        let mut req = http().post(&self.revoke_url).form(&[("token", token)]);
        if let Some(s) = &self.client_secret {
            req = req.basic_auth(&self.client_id, Some(s.secret()));
        }
        let r = req.send().await.map_err(|e| IngestError::Http {
            url: self.revoke_url.clone(),
            message: e.to_string(),
        })?;
        if !r.status().is_success() {
            return Err(IngestError::Api {
                status: r.status().as_u16(),
                url: self.revoke_url.clone(),
                message: r.text().await.unwrap_or_default(),
            });
        }
        Ok(())
    }
}

fn grant(r: TokenResponse_) -> Grant {
    Grant {
        refresh_expires_in: r
            .extra_fields()
            .refresh_token_expires_in
            .map(StdDuration::from_secs),
        access_token: r.access_token().clone(),
        refresh_token: r.refresh_token().cloned(),
        expires_in: r.expires_in(),
        scope: r.scopes().map(|s| {
            s.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        }),
    }
}

fn token_error<RE: std::error::Error + 'static>(
    e: RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
) -> IngestError {
    let text = match &e {
        // Fitbit's error body is `{"errors":[{"errorType":"invalid_grant",...}]}`, not
        // RFC 6749's, so it arrives here as a parse failure with the body attached.
        RequestTokenError::Parse(_, body) => String::from_utf8_lossy(body).into_owned(),
        RequestTokenError::ServerResponse(r) => r.to_string(),
        other => other.to_string(),
    };
    if text.contains("invalid_grant") {
        return IngestError::InvalidGrant;
    }
    // The API's own message, not its raw JSON.
    let message = crate::client::api_message(text.as_bytes());
    if message.starts_with("gone:") || message.contains("turned off") {
        // The shut-down Fitbit endpoints answer 410 Gone (fitbit-web-api.md §0).
        IngestError::Gone
    } else {
        IngestError::Token(message.chars().take(300).collect())
    }
}

/// What came back to the redirect URI.
#[derive(Debug, PartialEq, Eq)]
pub enum Callback {
    /// The authorization code.
    Code(String),
    /// The person (or the server) said no: the `error` parameter.
    Denied(String),
}

/// Parses a redirect URL (or just its query) into a callback, checking `state`.
pub fn parse_redirect(url_or_query: &str, state: &str) -> Result<Option<Callback>, IngestError> {
    let query = url_or_query
        .split_once('?')
        .map_or(url_or_query, |(_, q)| q);
    let query = query.split('#').next().unwrap_or("");
    let pairs: Vec<(String, String)> = oauth2::url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| pairs.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
    if get("code").is_none() && get("error").is_none() {
        return Ok(None);
    }
    if get("state").as_deref() != Some(state) {
        return Err(IngestError::StateMismatch);
    }
    if let Some(e) = get("error") {
        return Ok(Some(Callback::Denied(e)));
    }
    Ok(get("code").map(Callback::Code))
}

/// Waits for the browser's redirect on `listener` (or a pasted redirect URL on `paste`),
/// answering the browser with a page that says what happened. Returns as soon as it has
/// a code or a denial, or fails after `timeout`.
pub async fn wait_for_callback(
    listener: TcpListener,
    state: &str,
    timeout: StdDuration,
    paste: Option<tokio::sync::mpsc::Receiver<String>>,
) -> Result<Callback, IngestError> {
    let mut paste = paste;
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    // Each connection is read on a task of its own, with a deadline of its own: an idle
    // connection (a browser's preconnect, or anyone holding one open) never stalls the
    // real redirect, nor the overall `timeout`.
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<Result<Callback, IngestError>>(4);
    let state = std::sync::Arc::new(state.to_string());
    loop {
        let pasted = async {
            match paste.as_mut() {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = &mut deadline => return Err(IngestError::AuthTimeout(timeout.as_secs())),
            line = pasted => match line {
                Some(line) => {
                    if let Some(cb) = parse_redirect(line.trim(), &state)? {
                        return Ok(cb);
                    }
                }
                None => paste = None,
            },
            Some(outcome) = done_rx.recv() => return outcome,
            conn = listener.accept() => {
                let Ok((stream, _)) = conn else { continue };
                let (tx, state) = (done_tx.clone(), state.clone());
                tokio::spawn(async move {
                    let answer = tokio::time::timeout(CONNECTION_DEADLINE, answer(stream, &state));
                    if let Ok(Some(outcome)) = answer.await {
                        let _ = tx.send(outcome).await;
                    }
                });
            }
        }
    }
}

/// How long one connection to the callback listener may take to send its request.
const CONNECTION_DEADLINE: StdDuration = StdDuration::from_secs(10);

/// Reads one request (its first line at most 8 KiB), answers it with a page, and returns
/// the outcome if it was the authorization redirect.
async fn answer(
    stream: tokio::net::TcpStream,
    state: &str,
) -> Option<Result<Callback, IngestError>> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read.take(8192));
    let mut first = String::new();
    if reader.read_line(&mut first).await.is_err() || !first.ends_with('\n') {
        return None;
    }
    // Drain the headers (bounded) so the browser sees a clean response.
    let mut rest = vec![0u8; 8192];
    let _ = tokio::time::timeout(StdDuration::from_millis(50), reader.read(&mut rest)).await;
    let target = first.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (status, page, outcome) = match parse_redirect(&target, state) {
        Ok(Some(Callback::Code(c))) => ("200 OK", "fitpipe is authorised. You can close this page; the terminal carries on.", Some(Ok(Callback::Code(c)))),
        Ok(Some(Callback::Denied(e))) => ("200 OK", "Access was denied. You can close this page.", Some(Ok(Callback::Denied(e)))),
        Ok(None) => ("404 Not Found", "Not the authorization redirect.", None),
        Err(e) => ("400 Bad Request", "The state parameter does not match: this answer is not for the authorization fitpipe started.", Some(Err(e))),
    };
    let body = format!("<!doctype html><title>fitpipe</title><p>{page}</p>");
    let resp = format!("HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
    let _ = write.write_all(resp.as_bytes()).await;
    let _ = write.shutdown().await;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_parsing_checks_state() {
        assert_eq!(
            parse_redirect("http://127.0.0.1:8080/?code=abc&state=s#_=_", "s").unwrap(),
            Some(Callback::Code("abc".into()))
        );
        assert_eq!(
            parse_redirect("/?error=access_denied&state=s", "s").unwrap(),
            Some(Callback::Denied("access_denied".into()))
        );
        assert!(matches!(
            parse_redirect("/?code=abc&state=evil", "s"),
            Err(IngestError::StateMismatch)
        ));
        assert_eq!(parse_redirect("/favicon.ico", "s").unwrap(), None);
    }
}
