//! `fitpipe forget`: a person's withdrawal. Every row of the user goes from every table
//! and partition (with the sync state and raw answers), then their grant at the provider,
//! then (in a study) the consent record says they withdrew; nobody else's rows change.
//!
//! The order never leaves data behind a dropped record: should a step fail, the next
//! `forget` finds the record still there and does the rest.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::ForgetArgs;
use crate::output::{hint, stdout};
use crate::progress::Progress;
use fitpipe_pipeline::remote::{is_url, Output};
use fitpipe_pipeline::session;
use fitpipe_study::study::Study;

pub fn run(args: ForgetArgs) -> anyhow::Result<ExitCode> {
    let user = args.user.trim();
    let Some(path) = args.study.as_deref() else {
        let data = args.output.data.or("./data");
        let done = fitpipe_pipeline::remote::with_dataset(&data, true, |out| {
            fitpipe_pipeline::forget::forget(
                out,
                args.output.format.as_deref(),
                user,
                &Progress::new(false, false),
            )
        })?;
        report(&args, user, done.rows, done.tables, done.raw, &data)?;
        drop(done);
        if args.keep_grant {
            return Ok(ExitCode::SUCCESS);
        }
        let store = session::store()?;
        revoke(&args, &store, None, args.api.api_base.clone(), user)?;
        return Ok(ExitCode::SUCCESS);
    };
    let study = Study::load(path)?;
    fitpipe_study::study::check_id(user)?;
    // Only a dataset named for this command (not the `FITPIPE_OUT` of a person's cron).
    if let Some(given) = &args.output.data.data {
        if !same_place(given, &study.file.out) {
            return Err(hint(
                format!(
                    "`--data {given}` is not the study's output `{}`",
                    study.file.out
                ),
                "drop `--data`: a withdrawal removes the participant wherever the study file says it writes",
            ));
        }
    }
    let out = Output::open(&study.file.out)?;
    // 1. Their data, wherever the study writes (the local locks held until the grant
    //    is gone, so no run of theirs starts in between).
    let held = if out.is_remote() {
        let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
        let n = rt.block_on(out.forget_participant(user))?;
        report(&args, user, n, 0, 0, &out.name())?;
        None
    } else {
        let done = fitpipe_pipeline::forget::forget(
            out.local(),
            study.formats()?.as_deref(),
            user,
            &Progress::new(false, false),
        )?;
        report(&args, user, done.rows, done.tables, done.raw, &out.name())?;
        Some(done)
    };
    if args.keep_grant {
        return Ok(ExitCode::SUCCESS);
    }
    // 2. Their grant, revoked with the study's own client and API.
    let api_base = args
        .api
        .api_base
        .clone()
        .or_else(|| study.file.api_base.clone());
    revoke(
        &args,
        &study.store(),
        study.file.client_id.clone(),
        api_base,
        user,
    )?;
    drop(held);
    // 3. The record: they withdrew (study id and time; their account id struck).
    study.record_withdrawn(user)?;
    if !args.output.quiet {
        stdout(&format!(
            "recorded the withdrawal of `{user}`: their links no longer enroll them (`fitpipe enroll {} readmit {user}` lifts it)\n",
            path.display()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn report(
    args: &ForgetArgs,
    user: &str,
    rows: usize,
    tables: usize,
    raw: usize,
    data: &str,
) -> anyhow::Result<()> {
    if args.output.quiet {
        return Ok(());
    }
    if tables == 0 && raw == 0 && is_url(data) {
        stdout(&format!(
            "removed {rows} stored object(s) of `{user}` from `{data}`\n"
        ))
    } else {
        stdout(&format!(
            "removed {rows} row(s) of `{user}` from {tables} table(s) and {raw} raw answer(s) under `{data}`\n"
        ))
    }
}

/// Revokes every grant `store` holds for `user` and deletes its tokens.
fn revoke(
    args: &ForgetArgs,
    store: &fitpipe_ingest::store::TokenStore,
    client_id: Option<String>,
    api_base: Option<String>,
    user: &str,
) -> anyhow::Result<()> {
    let grants: Vec<_> = store
        .users(None)?
        .into_iter()
        .filter(|t| t.user_id == user)
        .collect();
    for t in grants {
        let Some(provider) = fitpipe_ingest::provider::Provider::parse(&t.provider) else {
            continue;
        };
        session::revoke_grant(provider, store, &t, client_id.clone(), api_base.clone())?
            .map_err(|e| {
                hint(
                    format!("the data is removed, but revoking the grant at `{}` failed: {e}", provider.name()),
                    "run the same `fitpipe forget` again (it finishes what is left), or remove the app in the account's settings",
                )
            })?;
        if !args.output.quiet {
            stdout(&format!(
                "revoked the grant of `{user}` at `{}` and deleted its tokens\n",
                provider.name()
            ))?;
        }
    }
    Ok(())
}

/// Whether two outputs name the same place (URLs by text, folders once resolved).
fn same_place(a: &str, b: &str) -> bool {
    let trim = |s: &str| s.trim_end_matches('/').to_string();
    if is_url(a) || is_url(b) {
        return trim(a) == trim(b);
    }
    let canon = |s: &str| std::fs::canonicalize(s).unwrap_or_else(|_| s.into());
    canon(a) == canon(b)
}
