//! Upsert by primary key: newer non-null values win, column by column.

use arrow::array::ArrayRef;
use arrow::compute::concat_batches;
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, SortField};

use crate::ExportError;

/// Merges batches (oldest first) into one batch with a unique key, sorted by key.
///
/// For each key and each column, the value comes from the newest row whose value in that
/// column is not null; so a newer row that lacks some columns does not erase them.
pub fn merge(batches: &[RecordBatch], key: &[usize]) -> Result<RecordBatch, ExportError> {
    let parts = merge_parts(batches, key)?;
    match parts.as_slice() {
        [one] => Ok(one.clone()),
        _ => Ok(concat_batches(&parts[0].schema(), &parts)?),
    }
}

/// [`merge`], as consecutive batches: input that is already in key order without
/// repeats (a fresh partition, newer days after older ones) comes back as it is, with
/// no copy, for a writer that takes batch after batch. Never empty.
pub(crate) fn merge_parts(
    batches: &[RecordBatch],
    key: &[usize],
) -> Result<Vec<RecordBatch>, ExportError> {
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
    // laid end to end, newest-first order being impossible for equal keys. The common key
    // (one user's strings, then a time or date) is checked on the columns themselves; any
    // other key through the row format.
    let live: Vec<&RecordBatch> = batches.iter().filter(|b| b.num_rows() > 0).collect();
    let simple: Option<Vec<(SimpleKey, SimpleKey)>> =
        live.iter().map(|b| simple_span(b, key)).collect();
    let ordered = match simple {
        Some(spans) => spans.windows(2).all(|w| w[0].1 < w[1].0),
        None => rows_ordered(&live, &keys_of)?,
    };
    if ordered && !live.is_empty() {
        return Ok(live.into_iter().cloned().collect());
    }
    // The general case, without copying the batches into one first: each batch's keys
    // in the row format, rows addressed as (batch, row), sorted, and every column
    // gathered straight from the batches.
    if live.is_empty() {
        return Ok(vec![first.slice(0, 0)]);
    }
    let rows: Vec<arrow::row::Rows> = live.iter().map(|b| keys_of(b)).collect::<Result<_, _>>()?;
    let row = |(b, r): (u32, u32)| rows[b as usize].row(r as usize);
    let mut order: Vec<(u32, u32)> = Vec::with_capacity(live.iter().map(|b| b.num_rows()).sum());
    for (b, batch) in live.iter().enumerate() {
        order.extend((0..batch.num_rows() as u32).map(|r| (b as u32, r)));
    }
    // Stable sort: rows with equal keys stay oldest first.
    order.sort_by(|&a, &b| row(a).cmp(&row(b)));
    // Groups of equal keys, as ranges of `order`; the newest row of each is its last.
    let mut groups: Vec<(u32, u32)> = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && row(order[end]) == row(order[start]) {
            end += 1;
        }
        groups.push((start as u32, end as u32));
        start = end;
    }
    drop(rows);
    let at = |(b, r): (u32, u32)| (b as usize, r as usize);
    let newest: Vec<(usize, usize)> = groups
        .iter()
        .map(|&(_, e)| at(order[e as usize - 1]))
        .collect();
    let schema = first.schema();
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for c in 0..schema.fields().len() {
        let arrays: Vec<&dyn arrow::array::Array> =
            live.iter().map(|b| b.column(c).as_ref()).collect();
        let valid = |(b, r): (usize, usize)| arrays[b].is_valid(r);
        // A column takes an older row's value only where the newest row of a group has
        // none; most columns never do, and share the newest rows' list.
        let own = groups
            .iter()
            .zip(&newest)
            .any(|(&(s, e), &n)| e - s > 1 && !valid(n));
        let picks: std::borrow::Cow<[(usize, usize)]> = if own {
            groups
                .iter()
                .zip(&newest)
                .map(|(&(s, e), &n)| {
                    order[s as usize..e as usize]
                        .iter()
                        .rev()
                        .map(|&p| at(p))
                        .find(|&p| valid(p))
                        .unwrap_or(n)
                })
                .collect::<Vec<_>>()
                .into()
        } else {
            (&newest[..]).into()
        };
        cols.push(arrow::compute::interleave(&arrays, &picks)?);
    }
    Ok(vec![RecordBatch::try_new(schema, cols)?])
}

/// Whether batches are each strictly increasing in key, and each wholly before the next,
/// by the row format.
fn rows_ordered(
    live: &[&RecordBatch],
    keys_of: &dyn Fn(&RecordBatch) -> Result<arrow::row::Rows, arrow::error::ArrowError>,
) -> Result<bool, ExportError> {
    let mut runs = Vec::with_capacity(live.len());
    for b in live {
        let rows = keys_of(b)?;
        if !(1..rows.num_rows()).all(|i| rows.row(i - 1) < rows.row(i)) {
            return Ok(false);
        }
        runs.push(rows);
    }
    Ok(!runs.is_empty()
        && runs
            .windows(2)
            .all(|w| w[0].row(w[0].num_rows() - 1) < w[1].row(0)))
}

