//! A person's withdrawal from a dataset: every row of theirs from every table and
//! partition, their sync state and raw answers; nobody else's rows change.
//!
//! In a single dataset their rows are removed from the shared partition files in one
//! transaction (with the sync state). In a study's dataset their share is folders of
//! their own (`<table>/user_id=<id>/`, `.fitpipe/users/<id>/`, `raw/*/<id>/`), removed
//! under their lock after any unfinished write of theirs is settled.

use std::path::Path;

use anyhow::Context as _;
use arrow::record_batch::RecordBatch;
use fitpipe_export::{Dataset, Format, Rows, Window};
use fitpipe_ingest::state::SyncState;

use crate::hint;
use crate::tables::{dataset, layout, lock_waiting};

/// What a withdrawal removed. It holds the person's locks until dropped, so the caller
/// can revoke their grant before any run of theirs may start again.
#[derive(Default)]
pub struct Forgotten {
    pub rows: usize,
    pub tables: usize,
    pub raw: usize,
    held: Vec<fitpipe_export::DatasetLock>,
}

/// Removes every row, raw answer and state entry of `user` from the dataset at `out`.
pub fn forget(
    out: &Path,
    formats: Option<&[Format]>,
    user: &str,
    report: &dyn crate::Report,
) -> anyhow::Result<Forgotten> {
    if user.is_empty() || user.contains('/') || user == "." || user == ".." {
        return Err(hint(
            format!("`{user}` is not a user id"),
            "pass the `user_id` of the rows to remove (see `fitpipe status`)",
        ));
    }
    let mut done = Forgotten::default();
    // Their share of a study, if the dataset has one.
    forget_share(
        &dataset(out, formats).for_participant(user),
        report,
        &mut done,
    )?;
    // Rows in the shared files (a single dataset, or rows imported beside a study).
    let ds = dataset(out, formats);
    let lock = lock_waiting(&ds, report)?;
    let mut txn = ds.begin()?;
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
            done.tables += 1;
        }
        done.rows += w.removed;
    }
    let mut state = SyncState::load(out)?;
    if state.forget_user(user) > 0 {
        txn.put(state.path(), &state.bytes())?;
    }
    txn.commit()?;
    // Raw answers: `<out>/raw/<provider>/<user>/`.
    if let Ok(rd) = std::fs::read_dir(out.join("raw")) {
        for p in rd.flatten() {
            let dir = p.path().join(user);
            if dir.is_dir() {
                done.raw += walk_count(&dir);
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("removing `{}`", dir.display()))?;
            }
        }
    }
    done.held.push(lock);
    Ok(done)
}

/// Removes a participant's share of a study (its own table folders and files, all but
/// the lock this run holds, which `done` keeps), counting what it held.
fn forget_share(
    share: &Dataset,
    report: &dyn crate::Report,
    done: &mut Forgotten,
) -> anyhow::Result<()> {
    let has_share = fitpipe_transform::ALL_TABLES.iter().any(|t| {
        [Format::Parquet, Format::Csv]
            .iter()
            .any(|f| share.table_dir(t.name, *f).exists())
    }) || share.own_dir().exists();
    if !has_share {
        return Ok(());
    }
    let lock = lock_waiting(share, report)?;
    share.recover()?;
    for spec in fitpipe_transform::ALL_TABLES {
        let n = share.row_count(&layout(spec)).unwrap_or(0);
        let mut any = false;
        for f in [Format::Parquet, Format::Csv] {
            let dir = share.table_dir(spec.name, f);
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("removing `{}`", dir.display()))?;
                any = true;
            }
        }
        done.rows += n;
        done.tables += usize::from(any && n > 0);
    }
    // Everything of theirs but the lock file this run holds: removing it would let a
    // concurrent run lock a fresh file beside ours.
    let own = share.own_dir();
    for e in std::fs::read_dir(&own).into_iter().flatten().flatten() {
        let p = e.path();
        if e.file_name() == "lock" {
            continue;
        }
        if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        }
        .with_context(|| format!("removing `{}`", p.display()))?;
    }
    done.held.push(lock);
    Ok(())
}

fn walk_count(dir: &Path) -> usize {
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
