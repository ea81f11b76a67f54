//! Token refresh against the simulator: the new pair is on disk before it is used.

use std::sync::Arc;

use chrono::Duration;
use fitpipe_ingest::client::{ApiClient, Options, Silent};
use fitpipe_ingest::clock::ExternalClock;
use fitpipe_ingest::fitbit;
use fitpipe_ingest::oauth::{parse_redirect, Callback, OAuthApp};
use fitpipe_ingest::store::{TokenStore, Tokens};
use fitpipe_sim::{Config, Sim};
use oauth2::ClientSecret;

async fn setup() -> (Arc<Sim>, OAuthApp, TokenStore, Tokens, tempfile::TempDir) {
    let sim = Arc::new(
        Sim::start(Config {
            auto_consent: true,
            ..Config::default()
        })
        .await
        .unwrap(),
    );
    let (auth_url, token_url, revoke_url) = fitbit::endpoints(&sim.base_url());
    let app = OAuthApp {
        auth_url,
        token_url,
        revoke_url,
        client_id: sim.client_id(),
        client_secret: Some(ClientSecret::new(sim.client_secret())),
        redirect_uri: "http://127.0.0.1:8080/".into(),
        scopes: vec!["activity".into(), "profile".into()],
        auth_params: Vec::new(),
    };
    let a = app.start().unwrap();
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(&a.url)
        .send()
        .await
        .unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let Some(Callback::Code(code)) = parse_redirect(&loc, a.state.secret()).unwrap() else {
        panic!("{loc}")
    };
    let g = app.exchange(&code, a.verifier).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = TokenStore::new(dir.path());
    let t = Tokens {
        provider: fitbit::PROVIDER.into(),
        user_id: sim.people()[0].id.clone(),
        access_token: g.access_token,
        refresh_token: g.refresh_token,
        expires_at: sim.now() + Duration::hours(8),
        scope: g.scope.unwrap_or_default(),
        timezone: None,
        refresh_expires_at: None,
        refused_at: None,
    };
    store.save(&t).unwrap();
    (sim, app, store, t, dir)
}

fn client(sim: &Arc<Sim>, app: &OAuthApp, store: &TokenStore, t: Tokens) -> ApiClient {
    let (a, b) = (sim.clone(), sim.clone());
    let clock = ExternalClock::new(
        move || a.now(),
        move |d| {
            b.advance(d);
            Box::pin(async {})
        },
    );
    ApiClient::new(
        &sim.base_url(),
        app.clone(),
        store.clone(),
        t,
        clock,
        Arc::new(Silent),
        Options::default(),
    )
}

#[tokio::test]
async fn a_process_killed_right_after_a_refresh_leaves_a_working_store() {
    let (sim, app, store, t, _dir) = setup().await;
    let old_refresh = t.refresh_token.clone().unwrap();
    let mut c = client(&sim, &app, &store, t);
    c.refresh().await.unwrap();
    drop(c); // killed before the new access token was ever used
    let on_disk = store
        .load(fitbit::PROVIDER, &sim.people()[0].id)
        .unwrap()
        .unwrap();
    assert_ne!(
        on_disk.refresh_token.as_ref().unwrap().secret(),
        old_refresh.secret(),
        "the new pair is on disk"
    );
    let mut c = client(&sim, &app, &store, on_disk);
    c.get("/1/user/-/profile.json").await.unwrap();
    // Using the new pair closed the replay window: the old refresh token is dead now.
    assert!(app.refresh(&old_refresh).await.is_err());
}

#[tokio::test]
async fn expired_access_token_is_refreshed_on_401_and_saved() {
    let (sim, app, store, mut t, _dir) = setup().await;
    // The client believes the token is fresh; the server says it expired.
    t.expires_at = sim.now() + Duration::hours(100);
    sim.advance(Duration::hours(9));
    let mut c = client(&sim, &app, &store, t.clone());
    c.get("/1/user/-/activities/steps/date/2026-10-01/2026-10-07.json")
        .await
        .unwrap();
    assert_eq!(sim.stats().token_requests.get("refresh_token"), Some(&1));
    let on_disk = store.load(fitbit::PROVIDER, &t.user_id).unwrap().unwrap();
    assert_ne!(on_disk.access_token.secret(), t.access_token.secret());
}

