//! One module per subcommand.

mod import_json;

use std::process::ExitCode;

use crate::cli::{Cli, Command, Import};

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Import(Import::Json(args)) => import_json::run(args),
        Command::Schema => {
            crate::output::stdout(&fitpipe_transform::schema_doc::markdown())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
