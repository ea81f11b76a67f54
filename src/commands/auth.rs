//! `fitpipe auth`: the authorization-code flow with PKCE, `auth status`, `auth revoke`,
//! and taking over the tutorial's token files.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use fitpipe_ingest::fitbit::PROVIDER;
use fitpipe_ingest::oauth::{self, Callback};
use fitpipe_ingest::provider::Provider;
use fitpipe_ingest::store::Tokens;
use oauth2::{AccessToken, ClientSecret, RefreshToken};

use crate::cli::{AuthAction, AuthArgs};
use crate::output::{hint, stdout};
use fitpipe_pipeline::config::{self, Config};
use fitpipe_pipeline::env;
use fitpipe_pipeline::session;

pub fn run(args: AuthArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        Some(AuthAction::Status { provider, json }) => status(provider.map(Into::into), json),
        Some(AuthAction::Revoke { user, api }) => {
            let provider = session::provider(api.provider(), user.as_deref(), Provider::Google)?;
            revoke(provider, user.as_deref(), api.api_base)
        }
        None => match &args.import_tutorial {
            Some(dir) => import_tutorial(dir, args.api.api_base.clone()),
            None => authorize(args),
        },
    }
}

fn authorize(args: AuthArgs) -> anyhow::Result<ExitCode> {
    // A fresh machine authorises with the live API; an existing grant's provider is kept.
    let provider = session::provider(args.api.provider(), None, Provider::Google)?;
    let mut s = session::app(
        provider,
        args.client_id.clone(),
        args.redirect_uri.clone(),
        args.api.api_base.clone(),
        false,
    )?;
    if s.app.client_secret.is_none() {
        if !std::io::stdin().is_terminal() {
            return Err(hint(
                "no client secret",
                format!(
                    "set `{}`; fitpipe never takes it as a flag",
                    env::CLIENT_SECRET
                ),
            ));
        }
        eprint!(
            "Client secret of app {} (input is shown; set {} to skip this): ",
            s.app.client_id,
            env::CLIENT_SECRET
        );
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let secret = line.trim().to_string();
        if secret.is_empty() {
            return Err(hint("no client secret given", "run `fitpipe auth` again"));
        }
        s.app.client_secret = Some(ClientSecret::new(secret));
    }
    let redirect = oauth2::url::Url::parse(&s.app.redirect_uri).map_err(|e| {
        hint(
            format!("invalid redirect URI `{}`: {e}", s.app.redirect_uri),
            "use the loopback URI registered for your app, e.g. `http://127.0.0.1:8080/`",
        )
    })?;
    let host = redirect.host_str().unwrap_or("");
    if redirect.scheme() != "http"
        || !(host == "127.0.0.1" || host == "localhost" || host == "[::1]")
    {
        return Err(hint(
            format!("the redirect URI `{redirect}` is not a loopback address"),
            "fitpipe receives the code on 127.0.0.1 only: register `http://127.0.0.1:8080/` for your app",
        ));
    }
    let port = redirect.port().unwrap_or(80);
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
            hint(format!("cannot listen on 127.0.0.1:{port} for the OAuth callback: {e}"), "stop whatever uses that port, or register and pass another `--redirect-uri`")
        })?;
        let a = s.app.start()?;
        eprintln!("Open this address in a browser and allow access:\n\n  {}\n", a.url);
        if !args.no_browser {
            open_browser(&a.url);
        }
        eprintln!(
            "Waiting up to {} s for the browser to come back to {}.\nOn a machine without a browser, paste the address you were sent to here and press Enter.",
            args.timeout, s.app.redirect_uri
        );
        let paste = paste_channel();
        let cb = oauth::wait_for_callback(listener, a.state.secret(), std::time::Duration::from_secs(args.timeout), Some(paste))
            .await
            .map_err(session::explain)?;
        let code = match cb {
            Callback::Code(c) => c,
            Callback::Denied(e) => {
                return Err(hint(format!("authorisation was refused at the consent page (`{e}`)"), "run `fitpipe auth` again and choose Allow"))
            }
        };
        eprintln!("Got the authorization code; exchanging it for tokens.");
        let grant = s.app.exchange(&code, a.verifier).await.map_err(session::explain)?;
        let (user, tz) = session::identify(provider, &s.api_base, grant.access_token.secret()).await?;
        let store = session::store()?;
        // The clock the token will be checked against: a simulator's under test.
        let now = session::clock().await.now();
        let tokens = Tokens {
            provider: provider.name().into(),
            user_id: user.clone(),
            expires_at: session::expiry(now, &grant),
            refresh_expires_at: session::refresh_expiry(now, &grant),
            refused_at: None,
            access_token: grant.access_token,
            refresh_token: grant.refresh_token,
            scope: grant.scope.clone().unwrap_or_default(),
            timezone: tz.clone(),
        };
        store.save(&tokens)?;
        if let Some(secret) = &s.app.client_secret {
            // Cron then needs nothing but the command (an environment variable or the
            // config file still wins).
            store.save_secret(provider.name(), &user, secret)?;
        }
        let mut cfg = Config::load()?;
        let p = cfg.providers.entry(provider.name().into()).or_default();
        p.client_id = Some(s.app.client_id.clone());
        p.redirect_uri = Some(s.app.redirect_uri.clone());
        if s.api_base != provider.api_base() {
            p.api_base = Some(s.api_base.clone());
        }
        cfg.save()?;
        stdout(&format!("authorised {user} ({}) for: {}\n", tz.as_deref().unwrap_or("no time zone"), tokens.scope))?;
        if tokens.refresh_token.is_none() {
            eprintln!("warning: no refresh token was issued: fitpipe can use this authorisation for an hour only. Run `fitpipe auth` again (it asks for offline access and consent).");
        }
        if provider == Provider::Google {
            let missing = fitpipe_ingest::google::missing_scopes(&tokens.scope);
            if !missing.is_empty() {
                eprintln!("warning: these scopes were not granted (unticked at the consent screen): {}. Resources that need them will fail with a clear error; run `fitpipe auth --provider google-health` again to grant them.", missing.join(", "));
            }
        }
        if let Some(at) = tokens.refresh_expires_at {
            eprintln!("warning: this app is in Testing status, so Google ends the authorisation on {} (7 days after consent): cron runs will stop then. Publish the app to keep it (README, \"Google Health setup\").", at.format("%Y-%m-%d %H:%M UTC"));
        }
        eprintln!("Tokens saved in `{}` (readable by you only). Next: fitpipe ingest --provider {} --from 2020-04-01", config::dir()?.join("tokens").display(), provider.name());
        Ok(ExitCode::SUCCESS)
    })
}

