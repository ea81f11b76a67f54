//! Every environment variable fitpipe reads, named once.

/// Output folder (`--out`).
pub const OUT: &str = "FITPIPE_OUT";
/// Output formats (`--format`).
pub const FORMAT: &str = "FITPIPE_FORMAT";
/// The user's IANA time zone (`--timezone`).
pub const TIMEZONE: &str = "FITPIPE_TIMEZONE";
