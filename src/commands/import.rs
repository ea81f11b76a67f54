//! `fitpipe import json` and `fitpipe import takeout`: flags in, [`fitpipe_pipeline::import`] runs,
//! the outcome printed.

use std::process::ExitCode;

use fitpipe_transform::fitbit::Units;

use crate::cli::{ImportJson, ImportTakeout, OutputArgs, UnitsArg, WeightUnit};
use crate::output::{hint, stdout};
use crate::progress::Progress;
use fitpipe_pipeline::import::{self, Import};
use fitpipe_pipeline::tables::report;

fn job(
    out: &std::path::Path,
    output: &OutputArgs,
    user_id: &Option<String>,
    timezone: &Option<String>,
) -> Import {
    Import {
        out: out.to_path_buf(),
        formats: output.format.clone(),
        user_id: user_id.clone(),
        timezone: timezone.clone(),
        report: std::sync::Arc::new(Progress::new(output.quiet, false)),
    }
}

pub fn json(args: ImportJson) -> anyhow::Result<ExitCode> {
    let data = args.output.data.or("./data");
    fitpipe_pipeline::remote::with_dataset(&data, true, |out| json_into(out, &data, &args))
}

fn json_into(out: &std::path::Path, data: &str, args: &ImportJson) -> anyhow::Result<ExitCode> {
    let job = job(out, &args.output, &args.user_id, &args.timezone);
    let units = match args.units {
        UnitsArg::Metric => Units::Metric,
        UnitsArg::Us => Units::Us,
    };
    let done = import::json::import(&job, &args.paths, units)?;
    if done.written.is_empty() {
        job.report
            .note("note: the inputs hold no rows for any table");
    }
    let ds = fitpipe_pipeline::tables::dataset(&job.out, job.formats.as_deref());
    stdout(&report(&ds, done.written)?)?;
    job.report
        .note(&format!("wrote {} input file(s) into `{data}`", done.files));
    Ok(ExitCode::SUCCESS)
}

pub fn takeout(args: ImportTakeout) -> anyhow::Result<ExitCode> {
    let data = args.output.data.or("./data");
    fitpipe_pipeline::remote::with_dataset(&data, true, |out| takeout_into(out, &data, &args))
}

fn takeout_into(
    out: &std::path::Path,
    data: &str,
    args: &ImportTakeout,
) -> anyhow::Result<ExitCode> {
    let job = job(out, &args.output, &args.user_id, &args.timezone);
    let weight = args.weight_unit.map(|w| match w {
        WeightUnit::Kg => Units::Metric,
        WeightUnit::Lb => Units::Us,
    });
    let done = import::takeout::import(&job, &args.path, weight)?;
    let ds = fitpipe_pipeline::tables::dataset(&job.out, job.formats.as_deref());
    stdout(&report(&ds, done.written)?)?;
    job.report.note(&format!(
        "imported {} archive file(s) into `{data}`",
        done.files
    ));
    if done.skipped > 0 {
        return Err(hint(
            format!(
                "{} file(s) were skipped (listed above); everything else was imported",
                done.skipped
            ),
            "damaged files cannot be read; re-export the archive to recover them",
        ));
    }
    Ok(ExitCode::SUCCESS)
}
