//! Raw documents (API JSON, Takeout files) to typed tidy rows to Arrow batches.
//!
//! Data flows one way: a response body is parsed into a serde model that mirrors the API
//! ([`fitbit::model`]), `normalise` (a pure function) turns it into rows of the tables of
//! [`tables`], and [`tables::RowSet::batches`] makes one Arrow batch per table.
//!
//! ```
//! use fitpipe_transform::fitbit::{self, Context, Units};
//! let body = br#"{"activities-log-steps":[{"dateTime":"2020-04-12","value":"5007"}]}"#;
//! let doc = fitbit::parse(body).unwrap();
//! let ctx = Context { user_id: "-".into(), tz: None, fetched_utc: None, units: Units::Metric };
//! let rows = fitbit::normalise(&doc, &ctx).unwrap();
//! assert_eq!(rows.daily_activity[0].steps, Some(5007));
//! ```
#![warn(missing_docs)]

pub mod fitbit;
pub mod google;
pub mod schema_doc;
pub mod tables;
pub mod takeout;
pub mod tcx;
pub mod time;

pub use tables::{RowSet, TableSpec, ALL_TABLES};

/// Why a document could not be turned into rows.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransformError {
    /// The bytes are not JSON (or are cut short).
    #[error("invalid JSON: {0}")]
    Json(String),
    /// A value has the wrong type or form.
    #[error("bad value at `{path}`: {message}")]
    Value {
        /// JSON path of the value.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// No top-level key matches a known response.
    #[error("unknown document shape (top-level keys: {})", if keys.is_empty() { "none".to_string() } else { keys.join(", ") })]
    UnknownShape {
        /// The keys that were found.
        keys: Vec<String>,
    },
    /// Times of day need the user's time zone and none was given.
    #[error("{what} need the user's time zone, and none is known")]
    NeedTimezone {
        /// What needed it.
        what: &'static str,
    },
    /// A time zone name that is not in the IANA database.
    #[error("unknown time zone `{0}` (want an IANA name such as `Europe/London`)")]
    UnknownTimezone(String),
}

/// Deserialises JSON; a failure names the JSON path (`activities-steps[3].value`) and
/// says what is wrong, without serde's line and column.
pub(crate) fn from_json<'a, T: serde::Deserialize<'a>>(
    bytes: &'a [u8],
) -> Result<T, TransformError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            TransformError::Json(inner.to_string())
        } else {
            let msg = inner.to_string();
            let message = msg
                .rfind(" at line ")
                .map_or(msg.clone(), |i| msg[..i].to_string());
            TransformError::Value { path, message }
        }
    })
}
