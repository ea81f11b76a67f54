//! `fitpipe api GET PATH`: one raw response on stdout (the tutorial's `make_request`).

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use fitpipe_ingest::client::Silent;

use crate::cli::ApiArgs;
use crate::output::{hint, stdout};
use crate::session;

pub fn run(args: ApiArgs) -> anyhow::Result<ExitCode> {
    if !args.path.starts_with('/') {
        return Err(hint(
            format!("`{}` is not an API path", args.path),
            "paths start with `/`, e.g. `/1/user/-/profile.json`",
        ));
    }
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async {
        let mut client = session::client(
            args.api.provider(),
            args.user.as_deref(),
            args.api.api_base.clone(),
            Arc::new(Silent),
            false,
        )
        .await?;
        let f = client.get(&args.path).await.map_err(session::explain)?;
        stdout(&String::from_utf8_lossy(&f.body))?;
        stdout("\n")?;
        Ok(ExitCode::SUCCESS)
    })
}
