//! `fitpipe enroll STUDY link|serve`.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{Duration, Utc};

use crate::cli::{EnrollAction, EnrollArgs};
use crate::output::{hint, stdout};
use fitpipe_study::study::Study;

pub fn run(args: EnrollArgs) -> anyhow::Result<ExitCode> {
    let mut study = Study::load(&args.study)?;
    match args.action {
        EnrollAction::Link { ids } => {
            let key = fitpipe_study::enroll::link_key(&study)?;
            let days = study.file.enroll.as_ref().map_or(14, |e| e.link_days);
            let expires = Utc::now() + Duration::days(days.max(1));
            let ids = if ids.is_empty() {
                // Neither enrolled nor withdrawn (a withdrawn person is readmitted first).
                let c = study.consents()?;
                study
                    .roster
                    .iter()
                    .filter(|id| !c.enrolled.contains_key(*id) && !c.withdrawn.contains_key(*id))
                    .cloned()
                    .collect()
            } else {
                ids
            };
            let mut out = String::new();
            for id in &ids {
                out.push_str(&format!(
                    "{id}\t{}\n",
                    fitpipe_study::enroll::link(&study, &key, id, expires)?
                ));
            }
            stdout(&out)?;
            Ok(ExitCode::SUCCESS)
        }
        EnrollAction::Readmit { id } => {
            fitpipe_study::study::check_id(&id)?;
            if !study.record_readmitted(&id)? {
                return Err(hint(
                    format!("`{id}` has not withdrawn from `{}`", study.file.study),
                    "only a participant removed with `fitpipe forget --study` needs readmitting",
                ));
            }
            stdout(&format!(
                "`{id}` may enroll again: send them a new link (`fitpipe enroll {} link {id}`)\n",
                args.study.display()
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        EnrollAction::Serve { listen } => {
            if let Some(l) = listen {
                match study.file.enroll.as_mut() {
                    Some(e) => e.listen = l,
                    None => {
                        return Err(hint(
                            "the study file has no `[enroll]` section",
                            "add `[enroll]` with `public_url = \"https://...\"` (see pipelines/study.toml)",
                        ))
                    }
                }
            }
            let public = study
                .file
                .enroll
                .as_ref()
                .map(|e| e.public_url.clone())
                .unwrap_or_default();
            let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            rt.block_on(fitpipe_study::enroll::serve(study, std::sync::Arc::new(crate::progress::Progress::new(false, false)), |addr| {
                eprintln!(
                    "enrollment page listening on http://{addr}/ (participants reach it at {public}); the OAuth redirect URI to register is {}/callback. Ctrl-C stops it.",
                    public.trim_end_matches('/')
                );
            }))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
