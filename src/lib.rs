//! The `fitpipe` command line: clap, printing, progress bars and charts. Everything it
//! runs lives in library crates ([`fitpipe_pipeline`], [`fitpipe_study`] and those below
//! them), which know no command line; the binary is a thin `main` over [`main_with_args`].

pub mod cli;
pub mod commands;
pub mod output;
pub mod progress;

use std::process::ExitCode;

use clap::Parser;

/// Parses the process's command line, runs it and returns the exit code: 0 done, 1 a
/// problem the person can fix (the message says what, a `hint:` line how), 2 a bug.
pub fn main_with_args() -> ExitCode {
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
