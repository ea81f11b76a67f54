//! `fitpipe`: get your own Fitbit data into Parquet and CSV tables.

mod chunks;
mod cli;
mod commands;
mod config;
mod env;
mod output;
mod progress;
mod session;
mod tables;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // A panic is a bug: say so and exit 2 (clap and anyhow errors exit 1).
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: fitpipe hit a bug: {info}");
        eprintln!("hint: please report it with the command you ran");
        std::process::exit(2);
    }));
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => 1,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            output::print_error(&err);
            ExitCode::from(1)
        }
    }
}
