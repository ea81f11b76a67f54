//! Upsert by primary key: newer non-null values win, column by column.

use arrow::array::{ArrayRef, UInt32Array};
use arrow::compute::{concat_batches, take};
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, SortField};

use crate::ExportError;

/// Merges batches (oldest first) into one batch with a unique key, sorted by key.
///
/// For each key and each column, the value comes from the newest row whose value in that
/// column is not null; so a newer row that lacks some columns does not erase them.
pub fn merge(batches: &[RecordBatch], key: &[usize]) -> Result<RecordBatch, ExportError> {
    let Some(first) = batches.first() else {
        return Err(ExportError::Arrow(
            arrow::error::ArrowError::InvalidArgumentError("merge of no batches".into()),
        ));
    };
    let all = concat_batches(&first.schema(), batches)?;
    let n = all.num_rows();
    let key_cols: Vec<ArrayRef> = key.iter().map(|&i| all.column(i).clone()).collect();
    let converter = RowConverter::new(
        key_cols
            .iter()
            .map(|c| SortField::new(c.data_type().clone()))
            .collect(),
    )?;
    let rows = converter.convert_columns(&key_cols)?;
    // Already in key order without repeats (a fresh partition of time-ordered data):
    // nothing to merge.
    if (1..n).all(|i| rows.row(i - 1) < rows.row(i)) {
        return Ok(all);
    }
    let mut order: Vec<u32> = (0..n as u32).collect();
    // Stable sort: rows with equal keys stay oldest first.
    order.sort_by(|&a, &b| rows.row(a as usize).cmp(&rows.row(b as usize)));

    let ncols = all.num_columns();
    let mut picks: Vec<Vec<u32>> = vec![Vec::with_capacity(n); ncols];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && rows.row(order[end] as usize) == rows.row(order[start] as usize)
        {
            end += 1;
        }
        let group = &order[start..end];
        let newest = group[group.len() - 1];
        for (c, pick) in picks.iter_mut().enumerate() {
            let col = all.column(c);
            let chosen = if group.len() == 1 {
                newest
            } else {
                group
                    .iter()
                    .rev()
                    .copied()
                    .find(|&i| col.is_valid(i as usize))
                    .unwrap_or(newest)
            };
            pick.push(chosen);
        }
        start = end;
    }
    let cols: Vec<ArrayRef> = picks
        .into_iter()
        .enumerate()
        .map(|(c, idx)| take(all.column(c).as_ref(), &UInt32Array::from(idx), None))
        .collect::<Result<_, _>>()?;
    Ok(RecordBatch::try_new(all.schema(), cols)?)
}