#[test]
fn token_files_are_private_and_debug_output_hides_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let store = TokenStore::new(dir.path());
    let t = Tokens {
        provider: "fitbit-web-api".into(),
        user_id: "ABC123".into(),
        access_token: oauth2::AccessToken::new("very-secret-access".into()),
        refresh_token: Some(oauth2::RefreshToken::new("very-secret-refresh".into())),
        expires_at: chrono::Utc::now(),
        scope: "activity".into(),
        timezone: None,
        refresh_expires_at: None,
        refused_at: None,
    };
    store.save(&t).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("tokens/fitbit-web-api-ABC123.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let dbg = format!("{t:?}");
    assert!(!dbg.contains("very-secret"), "{dbg}");
    assert_eq!(
        store
            .load("fitbit-web-api", "ABC123")
            .unwrap()
            .unwrap()
            .refresh_token
            .unwrap()
            .secret(),
        "very-secret-refresh"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path().join("tokens"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
}

/// A peer on loopback that answers every request with `head` (and an empty JSON body).
async fn hostile(head: &'static str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(
                        format!("{head}\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}")
                            .as_bytes(),
                    )
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

fn plain_client(base: &str) -> ApiClient {
    let dir = tempfile::tempdir().unwrap();
    let store = TokenStore::new(dir.path());
    let t = Tokens {
        provider: fitbit::PROVIDER.into(),
        user_id: "U".into(),
        access_token: oauth2::AccessToken::new("a".into()),
        refresh_token: None,
        expires_at: chrono::Utc::now() + Duration::hours(1),
        scope: "activity".into(),
        timezone: None,
        refresh_expires_at: None,
        refused_at: None,
    };
    let (auth_url, token_url, revoke_url) = fitbit::endpoints(base);
    let app = OAuthApp {
        auth_url,
        token_url,
        revoke_url,
        client_id: "c".into(),
        client_secret: None,
        redirect_uri: "http://127.0.0.1:8080/".into(),
        scopes: vec![],
        auth_params: Vec::new(),
    };
    // No real waits: the clock only counts what it is asked to wait.
    let clock = ExternalClock::new(chrono::Utc::now, |_| Box::pin(async {}));
    ApiClient::new(
        base,
        app,
        store,
        t,
        clock,
        Arc::new(Silent),
        Options::default(),
    )
}

// Regression: `Retry-After: 99999999999999` on a 429 overflowed the clock
// (`DateTime + TimeDelta overflowed`, exit 2). A wait beyond the hour stops the run with
// the time to resume; huge and negative rate headers are clamped, never a panic.
#[tokio::test]
async fn a_huge_retry_after_or_reset_header_stops_the_run_without_a_panic() {
    let base = hostile("HTTP/1.1 429 Too Many Requests\r\nretry-after: 99999999999999").await;
    let mut c = plain_client(&base);
    match c.get("/1/user/-/profile.json").await {
        Err(fitpipe_ingest::IngestError::BudgetSpent { reset_at }) => {
            assert!(
                reset_at > chrono::Utc::now() + Duration::hours(1),
                "{reset_at}"
            );
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    let base = hostile(
        "HTTP/1.1 200 OK\r\nfitbit-rate-limit-limit: -5\r\nfitbit-rate-limit-remaining: 99999999999999\r\nfitbit-rate-limit-reset: -99999999999999",
    )
    .await;
    let mut c = plain_client(&base);
    c.get("/1/user/-/profile.json").await.unwrap();
    let base = hostile(
        "HTTP/1.1 200 OK\r\nfitbit-rate-limit-limit: 150\r\nfitbit-rate-limit-remaining: 1\r\nfitbit-rate-limit-reset: 99999999999999",
    )
    .await;
    let mut c = plain_client(&base);
    c.get("/1/user/-/profile.json").await.unwrap();
}
