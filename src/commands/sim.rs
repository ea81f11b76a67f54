//! `fitpipe sim`: the simulator standalone, until Ctrl-C.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context as _;
use fitpipe_sim::{Config, Sim};

use crate::cli::SimArgs;
use crate::output::{hint, stdout};

pub fn run(args: SimArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = match &args.scenario {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading `{}`", p.display()))?;
            toml::from_str::<Config>(&text).map_err(|e| {
                hint(
                    format!("`{}`: {e}", p.display()),
                    "see crates/sim/src/lib.rs `Config` for the fields",
                )
            })?
        }
        None => Config {
            frozen: false,
            start: chrono::Utc::now(),
            ..Config::default()
        },
    };
    cfg.seed = args.seed;
    cfg.users = args.users.max(1);
    cfg.rate_limit = args.rate_limit;
    cfg.auto_consent |= args.auto_consent;
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async {
        let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
        let sim = Sim::start_on(cfg, addr)
            .await
            .map_err(|e| hint(e.to_string(), "pick another `--port` (0 for any free one)"))?;
        let base = sim.base_url();
        stdout(&format!(
            "fitpipe sim: Fitbit Web API simulator at {base}\n\
             users: {}\n\
             export FITPIPE_API_BASE={base}\n\
             export FITPIPE_CLIENT_ID={}\n\
             export FITPIPE_CLIENT_SECRET={}   # the simulator's own, not a real secret\n\
             then: fitpipe auth  (registered redirect: http://127.0.0.1:8080/)\n\n\
             Google Health API v4 simulator at the same address (Google OAuth, Desktop client):\n\
             export FITPIPE_PROVIDER=google-health\n\
             export FITPIPE_CLIENT_ID={}\n\
             export FITPIPE_CLIENT_SECRET={}   # the simulator's own, not a real secret\n\
             then: fitpipe auth  (any loopback redirect)\n",
            sim.people()
                .iter()
                .map(|p| format!("{} ({})", p.id, p.tz.name()))
                .collect::<Vec<_>>()
                .join(", "),
            sim.client_id(),
            sim.client_secret(),
            sim.google_client_id(),
            sim.google_client_secret(),
        ))?;
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        Ok(ExitCode::SUCCESS)
    })
}
