//! `fitpipe ingest --demo`: the whole flow against the built-in simulator, in-process.
//!
//! Starts the simulator on an ephemeral loopback port, runs the real OAuth code flow
//! (PKCE, state, loopback callback) against it, stores the tokens under
//! `<out>/.demo-config`, and ingests. Waits for rate-limit resets advance the simulator's
//! clock instead of sleeping.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{Duration, Utc};
use fitpipe_ingest::client::ApiClient;
use fitpipe_ingest::clock::ExternalClock;
use fitpipe_ingest::oauth::{self, Callback, OAuthApp};
use fitpipe_ingest::provider::Provider;
use fitpipe_ingest::store::{TokenStore, Tokens};
use fitpipe_sim::{Config, Sim};
use oauth2::ClientSecret;

use super::ingest::{duckdb_hint, finish};
use crate::output::hint;
use crate::progress::Progress;
use fitpipe_pipeline::pipeline::{ingest, Job};
use fitpipe_pipeline::session;

pub async fn run(job: Job) -> anyhow::Result<ExitCode> {
    let sim = Arc::new(
        Sim::start(Config {
            auto_consent: true,
            frozen: false,
            start: Utc::now(),
            ..Config::default()
        })
        .await
        .context("starting the simulator")?,
    );
    let provider = job.provider;
    if !job.quiet {
        eprintln!(
            "demo: simulator of the {} at {}",
            match provider {
                Provider::Fitbit => "Fitbit Web API",
                Provider::Google => "Google Health API v4",
            },
            sim.base_url()
        );
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("opening the OAuth callback port")?;
    let redirect = format!("http://{}/", listener.local_addr()?);
    sim.add_redirect_uri(&redirect);
    let (auth_url, token_url, revoke_url) = provider.endpoints(&sim.base_url());
    let (client_id, secret) = match provider {
        Provider::Fitbit => (sim.client_id(), sim.client_secret()),
        Provider::Google => (sim.google_client_id(), sim.google_client_secret()),
    };
    let app = OAuthApp {
        auth_url,
        token_url,
        revoke_url,
        client_id,
        client_secret: Some(ClientSecret::new(secret)),
        redirect_uri: redirect,
        scopes: provider.scopes(),
        auth_params: provider.auth_params(),
    };
    // The real code flow: this "browser" follows the consent redirect to our listener.
    let a = app.start()?;
    let url = a.url.clone();
    let browser = tokio::spawn(async move { reqwest::get(url).await.map(|_| ()) });
    let cb = oauth::wait_for_callback(
        listener,
        a.state.secret(),
        std::time::Duration::from_secs(30),
        None,
    )
    .await
    .map_err(session::explain)?;
    let _ = browser.await;
    let Callback::Code(code) = cb else {
        return Err(hint(
            "the simulator denied the demo authorisation",
            "this is a bug in the demo",
        ));
    };
    let grant = app
        .exchange(&code, a.verifier)
        .await
        .map_err(session::explain)?;
    let (user, tz) =
        session::identify(provider, &sim.base_url(), grant.access_token.secret()).await?;
    let store = TokenStore::new(&job.out.join(".demo-config"));
    let tokens = Tokens {
        provider: provider.name().into(),
        user_id: user.clone(),
        expires_at: session::expiry(sim.now(), &grant),
        refresh_expires_at: session::refresh_expiry(sim.now(), &grant),
        refused_at: None,
        access_token: grant.access_token,
        refresh_token: grant.refresh_token,
        scope: grant.scope.unwrap_or_default(),
        timezone: tz.clone(),
    };
    store.save(&tokens)?;
    if !job.quiet {
        eprintln!(
            "demo: authorised {user} ({}) with the OAuth code flow and PKCE",
            tz.as_deref().unwrap_or("no time zone")
        );
    }
    let (s1, s2) = (sim.clone(), sim.clone());
    let clock = ExternalClock::new(
        move || s1.now(),
        move |d: Duration| {
            s2.advance(d);
            Box::pin(async {})
        },
    );
    let progress = Arc::new(Progress::new(job.quiet, job.verbose));
    let mut client = ApiClient::new(
        &sim.base_url(),
        app,
        store,
        tokens,
        clock,
        progress.clone(),
        session::options(provider, false),
    );
    let ds = fitpipe_pipeline::tables::dataset(&job.out, job.formats.as_deref());
    let Some(_lock) = ds.lock(false)? else {
        return Err(hint(
            format!("another fitpipe run is writing to `{}`", job.out.display()),
            "wait for it to finish",
        ));
    };
    let mut job = job;
    // Without `--from`, a first demo fetches 90 days; a later one continues incrementally.
    let fresh = fitpipe_ingest::state::SyncState::load(&job.out)?
        .resources()
        .is_empty();
    if job.from.is_none() && fresh {
        job.from = Some(sim.now().date_naive() - Duration::days(90));
    }
    let outcome = ingest(&job, &mut client, progress).await?.outcome;
    if !job.quiet && !job.dry_run {
        eprintln!("\nLook at it:\n  {}", duckdb_hint(&job.out));
        eprintln!("  python -c \"import pandas as pd; print(pd.read_parquet('{}/sleep_sessions').tail())\"", job.out.display());
    }
    finish(outcome, &job)
}
