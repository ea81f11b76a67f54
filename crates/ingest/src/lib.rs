//! Sources: the Fitbit Web API provider, OAuth and the token store, rate-limited
//! fetching, date-window planning, the raw landing zone and sync state.
//!
//! ```
//! use chrono::NaiveDate;
//! use fitpipe_ingest::fitbit::{plan, Resource};
//! let d = |s: &str| s.parse::<NaiveDate>().unwrap();
//! // Three years of steps is one request (1095-day windows).
//! assert_eq!(plan(&Resource::parse("steps").unwrap(), d("2020-01-01"), d("2022-12-30")).len(), 1);
//! ```
#![warn(missing_docs)]

pub mod client;
pub mod clock;
pub mod fitbit;
pub mod google;
pub mod oauth;
pub mod pacelog;
pub mod provider;
pub mod raw;
pub mod state;
pub mod store;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

/// One HTTP request to an API, relative to its base.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// GET, or POST for Google's rollups.
    pub method: reqwest::Method,
    /// Path and query.
    pub path: String,
    /// A JSON body (POST).
    pub body: Option<serde_json::Value>,
}

impl Request {
    /// A GET of `path`.
    pub fn get(path: &str) -> Request {
        Request {
            method: reqwest::Method::GET,
            path: path.to_string(),
            body: None,
        }
    }
}

/// What can go wrong while authorising or fetching.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// A file could not be read or written.
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A stored file is damaged.
    #[error("`{path}`: {message}")]
    Store {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A setting is missing or wrong.
    #[error("{0}")]
    Config(String),
    /// The refresh token was refused: the user must authorise again.
    #[error("the refresh token was refused (`invalid_grant`): the authorisation has ended")]
    InvalidGrant,
    /// A Google refresh token of an app in Testing status reached its 7-day end.
    #[error("the Google refresh token expired on {0} (`invalid_grant`): the app is in Testing status, where Google ends every authorisation 7 days after consent")]
    TestingExpired(DateTime<Utc>),
    /// The token endpoint refused for another reason.
    #[error("the token endpoint refused: {0}")]
    Token(String),
    /// An API request was refused as unauthorised (revoked or invalid token).
    #[error("the API refused the access token ({0})")]
    Unauthorized(String),
    /// The redirect's `state` does not match the one sent.
    #[error(
        "the redirect's `state` does not match the one fitpipe sent (a stale or forged redirect)"
    )]
    StateMismatch,
    /// Nobody answered the authorization in time.
    #[error("no answer from the browser within {0} s")]
    AuthTimeout(u64),
    /// The API answered 410 Gone.
    #[error("the Fitbit Web API answered 410 Gone: it was turned off on 2026-11-02")]
    Gone,
    /// The hour's rate budget is spent and waiting was not allowed.
    #[error("the rate-limit budget is spent until {reset_at}")]
    BudgetSpent {
        /// When the budget resets.
        reset_at: DateTime<Utc>,
    },
    /// The request failed after retries.
    #[error("request to `{url}` failed: {message}")]
    Http {
        /// URL without query.
        url: String,
        /// Why.
        message: String,
    },
    /// The API refused the request.
    #[error("`{url}` answered HTTP {status}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// URL without query.
        url: String,
        /// The API's own message.
        message: String,
    },
}

impl IngestError {
    /// Whether the API refused the data for a scope the person did not grant (Fitbit
    /// 403 `insufficient_scope`, Google 403 `MISSING_OAUTH_SCOPE`): the other resources
    /// can still be fetched.
    pub fn is_scope_refusal(&self) -> bool {
        matches!(self, IngestError::Api { status: 403, message, .. }
            if ["insufficient_scope", "MISSING_OAUTH_SCOPE", "SCOPE_INSUFFICIENT"]
                .iter()
                .any(|k| message.contains(k)))
    }

    pub(crate) fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        IngestError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}
