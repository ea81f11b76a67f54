//! Windows of a table that a re-fetched answer replaces.
//!
//! Where a source answers completely for a window (sleep logs by date range, an intraday
//! day), the rows of that window and source that it no longer returns are gone at the
//! source (an edited night has a new log id, a deleted nap is gone): an upsert by key
//! alone would keep them and count the night twice. [`Dataset::replace`] first drops
//! every stored row the window matches, then merges the new rows.
//!
//! [`Dataset::replace`]: crate::Dataset::replace

use std::collections::HashSet;

use arrow::array::{
    Array, BooleanArray, Date32Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::compute::filter_record_batch;
use chrono::{Datelike, NaiveDate};

use crate::{ExportError, Layout, Partition};

/// The stored rows a re-fetched answer replaces: those whose string columns equal
/// `equals` and that match one of `rows`, in the partitions of `days`.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// String columns and the value each must hold (`user_id`, `source`).
    pub equals: Vec<(String, String)>,
    /// What else a replaced row matches: any one of these.
    pub rows: Vec<Rows>,
    /// The first and last day (of the partition column, UTC for timestamps) the window can
    /// touch: the partitions looked in; `None` for every partition on disk.
    pub days: Option<(NaiveDate, NaiveDate)>,
    /// A string column whose values in the removed rows are reported in
    /// [`crate::Written::removed_values`] (the log ids of removed sleep sessions, whose
    /// stages go too).
    pub report: Option<String>,
}

/// The rows of a window, beyond its `equals` columns.
#[derive(Debug, Clone, PartialEq)]
pub enum Rows {
    /// A DATE column within `first..=last`.
    Dates(String, NaiveDate, NaiveDate),
    /// A timestamp column within `start..end`, microseconds since the epoch.
    Instants(String, i64, i64),
    /// A string column holding one of these values.
    AnyOf(String, HashSet<String>),
    /// Every row (with `equals`: all rows of a user, for `fitpipe forget`).
    All,
}

impl Window {
    /// Partition labels (file stems) that the window can touch, where `days` bounds them.
    pub(crate) fn labels(&self, layout: &Layout) -> Option<Vec<String>> {
        let (a, b) = self.days?;
        Some(match &layout.partition {
            Partition::None => vec!["data".into()],
            Partition::Year(_) => (a.year()..=b.year()).map(|y| format!("{y:04}")).collect(),
            Partition::Month(_) => {
                let mut out = Vec::new();
                let mut m = NaiveDate::from_ymd_opt(a.year(), a.month(), 1);
                while let Some(d) = m.filter(|d| *d <= b) {
                    out.push(format!("{:04}-{:02}", d.year(), d.month()));
                    m = d.checked_add_months(chrono::Months::new(1));
                }
                out
            }
        })
    }

    /// Splits stored rows into those kept and the values of `report` in those removed.
    pub(crate) fn apply(
        &self,
        layout: &Layout,
        batch: &RecordBatch,
    ) -> Result<(RecordBatch, Vec<String>), ExportError> {
        let n = batch.num_rows();
        let column = |name: &str| -> Result<&dyn Array, ExportError> {
            let i = layout
                .schema
                .index_of(name)
                .map_err(|_| ExportError::Schema {
                    table: layout.name.clone(),
                    message: format!(
                        "the replaced window names a column `{name}` it does not have"
                    ),
                })?;
            Ok(batch.column(i).as_ref())
        };
        let wrong = |name: &str, want: &str| ExportError::Schema {
            table: layout.name.clone(),
            message: format!("the replaced window needs `{name}` to be {want}"),
        };
        let mut hit = vec![true; n];
        for (name, value) in &self.equals {
            let a = column(name)?
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| wrong(name, "a string"))?;
            for (i, h) in hit.iter_mut().enumerate() {
                *h &= a.is_valid(i) && a.value(i) == value;
            }
        }
        let mut any = vec![false; n];
        for rows in &self.rows {
            match rows {
                Rows::Dates(name, first, last) => {
                    let a = column(name)?
                        .as_any()
                        .downcast_ref::<Date32Array>()
                        .ok_or_else(|| wrong(name, "a DATE"))?;
                    for (i, h) in any.iter_mut().enumerate() {
                        *h |= a.is_valid(i)
                            && a.value_as_date(i)
                                .is_some_and(|d| *first <= d && d <= *last);
                    }
                }
                Rows::Instants(name, start, end) => {
                    let a = column(name)?
                        .as_any()
                        .downcast_ref::<TimestampMicrosecondArray>()
                        .ok_or_else(|| wrong(name, "a timestamp"))?;
                    for (i, h) in any.iter_mut().enumerate() {
                        *h |= a.is_valid(i) && (*start..*end).contains(&a.value(i));
                    }
                }
                Rows::AnyOf(name, values) => {
                    let a = column(name)?
                        .as_any()
                        .downcast_ref::<StringArray>()
                        .ok_or_else(|| wrong(name, "a string"))?;
                    for (i, h) in any.iter_mut().enumerate() {
                        *h |= a.is_valid(i) && values.contains(a.value(i));
                    }
                }
                Rows::All => any.iter_mut().for_each(|h| *h = true),
            }
        }
        for (h, a) in hit.iter_mut().zip(any) {
            *h &= a;
        }
        if !hit.iter().any(|h| *h) {
            return Ok((batch.clone(), Vec::new()));
        }
        let mut removed = Vec::new();
        if let Some(name) = &self.report {
            let a = column(name)?
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| wrong(name, "a string"))?;
            removed = (0..n)
                .filter(|i| hit[*i] && a.is_valid(*i))
                .map(|i| a.value(i).to_string())
                .collect();
        }
        let keep = BooleanArray::from(hit.iter().map(|h| !h).collect::<Vec<_>>());
        Ok((filter_record_batch(batch, &keep)?, removed))
    }
}
