//! `fitpipe forget`: a participant's withdrawal. Every row of the user goes from every
//! table and partition in one transaction (with the sync state), then their raw answers,
//! then their grant at the provider; nobody else's rows change.

use std::process::ExitCode;

use crate::cli::ForgetArgs;
use crate::output::{hint, stdout};
use crate::session;
use crate::study::Study;

pub fn run(args: ForgetArgs) -> anyhow::Result<ExitCode> {
    let out = &args.output.out;
    let user = args.user.trim();
    let study = args.study.as_deref().map(Study::load).transpose()?;
    let done = crate::forget::forget(out, args.output.format.as_deref(), user)?;
    if !args.output.quiet {
        stdout(&format!(
            "removed {} row(s) of `{user}` from {} table(s) and {} raw answer(s) under `{}`\n",
            done.rows,
            done.tables,
            done.raw,
            out.display()
        ))?;
    }
    if args.keep_grant {
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(s) = &study {
        // The record of their consent holds the provider's id of their account.
        s.forget_enrolled(user)?;
    }
    // The grant, where this machine holds one for the user (a study's grants are kept
    // apart, by study id).
    let store = match &study {
        Some(s) => s.store(),
        None => session::store()?,
    };
    let grants: Vec<_> = store
        .users(None)?
        .into_iter()
        .filter(|t| t.user_id == user)
        .collect();
    for t in grants {
        let Some(provider) = fitpipe_ingest::provider::Provider::parse(&t.provider) else {
            continue;
        };
        let api_base = args
            .api
            .api_base
            .clone()
            .or_else(|| study.as_ref().and_then(|s| s.file.api_base.clone()));
        session::revoke_grant(provider, &store, &t, api_base)?.map_err(|e| {
            hint(
                format!("the data is removed, but revoking the grant at `{}` failed: {e}", provider.name()),
                format!("run `fitpipe auth revoke --provider {} --user {user}` again, or remove the app in the account's settings", provider.name()),
            )
        })?;
        if !args.output.quiet {
            stdout(&format!(
                "revoked the grant of `{user}` at `{}` and deleted its tokens\n",
                provider.name()
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
