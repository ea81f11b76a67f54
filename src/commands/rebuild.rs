//! `fitpipe rebuild`: every table again from `<out>/raw`, without a request.

use std::process::ExitCode;

use crate::cli::RebuildArgs;
use crate::output::stdout;
use crate::pipeline::parse_tz;
use crate::tables::report;

pub fn run(args: RebuildArgs) -> anyhow::Result<ExitCode> {
    let data = args.output.data.or("./data");
    let tz = parse_tz(args.timezone.as_deref())?;
    let formats = args.output.format.as_deref();
    let (files, summary) = crate::remote::with_dataset(&data, true, |out| {
        let done = crate::rebuild::rebuild(out, formats, tz)?;
        let ds = crate::tables::dataset(out, formats);
        let files = done.files;
        Ok((files, report(&ds, done.written)?))
    })?;
    stdout(&summary)?;
    if !args.output.quiet {
        eprintln!(
            "rebuilt from {} raw response(s); no request was made",
            files
        );
    }
    Ok(ExitCode::SUCCESS)
}
