//! Every environment variable fitpipe reads, named once.

/// The dataset, a folder or a URL (`--data`, alias `--out`).
pub const DATA: &str = "FITPIPE_DATA";
/// The dataset's older name (read when `FITPIPE_DATA` is unset).
pub const OUT: &str = "FITPIPE_OUT";
/// Output formats (`--format`).
pub const FORMAT: &str = "FITPIPE_FORMAT";
/// The user's IANA time zone (`--timezone`).
pub const TIMEZONE: &str = "FITPIPE_TIMEZONE";
/// Where config and tokens live (default: `$XDG_CONFIG_HOME/fitpipe` or `~/.config/fitpipe`).
pub const CONFIG_DIR: &str = "FITPIPE_CONFIG_DIR";
/// The OAuth client secret (never a command-line flag).
pub const CLIENT_SECRET: &str = "FITPIPE_CLIENT_SECRET";
/// The OAuth client id (`--client-id`).
pub const CLIENT_ID: &str = "FITPIPE_CLIENT_ID";
/// Base URL of the API and its OAuth endpoints (`--api-base`), e.g. a `fitpipe sim`.
pub const API_BASE: &str = "FITPIPE_API_BASE";
/// Which API to use (`--provider`): `fitbit-web-api` or `google-health`.
pub const PROVIDER: &str = "FITPIPE_PROVIDER";
/// Which authorised user to use (`--user`).
pub const USER: &str = "FITPIPE_USER";
/// A study's key for signing enrollment links (else `link.key` beside its grants), so
/// several hosts sign alike.
pub const ENROLL_KEY: &str = "FITPIPE_ENROLL_KEY";
/// Testing: a simulator whose clock fitpipe advances instead of sleeping.
pub const SIM_CONTROL: &str = "FITPIPE_SIM_CONTROL";
/// Testing: first retry backoff in milliseconds.
pub const RETRY_BASE_MS: &str = "FITPIPE_RETRY_BASE_MS";
/// Testing: per-request timeout in milliseconds.
pub const HTTP_TIMEOUT_MS: &str = "FITPIPE_HTTP_TIMEOUT_MS";

/// Testing: bytes of JSON per import chunk.
pub const IMPORT_CHUNK_BYTES: &str = "FITPIPE_IMPORT_CHUNK_BYTES";

/// A variable's value, if set and not empty.
pub fn get(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
