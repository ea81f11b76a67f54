//! `fitpipe api GET PATH`: one raw response on stdout (the tutorial's `make_request`).

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use fitpipe_ingest::client::Silent;

use crate::cli::ApiArgs;
use crate::output::{hint, stdout};
use fitpipe_ingest::provider::Provider;
use fitpipe_pipeline::session;

pub fn run(args: ApiArgs) -> anyhow::Result<ExitCode> {
    if !args.path.starts_with('/') {
        return Err(hint(
            format!("`{}` is not an API path", args.path),
            "paths start with `/`, e.g. `/1/user/-/profile.json`",
        ));
    }
    let post = args.method.eq_ignore_ascii_case("POST");
    let body = match (&args.body, post) {
        (Some(b), true) => Some(serde_json::from_str::<serde_json::Value>(b).map_err(|e| {
            hint(
                format!("`--body` is not JSON: {e}"),
                "quote it for the shell, e.g. --body '{\"windowSizeDays\":1}'",
            )
        })?),
        (None, true) => {
            return Err(hint(
                "a POST needs a `--body`",
                "pass the JSON body with `--body '{...}'`",
            ))
        }
        (Some(_), false) => {
            return Err(hint(
                "`--body` goes with POST only",
                "use `fitpipe api POST PATH --body ...`",
            ))
        }
        (None, false) => None,
    };
    let request = fitpipe_ingest::Request {
        method: if post {
            reqwest::Method::POST
        } else {
            reqwest::Method::GET
        },
        path: args.path.clone(),
        body,
    };
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async {
        let provider =
            session::provider(args.api.provider(), args.user.as_deref(), Provider::Google)?;
        let mut client = session::client(
            provider,
            args.user.as_deref(),
            args.api.api_base.clone(),
            Arc::new(Silent),
            false,
        )
        .await?;
        let f = client.send(&request).await.map_err(session::explain)?;
        stdout(&String::from_utf8_lossy(&f.body))?;
        stdout("\n")?;
        Ok(ExitCode::SUCCESS)
    })
}
