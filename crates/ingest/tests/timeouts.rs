//! A server that holds a request open: the client gives up on it after its timeout,
//! counts it, and asks again.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use fitpipe_ingest::client::{ApiClient, Options, Silent};
use fitpipe_ingest::clock::ExternalClock;
use fitpipe_ingest::oauth::OAuthApp;
use fitpipe_ingest::store::{TokenStore, Tokens};
use fitpipe_ingest::Request;
use oauth2::AccessToken;

/// Accepts connections; the first is read and never answered, the others get `{"ok":1}`.
fn holding_server() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let t = std::thread::spawn(move || {
        let mut held = Vec::new();
        for (n, conn) in listener.incoming().enumerate() {
            let mut c = conn.unwrap();
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            if n == 0 {
                held.push(c); // kept open, never answered
                continue;
            }
            let body = r#"{"ok":1}"#;
            let _ = write!(
                c,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            return;
        }
    });
    (base, t)
}

#[tokio::test]
async fn a_request_held_open_is_counted_as_a_timeout_and_asked_again() {
    let (base, server) = holding_server();
    let dir = tempfile::tempdir().unwrap();
    let store = TokenStore::new(dir.path());
    let tokens = Tokens {
        provider: "fitbit".into(),
        user_id: "U1".into(),
        access_token: AccessToken::new("a".into()),
        refresh_token: None,
        expires_at: Utc::now() + Duration::hours(8),
        scope: String::new(),
        timezone: None,
        refresh_expires_at: None,
        refused_at: None,
    };
    // Never used: the token is fresh and nothing is refused.
    let app = OAuthApp {
        auth_url: format!("{base}/authorize"),
        token_url: format!("{base}/token"),
        revoke_url: format!("{base}/revoke"),
        client_id: "c".into(),
        client_secret: None,
        redirect_uri: "http://127.0.0.1:8080/".into(),
        scopes: Vec::new(),
        auth_params: Vec::new(),
    };
    // Backoff waits pass at once.
    let clock = ExternalClock::new(Utc::now, |_| Box::pin(async {}));
    let opts = Options {
        timeout: StdDuration::from_millis(400),
        max_attempts: 3,
        ..Options::default()
    };
    let mut client = ApiClient::new(&base, app, store, tokens, clock, Arc::new(Silent), opts);
    let got = client.send(&Request::get("/x.json")).await.unwrap();
    assert_eq!(got.body, br#"{"ok":1}"#);
    assert_eq!(client.requests, 2, "one held, one answered");
    assert_eq!(client.timeouts, 1);
    server.join().unwrap();
}
