//! fitpipe as a library: the pipeline every API command runs (plan, fetch, land raw,
//! normalise, write, record state), the rebuild from raw answers, the JSON and Takeout
//! imports, withdrawal, datasets on object storage, sessions and settings.
//!
//! It knows no command line: it prints nothing, reports progress and notes through
//! [`Report`], and returns errors whose user-fixable kind is a [`Hint`] (what is wrong and
//! what to do), which the CLI prints as its `hint:` line. The compiler keeps it so: this
//! crate does not depend on clap, indicatif or the `fitpipe` binary.

pub mod chunks;
pub mod config;
pub mod env;
pub mod forget;
pub mod import;
pub mod pipeline;
pub mod quality;
pub mod rebuild;
pub mod remote;
mod report;
pub mod session;
pub mod tables;
pub mod writer;

pub use report::{Report, Silent};

/// An error a person can fix: what is wrong, and what to do about it.
#[derive(Debug)]
pub struct Hint {
    pub message: String,
    pub hint: String,
}

impl std::fmt::Display for Hint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Hint {}

/// Builds an error carrying a hint.
pub fn hint(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Hint {
        message: message.into(),
        hint: hint.into(),
    })
}

/// The hint an error carries anywhere in its chain.
pub fn hint_of(err: &anyhow::Error) -> Option<&Hint> {
    err.chain().find_map(|c| c.downcast_ref::<Hint>())
}
