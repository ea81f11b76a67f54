//! Command-line arguments (clap). Each field's doc comment is its `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use fitpipe_export::Format;

use crate::env;

/// Get your own Fitbit data into tidy Parquet and CSV tables.
///
/// fitpipe reads the Fitbit Web API's responses, the Google Health API and Takeout
/// archives, and writes one set of tables (daily_activity, heart_rate_zones,
/// sleep_sessions, sleep_stages, heart_rate_intraday, activity_intraday, profile) that
/// load straight into pandas, polars and DuckDB. See docs/schema.md for every column.
#[derive(Debug, Parser)]
#[command(
    name = "fitpipe",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load files you already have into the tables.
    #[command(subcommand)]
    Import(Import),
    /// Print docs/schema.md: every table, column, type, key and time rule.
    Schema,
}

#[derive(Debug, Subcommand)]
pub enum Import {
    /// Load raw Fitbit Web API responses (such as the tutorial's `fitbit_data.json`).
    ///
    /// Each file is recognised by its shape: daily series (`activities-steps`, the
    /// tutorial's `activities-log-steps`, ...), heart rate, intraday series, sleep v1.2
    /// and the profile. Nothing is written unless every file is understood; re-importing
    /// the same files changes nothing.
    ///
    /// Example: fitpipe import json fitbit_data.json profile.json --out data
    Json(ImportJson),
}

#[derive(Debug, Args)]
pub struct ImportJson {
    /// JSON files, or folders to search for `*.json` files.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Value of `user_id` on every row [default: the `encodedId` of a profile response
    /// among the inputs, else `-`].
    #[arg(long)]
    pub user_id: Option<String>,
    /// The user's IANA time zone, e.g. `Europe/London`, used to derive `*_utc` columns
    /// [default: the `timezone` of a profile response among the inputs].
    #[arg(long, env = env::TIMEZONE)]
    pub timezone: Option<String>,
    /// Unit system the responses were fetched with: `us` for `Accept-Language: en_US`
    /// (python-fitbit's default: miles, feet), else `metric`.
    #[arg(long, value_enum, default_value_t = UnitsArg::Metric)]
    pub units: UnitsArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UnitsArg {
    Metric,
    Us,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output folder: tables go to `<out>/<table>/`, CSV copies to `<out>/csv/<table>/`.
    #[arg(long, env = env::OUT, default_value = "./data")]
    pub out: PathBuf,
    /// Formats to write, comma-separated.
    #[arg(long, env = env::FORMAT, value_delimiter = ',', default_value = "parquet,csv")]
    pub format: Vec<Format>,
}
