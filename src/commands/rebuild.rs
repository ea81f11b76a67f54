//! `fitpipe rebuild`: every table again from `<out>/raw`, without a request.

use std::process::ExitCode;

use crate::cli::RebuildArgs;
use crate::output::{hint, stdout};
use crate::progress::Progress;
use fitpipe_pipeline::pipeline::parse_tz;
use fitpipe_pipeline::tables::report;

pub fn run(args: RebuildArgs) -> anyhow::Result<ExitCode> {
    let data = args.output.data.or("./data");
    let tz = parse_tz(args.timezone.as_deref())?;
    let formats = args.output.format.as_deref();
    let (files, summary, quarantined) =
        fitpipe_pipeline::remote::with_dataset(&data, true, |out| {
            let done = fitpipe_pipeline::rebuild::rebuild(
                out,
                formats,
                tz,
                &Progress::new(args.output.quiet, false),
            )?;
            let ds = fitpipe_pipeline::tables::dataset(out, formats);
            let files = done.files;
            Ok((files, report(&ds, done.written)?, done.quarantined))
        })?;
    stdout(&summary)?;
    if !args.output.quiet {
        eprintln!(
            "rebuilt from {} raw response(s); no request was made",
            files
        );
    }
    if quarantined.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for q in &quarantined {
        eprintln!(
            "damaged raw answer moved to `{}`: {}",
            q.path.display(),
            q.why.escape_debug()
        );
    }
    Err(hint(
        format!(
            "{} raw answer(s) could not be read and were moved aside (listed above); every other answer is in the tables",
            quarantined.len()
        ),
        "fetch those days again with `fitpipe ingest --from DAY --to DAY --refetch`; the next rebuild no longer trips over them",
    ))
}
