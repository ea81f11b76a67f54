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
    let converter = RowConverter::new(
        key.iter()
            .map(|&i| SortField::new(first.column(i).data_type().clone()))
            .collect(),
    )?;
    let keys_of = |b: &RecordBatch| {
        let cols: Vec<ArrayRef> = key.iter().map(|&i| b.column(i).clone()).collect();
        converter.convert_columns(&cols)
    };
    // Fast paths: batches each in key order without repeats, one wholly before the next
    // (a fresh partition, or newer days appended to older ones) need no merge: they are
    // laid end to end, newest-first order being impossible for equal keys.
    let mut runs = Vec::with_capacity(batches.len());
    for b in batches.iter().filter(|b| b.num_rows() > 0) {
        let rows = keys_of(b)?;
        if !(1..rows.num_rows()).all(|i| rows.row(i - 1) < rows.row(i)) {
            runs.clear();
            break;
        }
        runs.push((b, rows));
    }
    if !runs.is_empty()
        && runs
            .windows(2)
            .all(|w| w[0].1.row(w[0].1.num_rows() - 1) < w[1].1.row(0))
    {
        return Ok(match runs.as_slice() {
            [(only, _)] => (*only).clone(),
            _ => concat_batches(&first.schema(), runs.iter().map(|r| r.0))?,
        });
    }
    let all = concat_batches(&first.schema(), batches)?;
    let n = all.num_rows();
    let rows = keys_of(&all)?;
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
