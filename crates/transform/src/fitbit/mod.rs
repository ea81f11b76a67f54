//! The Fitbit Web API: response models and their normalisation into the tables.

mod fast;
pub mod model;
pub mod normalise;

pub use model::FitbitDocument;
pub use normalise::{normalise, Context, Units, SOURCE};

use crate::TransformError;

/// Parses one raw response body; errors name the JSON path that failed. An intraday
/// dataset of the plain record form is read by a scanner ([`fast`]), the rest by serde.
pub fn parse(bytes: &[u8]) -> Result<FitbitDocument, TransformError> {
    if let Some((rest, points)) = fast::split_dataset(bytes) {
        if let Ok(mut doc) = parse_serde(&rest) {
            if let [(_, data)] = doc.intraday.as_mut_slice() {
                if data.dataset.is_empty() {
                    data.dataset = points;
                    return Ok(doc);
                }
            }
        }
    }
    parse_serde(bytes)
}

/// Parses a body with serde alone.
pub fn parse_serde(bytes: &[u8]) -> Result<FitbitDocument, TransformError> {
    let doc: FitbitDocument = crate::from_json(bytes)?;
    if !doc.is_recognised() {
        return Err(TransformError::UnknownShape {
            keys: doc.unknown.clone(),
        });
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Regression: an answer with nothing in its window was "unknown document shape".
    #[test]
    fn empty_answers_are_recognised_with_no_rows() {
        let ctx = Context {
            user_id: "u".into(),
            tz: None,
            fetched_utc: None,
            units: Units::Metric,
        };
        for body in [
            r#"{"sleep": []}"#,
            r#"{"sleep": [], "summary": {"totalMinutesAsleep": 0, "totalSleepRecords": 0}}"#,
            r#"{"activities-heart": []}"#,
            r#"{"hrv": []}"#,
            r#"{"activities-steps": []}"#,
            r#"{"cardioScore": []}"#,
            r#"[]"#,
        ] {
            let doc = parse(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert!(normalise(&doc, &ctx).unwrap().is_empty(), "{body}");
        }
        for body in [r#"{"foods": []}"#, r#"{"summary": {}}"#, r#"{}"#] {
            assert!(
                matches!(
                    parse(body.as_bytes()),
                    Err(TransformError::UnknownShape { .. })
                ),
                "{body}"
            );
        }
    }
}
