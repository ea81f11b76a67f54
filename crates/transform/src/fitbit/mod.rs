//! The Fitbit Web API: response models and their normalisation into the tables.

pub mod model;
pub mod normalise;

pub use model::FitbitDocument;
pub use normalise::{normalise, Context, Units, SOURCE};

use crate::TransformError;

/// Parses one raw response body; errors name the JSON path that failed.
pub fn parse(bytes: &[u8]) -> Result<FitbitDocument, TransformError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let doc: FitbitDocument = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            TransformError::Json(inner.to_string())
        } else {
            TransformError::Value {
                path,
                message: strip_position(&inner.to_string()),
            }
        }
    })?;
    if !doc.is_recognised() {
        return Err(TransformError::UnknownShape {
            keys: doc.unknown.clone(),
        });
    }
    Ok(doc)
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}