/// Lines typed or pasted on stdin, for the headless fallback. A detached thread, so
/// that the process can exit while it still waits for input.
fn paste_channel() -> tokio::sync::mpsc::Receiver<String> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn open_browser(url: &str) {
    let cmd = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    let ok = std::process::Command::new(cmd)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok();
    if !ok {
        eprintln!("(could not start a browser with `{cmd}`; open the address yourself)");
    }
}

fn status(provider: Option<Provider>, json: bool) -> anyhow::Result<ExitCode> {
    let store = session::store()?;
    let users = store.users(provider.map(|p| p.name()))?;
    if users.is_empty() {
        eprintln!("no authorised user in `{}`", config::dir()?.display());
        eprintln!("hint: run `fitpipe auth`");
        return Ok(ExitCode::from(1));
    }
    // The clock of a simulator under test, else the system's.
    let now = tokio::runtime::Runtime::new()
        .context("starting the async runtime")?
        .block_on(session::clock())
        .now();
    let mut json_rows = Vec::new();
    let mut rows = vec![[
        "provider".to_string(),
        "user".to_string(),
        "access token".to_string(),
        "time zone".to_string(),
        "scopes".to_string(),
    ]];
    for t in users {
        let state = if let Some(at) = t.refused_at {
            format!(
                "refused by the provider {}: run `fitpipe auth`",
                at.format("%Y-%m-%d %H:%M UTC")
            )
        } else if t.expires_at > now {
            format!("valid until {}", t.expires_at.format("%H:%M UTC"))
        } else if t.refresh_token.is_some() {
            "expired (auto-refresh)".to_string()
        } else {
            "expired: re-auth".to_string()
        };
        let state = match t.refresh_expires_at {
            Some(at) if at <= now => {
                format!("{state}; refresh token expired {}", at.format("%Y-%m-%d"))
            }
            Some(at) => format!("{state}; refresh token ends {}", at.format("%Y-%m-%d")),
            None => state,
        };
        json_rows.push(serde_json::json!({
            "provider": t.provider,
            "user": t.user_id,
            "access_token_expires": t.expires_at.to_rfc3339(),
            "refresh_token": t.refresh_token.is_some(),
            "refresh_token_expires": t.refresh_expires_at.map(|x| x.to_rfc3339()),
            "refused_at": t.refused_at.map(|x| x.to_rfc3339()),
            "state": state,
            "timezone": t.timezone,
            "scope": t.scope,
        }));
        rows.push([
            t.provider.clone(),
            t.user_id.clone(),
            state,
            t.timezone.clone().unwrap_or_else(|| "-".into()),
            t.scope.clone(),
        ]);
    }
    if json {
        stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(&json_rows).expect("serialises")
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    // Columns as wide as their widest cell, two spaces apart.
    let widths: Vec<usize> = (0..5)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        s.push_str(line.join("  ").trim_end());
        s.push('\n');
    }
    stdout(&s)?;
    Ok(ExitCode::SUCCESS)
}