/// The one value of a string column that holds the same string in every row (no nulls):
/// every value as long as the first, and the bytes repeating with that period.
fn constant(a: &arrow::array::StringArray) -> Option<&str> {
    use arrow::array::Array;
    if a.is_empty() || a.null_count() > 0 {
        return None;
    }
    let v = a.value(0);
    let len = v.len();
    let offsets = a.value_offsets();
    let base = offsets[0] as usize;
    if !offsets
        .iter()
        .enumerate()
        .all(|(i, &o)| o as usize == base + i * len)
    {
        return None;
    }
    let data = &a.value_data()[base..base + len * a.len()];
    (len == 0 || data[len..] == data[..data.len() - len]).then_some(v)
}

/// A key of constant strings and one whole number, compared as the row format does.
pub(crate) type SimpleKey = (Vec<String>, i64);

/// For a batch whose key is string columns holding one value each (no nulls) and then one
/// integer, time or date column strictly increasing (no nulls): its first and last key.
/// `None` for anything else (the row format decides then).
pub(crate) fn simple_span(b: &RecordBatch, key: &[usize]) -> Option<(SimpleKey, SimpleKey)> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType as T, Date32Type, Int64Type, TimeUnit};
    let (&last, strings) = key.split_last()?;
    let mut consts = Vec::with_capacity(strings.len());
    for &c in strings {
        consts.push(constant(b.column(c).as_string_opt::<i32>()?)?.to_string());
    }
    let col = b.column(last);
    if col.null_count() > 0 {
        return None;
    }
    fn span<V: Copy + PartialOrd + Into<i64>>(values: &[V]) -> Option<(i64, i64)> {
        if !values.windows(2).all(|w| w[0] < w[1]) {
            return None;
        }
        Some(((*values.first()?).into(), (*values.last()?).into()))
    }
    let (lo, hi) = match col.data_type() {
        T::Int64 => span(col.as_primitive::<Int64Type>().values())?,
        T::Date32 => span(col.as_primitive::<Date32Type>().values())?,
        T::Timestamp(TimeUnit::Microsecond, _) => span(
            col.as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
                .values(),
        )?,
        _ => return None,
    };
    Some(((consts.clone(), lo), (consts, hi)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{StringArray, TimestampMicrosecondArray};
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use std::sync::Arc;

    fn batch(user: &str, ts: &[i64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("user_id", DataType::Utf8, false),
            Field::new(
                "time_utc",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![user; ts.len()])),
                Arc::new(TimestampMicrosecondArray::from(ts.to_vec()).with_timezone("UTC")),
            ],
        )
        .unwrap()
    }

    // The column check orders batches exactly as the row format does.
    #[test]
    fn the_simple_key_check_agrees_with_the_row_format() {
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            (seed >> 33) % n
        };
        let converter = RowConverter::new(vec![
            SortField::new(DataType::Utf8),
            SortField::new(DataType::Timestamp(
                TimeUnit::Microsecond,
                Some("UTC".into()),
            )),
        ])
        .unwrap();
        let keys_of = |b: &RecordBatch| {
            converter.convert_columns(&[b.column(0).clone(), b.column(1).clone()])
        };
        let mut simple_cases = 0;
        for _ in 0..2000 {
            let batches: Vec<RecordBatch> = (0..1 + next(3))
                .map(|_| {
                    let user = ["a", "b", "ab"][next(3) as usize];
                    let start = next(20) as i64;
                    let mut ts: Vec<i64> = (0..1 + next(4))
                        .map(|i| start + i as i64 * (1 + next(3) as i64))
                        .collect();
                    if next(5) == 0 {
                        ts.reverse();
                    }
                    batch(user, &ts)
                })
                .collect();
            let live: Vec<&RecordBatch> = batches.iter().collect();
            let simple: Option<Vec<_>> = live.iter().map(|b| simple_span(b, &[0, 1])).collect();
            let rows = rows_ordered(&live, &keys_of).unwrap();
            if let Some(spans) = simple {
                simple_cases += 1;
                assert_eq!(
                    spans.windows(2).all(|w| w[0].1 < w[1].0),
                    rows,
                    "{batches:?}"
                );
            } else {
                assert!(
                    !rows,
                    "the row format found order the column check did not: {batches:?}"
                );
            }
        }
        assert!(simple_cases > 1000);
    }
}
