//! `fitpipe rebuild`: every table again from `<out>/raw`, without a request.

use std::process::ExitCode;

use crate::cli::RebuildArgs;
use crate::output::stdout;
use crate::pipeline::parse_tz;
use crate::tables::report;

pub fn run(args: RebuildArgs) -> anyhow::Result<ExitCode> {
    let out = &args.output.out;
    let tz = parse_tz(args.timezone.as_deref())?;
    let done = crate::rebuild::rebuild(out, args.output.format.as_deref(), tz)?;
    let ds = crate::tables::dataset(out, args.output.format.as_deref());
    stdout(&report(&ds, done.written)?)?;
    if !args.output.quiet {
        eprintln!(
            "rebuilt from {} raw response(s); no request was made",
            done.files
        );
    }
    Ok(ExitCode::SUCCESS)
}