fn revoke(
    provider: Provider,
    user: Option<&str>,
    api_base: Option<String>,
) -> anyhow::Result<ExitCode> {
    let store = session::store()?;
    let t = session::tokens(&store, provider, user)?;
    session::revoke_grant(provider, &session::store()?, &t, None, api_base)?.map_err(|e| {
        hint(
            format!("revoking at the provider failed: {e}"),
            "the tokens were kept; try again, or remove the app in your account settings",
        )
    })?;
    stdout(&format!("revoked {} and deleted its tokens\n", t.user_id))?;
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Deserialize)]
struct TutorialClient {
    client_id: String,
    client_secret: String,
}

/// requests-oauthlib's token dict, as the tutorial's `user_details.json` holds it.
#[derive(serde::Deserialize)]
struct TutorialUser {
    access_token: String,
    refresh_token: Option<String>,
    expires_at: Option<f64>,
    #[serde(default)]
    scope: Vec<String>,
    user_id: String,
}

fn import_tutorial(dir: &Path, api_base: Option<String>) -> anyhow::Result<ExitCode> {
    let read = |name: &str| -> anyhow::Result<String> {
        let p = dir.join(name);
        std::fs::read_to_string(&p).map_err(|e| hint(format!("cannot read `{}`: {e}", p.display()), "point `--import-tutorial` at the folder of the tutorial's `client_details.json` and `user_details.json`"))
    };
    let c: TutorialClient = serde_json::from_str(&read("client_details.json")?).map_err(|e| {
        hint(
            format!("`client_details.json`: {e}"),
            "it should hold `client_id` and `client_secret`",
        )
    })?;
    let u: TutorialUser = serde_json::from_str(&read("user_details.json")?).map_err(|e| {
        hint(
            format!("`user_details.json`: {e}"),
            "it should be the token dict the tutorial saved",
        )
    })?;
    let expires_at = u
        .expires_at
        .and_then(|s| DateTime::<Utc>::from_timestamp(s as i64, 0))
        .unwrap_or_else(Utc::now);
    let store = session::store()?;
    store.save(&Tokens {
        provider: PROVIDER.into(),
        user_id: u.user_id.clone(),
        access_token: AccessToken::new(u.access_token),
        refresh_token: u.refresh_token.map(RefreshToken::new),
        expires_at,
        scope: u.scope.join(" "),
        timezone: None,
        refresh_expires_at: None,
        refused_at: None,
    })?;
    let mut cfg = Config::load()?;
    let p = cfg.providers.entry(PROVIDER.into()).or_default();
    p.client_id = Some(c.client_id);
    p.client_secret = Some(c.client_secret);
    p.redirect_uri
        .get_or_insert_with(|| config::DEFAULT_REDIRECT.to_string());
    if let Some(b) = api_base {
        p.api_base = Some(b);
    }
    cfg.save()?;
    stdout(&format!(
        "took over the tutorial's authorisation of {}\n",
        u.user_id
    ))?;
    eprintln!(
        "Tokens and client details are now in `{}` (readable by you only); you can delete the tutorial's plaintext files.",
        config::dir()?.display()
    );
    Ok(ExitCode::SUCCESS)
}
