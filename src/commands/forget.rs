//! `fitpipe forget`: a participant's withdrawal. Every row of the user goes from every
//! table and partition in one transaction (with the sync state), then their raw answers,
//! then their grant at the provider; nobody else's rows change.

use std::process::ExitCode;

use anyhow::Context as _;
use arrow::record_batch::RecordBatch;
use fitpipe_export::{Rows, Window};
use fitpipe_ingest::state::SyncState;

use crate::cli::ForgetArgs;
use crate::output::{hint, stdout};
use crate::session;
use crate::tables::{dataset, layout, lock_waiting};

pub fn run(args: ForgetArgs) -> anyhow::Result<ExitCode> {
    let out = &args.output.out;
    let user = args.user.trim();
    if user.is_empty() || user.contains('/') || user == "." || user == ".." {
        return Err(hint(
            format!("`{user}` is not a user id"),
            "pass the `user_id` of the rows to remove (see `fitpipe status`)",
        ));
    }
    let ds = dataset(out, args.output.format.as_deref());
    let _lock = lock_waiting(&ds)?;
    let mut txn = ds.begin()?;
    let mut removed = 0usize;
    let mut tables = 0usize;
    for spec in fitpipe_transform::ALL_TABLES {
        let l = layout(spec);
        let window = Window {
            equals: vec![("user_id".into(), user.to_string())],
            rows: vec![Rows::All],
            days: None,
            report: None,
        };
        let w = txn
            .replace(&l, &RecordBatch::new_empty(l.schema.clone()), &window)
            .with_context(|| format!("removing the rows of `{user}` from `{}`", spec.name))?;
        if w.removed > 0 {
            tables += 1;
        }
        removed += w.removed;
    }
    let mut state = SyncState::load(out)?;
    if state.forget_user(user) > 0 {
        txn.put(state.path(), &state.bytes())?;
    }
    txn.commit()?;
    // Raw answers: `<out>/raw/<provider>/<user>/`.
    let mut raw = 0usize;
    if let Ok(rd) = std::fs::read_dir(out.join("raw")) {
        for p in rd.flatten() {
            let dir = p.path().join(user);
            if dir.is_dir() {
                raw += walk_count(&dir);
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("removing `{}`", dir.display()))?;
            }
        }
    }
    if !args.output.quiet {
        stdout(&format!(
            "removed {removed} row(s) of `{user}` from {tables} table(s) and {raw} raw answer(s) under `{}`\n",
            out.display()
        ))?;
    }
    if args.keep_grant {
        return Ok(ExitCode::SUCCESS);
    }
    // The grant, where this machine holds one for the user.
    let store = session::store()?;
    let grants: Vec<_> = store
        .users(None)?
        .into_iter()
        .filter(|t| t.user_id == user)
        .collect();
    for t in grants {
        let Some(provider) = fitpipe_ingest::provider::Provider::parse(&t.provider) else {
            continue;
        };
        session::revoke_grant(provider, &t, args.api.api_base.clone())?.map_err(|e| {
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

fn walk_count(dir: &std::path::Path) -> usize {
    let mut n = 0;
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                dirs.push(e.path());
            } else {
                n += 1;
            }
        }
    }
    n
}
