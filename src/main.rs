//! `fitpipe`: get your own Fitbit data into Parquet and CSV tables.

fn main() -> std::process::ExitCode {
    fitpipe::main_with_args()
}
