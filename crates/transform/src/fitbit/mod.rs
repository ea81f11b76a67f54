//! The Fitbit Web API: response models and their normalisation into the tables.

pub mod model;
pub mod normalise;

pub use model::FitbitDocument;
pub use normalise::{normalise, Context, Units, SOURCE};

use crate::TransformError;

/// Parses one raw response body; errors name the JSON path that failed.
pub fn parse(bytes: &[u8]) -> Result<FitbitDocument, TransformError> {
    let doc: FitbitDocument = crate::from_json(bytes)?;
    if !doc.is_recognised() {
        return Err(TransformError::UnknownShape {
            keys: doc.unknown.clone(),
        });
    }
    Ok(doc)
}
