//! One module per subcommand.

mod api;
mod auth;
mod demo;
mod enroll;
mod forget;
mod import;
pub mod ingest;
pub(crate) mod plot;
mod rebuild;
mod run;
mod sim;
mod status;

use std::process::ExitCode;

use crate::cli::{Cli, Command, Import};

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Auth(a) => auth::run(a),
        Command::Ingest(a) => ingest::run(a),
        Command::Run(a) => run::run(a),
        Command::Rebuild(a) => rebuild::run(a),
        Command::Api(a) => api::run(a),
        Command::Sim(a) => sim::run(a),
        Command::Plot(a) => plot::run(a),
        Command::Status(a) => status::run(a),
        Command::Forget(a) => forget::run(a),
        Command::Enroll(a) => enroll::run(a),
        Command::Import(Import::Json(args)) => import::json(args),
        Command::Import(Import::Takeout(args)) => import::takeout(args),
        Command::Schema => {
            crate::output::stdout(&fitpipe_transform::schema_doc::markdown())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
