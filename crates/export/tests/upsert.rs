//! Round trips and upsert semantics of the dataset writer.

use std::fs;
use std::sync::Arc;

use arrow::array::{
    Array, Date32Array, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use fitpipe_export::{Dataset, ExportError, Format, Layout, Partition};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn layout() -> Layout {
    Layout {
        name: "daily".into(),
        schema: Arc::new(Schema::new(vec![
            Field::new("user_id", DataType::Utf8, false),
            Field::new("date", DataType::Date32, false),
            Field::new("steps", DataType::Int64, true),
            Field::new("calories_kcal", DataType::Float64, true),
            Field::new(
                "seen_utc",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
        ])),
        key: vec!["user_id".into(), "date".into()],
        partition: Partition::Year("date".into()),
    }
}

/// Days since 1970-01-01 of a few dates used below.
const D2019_12_31: i32 = 18261;
const D2020_01_01: i32 = 18262;

fn batch(rows: &[(&str, i32, Option<i64>, Option<f64>)]) -> RecordBatch {
    RecordBatch::try_new(
        layout().schema,
        vec![
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )),
            Arc::new(Date32Array::from(
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            )),
            Arc::new(
                TimestampMicrosecondArray::from(vec![Some(1_600_000_000_000_000i64); rows.len()])
                    .with_timezone("UTC"),
            ),
        ],
    )
    .unwrap()
}

fn read_parquet(path: &std::path::Path) -> RecordBatch {
    let r = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let b: Vec<_> = r.map(|b| b.unwrap()).collect();
    arrow::compute::concat_batches(&b[0].schema(), &b).unwrap()
}

fn rows_of(b: &RecordBatch) -> Vec<(String, i32, Option<i64>, Option<f64>)> {
    let u = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
    let d = b.column(1).as_any().downcast_ref::<Date32Array>().unwrap();
    let s = b.column(2).as_any().downcast_ref::<Int64Array>().unwrap();
    let c = b.column(3).as_any().downcast_ref::<Float64Array>().unwrap();
    (0..b.num_rows())
        .map(|i| {
            (
                u.value(i).to_string(),
                d.value(i),
                s.is_valid(i).then(|| s.value(i)),
                c.is_valid(i).then(|| c.value(i)),
            )
        })
        .collect()
}

#[test]
fn parquet_round_trip_keeps_values_types_and_timezone() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet]);
    let b = batch(&[("u", D2020_01_01, Some(10), None)]);
    let w = ds.upsert(&layout(), &b).unwrap();
    assert_eq!(w.files, vec![dir.path().join("daily/2020.parquet")]);
    let back = read_parquet(&w.files[0]);
    assert_eq!(
        back.schema(),
        layout().schema,
        "types, nullability and UTC zone survive"
    );
    assert_eq!(
        rows_of(&back),
        vec![("u".to_string(), D2020_01_01, Some(10), None)]
    );
}

#[test]
fn partitions_by_year_one_file_each() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet, Format::Csv]);
    let w = ds
        .upsert(
            &layout(),
            &batch(&[
                ("u", D2019_12_31, Some(1), None),
                ("u", D2020_01_01, Some(2), None),
            ]),
        )
        .unwrap();
    let mut names: Vec<String> = w
        .files
        .iter()
        .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "csv/daily/2019.csv",
            "csv/daily/2020.csv",
            "daily/2019.parquet",
            "daily/2020.parquet"
        ]
    );
    let csv = fs::read_to_string(dir.path().join("csv/daily/2020.csv")).unwrap();
    assert_eq!(
        csv,
        "user_id,date,steps,calories_kcal,seen_utc\nu,2020-01-01,2,,2020-09-13T12:26:40Z\n"
    );
}

#[test]
fn upsert_merges_column_by_column_and_newer_values_win() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet]);
    let l = layout();
    ds.upsert(&l, &batch(&[("u", D2020_01_01, Some(5000), None)]))
        .unwrap();
    ds.upsert(&l, &batch(&[("u", D2020_01_01, None, Some(2100.5))]))
        .unwrap();
    let b = read_parquet(&dir.path().join("daily/2020.parquet"));
    assert_eq!(
        rows_of(&b),
        vec![("u".into(), D2020_01_01, Some(5000), Some(2100.5))]
    );
    ds.upsert(
        &l,
        &batch(&[
            ("u", D2020_01_01, Some(5200), None),
            ("v", D2020_01_01, Some(1), None),
        ]),
    )
    .unwrap();
    let b = read_parquet(&dir.path().join("daily/2020.parquet"));
    assert_eq!(
        rows_of(&b),
        vec![
            ("u".into(), D2020_01_01, Some(5200), Some(2100.5)),
            ("v".into(), D2020_01_01, Some(1), None)
        ]
    );
}

#[test]
fn duplicate_keys_within_one_batch_collapse_to_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet]);
    let w = ds
        .upsert(
            &layout(),
            &batch(&[
                ("u", D2020_01_01, Some(1), Some(9.0)),
                ("u", D2020_01_01, Some(2), None),
            ]),
        )
        .unwrap();
    assert_eq!(w.rows_total, 1);
    let b = read_parquet(&w.files[0]);
    assert_eq!(
        rows_of(&b),
        vec![("u".into(), D2020_01_01, Some(2), Some(9.0))]
    );
}

#[test]
fn same_batch_twice_leaves_the_same_file_contents() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet, Format::Csv]);
    let b = batch(&[
        ("u", D2020_01_01, Some(1), Some(2.0)),
        ("w", D2020_01_01, None, Some(3.0)),
    ]);
    ds.upsert(&layout(), &b).unwrap();
    let first = fs::read(dir.path().join("csv/daily/2020.csv")).unwrap();
    ds.upsert(&layout(), &b).unwrap();
    assert_eq!(
        fs::read(dir.path().join("csv/daily/2020.csv")).unwrap(),
        first
    );
    assert_eq!(
        read_parquet(&dir.path().join("daily/2020.parquet")).num_rows(),
        2
    );
}

#[test]
fn csv_only_dataset_merges_with_what_the_csv_holds() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Csv]);
    ds.upsert(&layout(), &batch(&[("u", D2020_01_01, Some(7), None)]))
        .unwrap();
    ds.upsert(&layout(), &batch(&[("u", D2020_01_01, None, Some(1.5))]))
        .unwrap();
    let read = ds.read_table(&layout()).unwrap();
    assert_eq!(
        rows_of(&read[0]),
        vec![("u".into(), D2020_01_01, Some(7), Some(1.5))]
    );
    assert!(
        !dir.path().join("daily").exists(),
        "no parquet was asked for"
    );
}

#[test]
fn a_format_already_on_disk_is_kept_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    Dataset::new(dir.path(), &[Format::Parquet, Format::Csv])
        .upsert(&layout(), &batch(&[("u", D2020_01_01, Some(1), None)]))
        .unwrap();
    Dataset::new(dir.path(), &[Format::Parquet])
        .upsert(&layout(), &batch(&[("u", D2020_01_01, Some(2), None)]))
        .unwrap();
    let csv = fs::read_to_string(dir.path().join("csv/daily/2020.csv")).unwrap();
    assert!(
        csv.contains("u,2020-01-01,2,"),
        "the CSV mirror was updated too: {csv}"
    );
}

#[test]
fn wrong_schema_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet]);
    ds.upsert(&layout(), &batch(&[("u", D2020_01_01, Some(1), None)]))
        .unwrap();
    let before = fs::read(dir.path().join("daily/2020.parquet")).unwrap();
    let wrong = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new(
            "user_id",
            DataType::Utf8,
            false,
        )])),
        vec![Arc::new(StringArray::from(vec!["u"]))],
    )
    .unwrap();
    let err = ds.upsert(&layout(), &wrong).unwrap_err();
    assert!(matches!(err, ExportError::Schema { .. }), "{err}");
    assert_eq!(
        fs::read(dir.path().join("daily/2020.parquet")).unwrap(),
        before
    );
}

#[test]
fn corrupt_existing_file_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet, Format::Csv]);
    fs::create_dir_all(dir.path().join("daily")).unwrap();
    fs::write(dir.path().join("daily/2020.parquet"), b"not parquet at all").unwrap();
    let err = ds
        .upsert(&layout(), &batch(&[("u", D2020_01_01, Some(1), None)]))
        .unwrap_err();
    assert!(err.to_string().contains("daily/2020.parquet"), "{err}");
    assert_eq!(
        fs::read(dir.path().join("daily/2020.parquet")).unwrap(),
        b"not parquet at all"
    );
    assert!(!dir.path().join("csv/daily/2020.csv").exists());
    let leftovers: Vec<_> = fs::read_dir(dir.path().join("daily")).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
}

#[test]
fn a_file_with_fewer_columns_reads_back_with_nulls_for_new_ones() {
    // Tables gain columns over time; older files must still merge.
    let dir = tempfile::tempdir().unwrap();
    let mut old = layout();
    let fields: Vec<Field> = old
        .schema
        .fields()
        .iter()
        .take(3)
        .map(|f| f.as_ref().clone())
        .collect();
    old.schema = Arc::new(Schema::new(fields));
    let ob = RecordBatch::try_new(
        old.schema.clone(),
        vec![
            Arc::new(StringArray::from(vec!["u"])),
            Arc::new(Date32Array::from(vec![D2020_01_01])),
            Arc::new(Int64Array::from(vec![Some(3)])),
        ],
    )
    .unwrap();
    Dataset::new(dir.path(), &[Format::Parquet])
        .upsert(&old, &ob)
        .unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet]);
    ds.upsert(&layout(), &batch(&[("u", D2020_01_01, None, Some(4.0))]))
        .unwrap();
    let b = read_parquet(&dir.path().join("daily/2020.parquet"));
    assert_eq!(
        rows_of(&b),
        vec![("u".into(), D2020_01_01, Some(3), Some(4.0))]
    );
}

#[test]
fn rolled_back_transaction_leaves_the_dataset_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet, Format::Csv]);
    ds.upsert(&layout(), &batch(&[("u", D2020_01_01, Some(1), None)]))
        .unwrap();
    let before: Vec<_> = ["daily/2020.parquet", "csv/daily/2020.csv"]
        .iter()
        .map(|p| fs::read(dir.path().join(p)).unwrap())
        .collect();
    let mut t = ds.begin().unwrap();
    t.upsert(
        &layout(),
        &batch(&[
            ("u", D2020_01_01, Some(2), None),
            ("u", D2019_12_31, Some(3), None),
        ]),
    )
    .unwrap();
    t.upsert(&layout(), &batch(&[("u", D2020_01_01, Some(4), None)]))
        .unwrap();
    // An open transaction is invisible: its files are staged where readers never look.
    assert!(!dir.path().join("daily/2019.parquet").exists());
    assert!(dir
        .path()
        .join(".fitpipe/txn/staged/daily/2019.parquet")
        .exists());
    t.rollback().unwrap();
    let after: Vec<_> = ["daily/2020.parquet", "csv/daily/2020.csv"]
        .iter()
        .map(|p| fs::read(dir.path().join(p)).unwrap())
        .collect();
    assert_eq!(before, after);
    assert!(
        !dir.path().join("daily/2019.parquet").exists(),
        "files the transaction made are gone"
    );
    let names: Vec<_> = fs::read_dir(dir.path().join("daily"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn committed_transaction_keeps_everything_and_no_backups() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet]);
    ds.upsert(&layout(), &batch(&[("u", D2020_01_01, Some(1), None)]))
        .unwrap();
    let mut t = ds.begin().unwrap();
    t.upsert(&layout(), &batch(&[("u", D2020_01_01, None, Some(5.0))]))
        .unwrap();
    t.commit().unwrap();
    let b = read_parquet(&dir.path().join("daily/2020.parquet"));
    assert_eq!(
        rows_of(&b),
        vec![("u".into(), D2020_01_01, Some(1), Some(5.0))]
    );
    assert_eq!(fs::read_dir(dir.path().join("daily")).unwrap().count(), 1);
}

#[test]
fn a_crash_inside_a_transaction_is_undone_by_the_next_one() {
    // Interrupted run: the backup of the old file is still there.
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet]);
    ds.upsert(&layout(), &batch(&[("u", D2020_01_01, Some(1), None)]))
        .unwrap();
    let before = fs::read(dir.path().join("daily/2020.parquet")).unwrap();
    let mut t = ds.begin().unwrap();
    t.upsert(&layout(), &batch(&[("u", D2020_01_01, Some(9), None)]))
        .unwrap();
    t.upsert(&layout(), &batch(&[("u", D2019_12_31, Some(9), None)]))
        .unwrap();
    std::mem::forget(t); // as if the process died here
                         // Readers see the data as it was, and no new partition.
    assert_eq!(
        fs::read(dir.path().join("daily/2020.parquet")).unwrap(),
        before
    );
    assert!(!dir.path().join("daily/2019.parquet").exists());
    assert_eq!(ds.recover().unwrap(), 2);
    assert!(!dir.path().join(".fitpipe/txn").exists());
    assert_eq!(
        fs::read(dir.path().join("daily/2020.parquet")).unwrap(),
        before
    );
}

#[test]
fn a_crash_after_the_commit_point_is_finished_by_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet]);
    ds.upsert(&layout(), &batch(&[("u", D2020_01_01, Some(1), None)]))
        .unwrap();
    let mut t = ds.begin().unwrap();
    t.upsert(
        &layout(),
        &batch(&[
            ("u", D2020_01_01, Some(9), None),
            ("u", D2019_12_31, Some(8), None),
        ]),
    )
    .unwrap();
    let staged = fs::read(dir.path().join(".fitpipe/txn/staged/daily/2020.parquet")).unwrap();
    // The process died after writing the journal (the commit point), before the renames.
    fs::write(
        dir.path().join(".fitpipe/txn/journal"),
        "daily/2019.parquet\ndaily/2020.parquet\n",
    )
    .unwrap();
    std::mem::forget(t);
    assert_eq!(ds.recover().unwrap(), 2);
    assert_eq!(
        fs::read(dir.path().join("daily/2020.parquet")).unwrap(),
        staged
    );
    assert!(dir.path().join("daily/2019.parquet").exists());
    assert!(!dir.path().join(".fitpipe/txn").exists());
}

#[test]
fn temporary_files_of_killed_writes_are_removed_and_never_read() {
    // Regression: a 0-byte `.tmp-*.parquet` left by a kill made every later command fail
    // ("Parquet file too small") and broke DuckDB's `*.parquet` glob.
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet]);
    ds.upsert(&layout(), &batch(&[("u", D2020_01_01, Some(1), None)]))
        .unwrap();
    let tmp = dir.path().join("daily/.tmp-abc123.parquet");
    fs::write(&tmp, b"").unwrap();
    assert_eq!(ds.read_table(&layout()).unwrap().len(), 1);
    assert_eq!(ds.row_count(&layout()).unwrap(), 1);
    ds.begin().unwrap().commit().unwrap();
    assert!(!tmp.exists());
}

#[test]
fn restoring_a_backup_that_is_another_name_of_the_same_file_removes_it() {
    // Regression: a write that failed before replacing its file (a full disk) left the
    // hard-linked backup behind, because renaming a file onto another name of itself is a
    // no-op. (The full-disk case itself is tested end to end in tests/it/import_json.rs.)
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet]);
    ds.upsert(&layout(), &batch(&[("u", D2020_01_01, Some(1), None)]))
        .unwrap();
    let before = fs::read(dir.path().join("daily/2020.parquet")).unwrap();
    fs::hard_link(
        dir.path().join("daily/2020.parquet"),
        dir.path().join("daily/2020.parquet.fitpipe-bak"),
    )
    .unwrap();
    assert_eq!(ds.recover().unwrap(), 1);
    let names: Vec<_> = fs::read_dir(dir.path().join("daily"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert_eq!(
        fs::read(dir.path().join("daily/2020.parquet")).unwrap(),
        before
    );
}

#[test]
fn rows_of_partitions_interleaved_in_the_input_land_in_their_own_files() {
    // Gathered (not sliced) partitions: 2019 and 2020 rows alternate in the batch.
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet]);
    ds.upsert(
        &layout(),
        &batch(&[
            ("u", D2019_12_31, Some(1), None),
            ("u", D2020_01_01, Some(2), None),
            ("u", D2019_12_31 - 1, Some(3), None),
            ("u", D2020_01_01 + 1, Some(4), None),
        ]),
    )
    .unwrap();
    let y2019 = rows_of(&read_parquet(&dir.path().join("daily/2019.parquet")));
    let y2020 = rows_of(&read_parquet(&dir.path().join("daily/2020.parquet")));
    assert_eq!(
        y2019.iter().map(|r| (r.1, r.2)).collect::<Vec<_>>(),
        [(D2019_12_31 - 1, Some(3)), (D2019_12_31, Some(1))]
    );
    assert_eq!(
        y2020.iter().map(|r| (r.1, r.2)).collect::<Vec<_>>(),
        [(D2020_01_01, Some(2)), (D2020_01_01 + 1, Some(4))]
    );
}

// A study participant's share: hive partitions under `user_id=<id>/`, its own lock and
// transactions; recovering one participant leaves another's unfinished write alone.
#[test]
fn participants_write_hive_partitions_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let base = Dataset::new(dir.path(), &[Format::Parquet]);
    let a = base.clone().for_participant("P001");
    let b = base.clone().for_participant("P002");
    a.upsert(&layout(), &batch(&[("P001", D2020_01_01, Some(1), None)]))
        .unwrap();
    b.upsert(&layout(), &batch(&[("P002", D2020_01_01, Some(2), None)]))
        .unwrap();
    assert!(dir.path().join("daily/user_id=P001/2020.parquet").exists());
    assert!(dir.path().join("daily/user_id=P002/2020.parquet").exists());
    assert_eq!(rows_of(&a.read_table(&layout()).unwrap()[0])[0].2, Some(1));
    assert_eq!(b.row_count(&layout()).unwrap(), 1);
    // Both locks at once: participants run side by side.
    let (_la, _lb) = (a.lock(false).unwrap(), b.lock(false).unwrap());
    assert!(_la.is_some() && _lb.is_some());
    // P002 is mid-write (a temporary file in its partition); P001 begins a transaction.
    let tmp = dir
        .path()
        .join("daily/user_id=P002/.tmp-123-2021.parquet.fitpipe-tmp");
    fs::write(&tmp, b"half").unwrap();
    drop(a.begin().unwrap());
    assert!(
        tmp.exists(),
        "P001's recovery removed P002's write in flight"
    );
    drop(b.begin().unwrap());
    assert!(!tmp.exists(), "P002's own recovery keeps its leftovers");
}

/// A month-partitioned table keyed by a UTC time, like the intraday tables.
fn series_layout() -> Layout {
    Layout {
        name: "series".into(),
        schema: Arc::new(Schema::new(vec![
            Field::new("user_id", DataType::Utf8, false),
            Field::new(
                "time_utc",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
            Field::new("bpm", DataType::Float64, true),
        ])),
        key: vec!["user_id".into(), "time_utc".into()],
        partition: Partition::Month("time_utc".into()),
    }
}

/// Microseconds of `2020-MM-DD hh:00:00Z`.
fn at(month: u32, day: u32, hour: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(2020, month, day)
        .unwrap()
        .and_hms_opt(hour, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_micros()
}

fn series(rows: &[(i64, Option<f64>)]) -> RecordBatch {
    RecordBatch::try_new(
        series_layout().schema,
        vec![
            Arc::new(StringArray::from(vec!["u"; rows.len()])),
            Arc::new(
                TimestampMicrosecondArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())
                    .with_timezone("UTC"),
            ),
            Arc::new(Float64Array::from(
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap()
}

fn series_rows(b: &RecordBatch) -> Vec<(i64, Option<f64>)> {
    let t = b
        .column(1)
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .unwrap();
    let v = b.column(2).as_any().downcast_ref::<Float64Array>().unwrap();
    (0..b.num_rows())
        .map(|i| (t.value(i), v.is_valid(i).then(|| v.value(i))))
        .collect()
}

#[test]
fn time_partitions_split_runs_and_gather_interleaved_rows() {
    // Runs of January, February, January again and March, and a row at the very first
    // and last microsecond of February.
    let feb_first = at(2, 1, 0);
    let feb_last = at(3, 1, 0) - 1;
    let b = series(&[
        (at(1, 30, 1), Some(1.0)),
        (at(1, 31, 23), Some(2.0)),
        (feb_first, Some(3.0)),
        (at(2, 15, 12), Some(4.0)),
        (at(1, 2, 0), Some(5.0)),
        (feb_last, Some(6.0)),
        (at(3, 1, 0), Some(7.0)),
    ]);
    let parts = series_layout().split(&b).unwrap();
    assert_eq!(
        parts.keys().collect::<Vec<_>>(),
        ["2020-01", "2020-02", "2020-03"]
    );
    assert_eq!(
        series_rows(&parts["2020-01"]),
        [
            (at(1, 30, 1), Some(1.0)),
            (at(1, 31, 23), Some(2.0)),
            (at(1, 2, 0), Some(5.0))
        ]
    );
    assert_eq!(
        series_rows(&parts["2020-02"]),
        [
            (feb_first, Some(3.0)),
            (at(2, 15, 12), Some(4.0)),
            (feb_last, Some(6.0))
        ]
    );
    assert_eq!(series_rows(&parts["2020-03"]), [(at(3, 1, 0), Some(7.0))]);
}

#[test]
fn several_batches_upsert_as_their_concatenation_does() {
    // In order, overlapping (a newer value and a newer null), and out of order: the
    // batches written one after the other must store what one concatenated batch stores.
    let batches = [
        series(&[(at(1, 1, 0), Some(60.0)), (at(1, 1, 1), Some(61.0))]),
        series(&[(at(1, 2, 0), Some(62.0)), (at(2, 1, 0), Some(63.0))]),
        series(&[(at(1, 1, 1), Some(70.0)), (at(1, 2, 0), None)]),
        series(&[(at(1, 1, 0), Some(80.0)), (at(1, 3, 5), Some(81.0))]),
    ];
    let one = tempfile::tempdir().unwrap();
    let many = tempfile::tempdir().unwrap();
    let all = arrow::compute::concat_batches(&series_layout().schema, &batches).unwrap();
    Dataset::new(one.path(), &[Format::Parquet])
        .upsert(&series_layout(), &all)
        .unwrap();
    let ds = Dataset::new(many.path(), &[Format::Parquet]);
    let mut t = ds.begin().unwrap();
    let w = t.upsert_batches(&series_layout(), &batches).unwrap();
    t.commit().unwrap();
    assert_eq!(w.rows_in, 8);
    for month in ["2020-01", "2020-02"] {
        let file = format!("series/{month}.parquet");
        assert_eq!(
            series_rows(&read_parquet(&many.path().join(&file))),
            series_rows(&read_parquet(&one.path().join(&file))),
            "{month}"
        );
    }
    assert_eq!(
        series_rows(&read_parquet(&many.path().join("series/2020-01.parquet"))),
        [
            (at(1, 1, 0), Some(80.0)),
            (at(1, 1, 1), Some(70.0)),
            (at(1, 2, 0), Some(62.0)),
            (at(1, 3, 5), Some(81.0))
        ]
    );
}

#[test]
fn large_partitions_are_encoded_column_by_column_on_all_cores_into_the_same_table() {
    // Past a row group (2^20 rows) and across batches: the parallel encoder must give the
    // rows, types, time zone and row groups the one-thread writer gives.
    let n = (1 << 20) + 5_000;
    let start = at(1, 1, 0);
    let rows: Vec<(i64, Option<f64>)> = (0..n as i64)
        .map(|i| {
            (
                start + i * 1_000_000,
                (i % 7 != 0).then(|| (60 + i % 90) as f64),
            )
        })
        .collect();
    let batches: Vec<RecordBatch> = rows.chunks(300_000).map(series).collect();
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet]);
    let mut t = ds.begin().unwrap();
    t.upsert_batches(&series_layout(), &batches).unwrap();
    t.commit().unwrap();
    let path = dir.path().join("series/2020-01.parquet");
    let reader = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(&path).unwrap()).unwrap();
    assert_eq!(reader.metadata().num_row_groups(), 2);
    assert_eq!(reader.metadata().row_group(0).num_rows(), 1 << 20);
    let back = read_parquet(&path);
    assert_eq!(back.schema(), series_layout().schema);
    assert_eq!(series_rows(&back), rows);
    // DuckDB, pandas and polars read this file in CI's read-back; here the column
    // statistics must hold too: the first row group's time range.
    let stats = reader
        .metadata()
        .row_group(0)
        .column(1)
        .statistics()
        .unwrap();
    let min = i64::from_le_bytes(stats.min_bytes_opt().unwrap().try_into().unwrap());
    let max = i64::from_le_bytes(stats.max_bytes_opt().unwrap().try_into().unwrap());
    assert_eq!((min, max), (start, start + ((1 << 20) - 1) * 1_000_000));
}

#[test]
fn a_streamed_partition_takes_rows_in_key_order_and_refuses_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet, Format::Csv]);
    let layout = series_layout();
    let mut t = ds.begin().unwrap();
    let mut s = t
        .stream(&layout, "2020-01")
        .unwrap()
        .expect("a new partition");
    assert!(s
        .append(&series(&[
            (at(1, 1, 0), Some(1.0)),
            (at(1, 1, 1), Some(2.0))
        ]))
        .unwrap());
    assert!(s.append(&series(&[(at(1, 2, 0), Some(3.0))])).unwrap());
    // A key already written, and rows out of order within a batch: refused, not written.
    assert!(!s.append(&series(&[(at(1, 2, 0), Some(9.0))])).unwrap());
    assert!(!s
        .append(&series(&[
            (at(1, 5, 0), Some(9.0)),
            (at(1, 4, 0), Some(9.0))
        ]))
        .unwrap());
    assert_eq!(s.rows(), 3);
    let w = s.finish().unwrap();
    assert_eq!(w.rows_in, 3);
    assert_eq!(w.files.len(), 2, "Parquet and its CSV mirror");
    // The staged file is a partition like any other: the next write merges into it, and
    // no second stream of it is opened.
    assert!(t.stream(&layout, "2020-01").unwrap().is_none());
    t.upsert(&layout, &series(&[(at(1, 2, 0), Some(4.0))]))
        .unwrap();
    t.commit().unwrap();
    assert_eq!(
        series_rows(&read_parquet(&dir.path().join("series/2020-01.parquet"))),
        [
            (at(1, 1, 0), Some(1.0)),
            (at(1, 1, 1), Some(2.0)),
            (at(1, 2, 0), Some(4.0))
        ]
    );
    let csv = fs::read_to_string(dir.path().join("csv/series/2020-01.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    // A partition on disk is never streamed over.
    let mut t = ds.begin().unwrap();
    assert!(t.stream(&layout, "2020-01").unwrap().is_none());
    assert!(t.stream(&layout, "2020-02").unwrap().is_some());
}

#[test]
fn a_stream_left_unfinished_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet]);
    {
        let mut t = ds.begin().unwrap();
        let mut s = t.stream(&series_layout(), "2020-03").unwrap().unwrap();
        assert!(s.append(&series(&[(at(3, 1, 0), Some(1.0))])).unwrap());
        // Dropped without finish or commit: a run that failed half way.
    }
    let files: Vec<_> = walk(dir.path());
    assert!(
        files
            .iter()
            .all(|f| !f.to_string_lossy().contains("2020-03")),
        "{files:?}"
    );
    let t = ds.begin().unwrap();
    t.commit().unwrap();
    assert!(!dir.path().join("series/2020-03.parquet").exists());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

// Regression: nothing stopped a second `begin` on a dataset with a transaction open,
// and the second one's recovery deleted the first one's staged files (its rows lost at
// the commit). Now the second is refused while the first is open, and allowed after.
#[test]
fn a_second_transaction_on_an_open_dataset_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet]);
    let same = Dataset::new(dir.path(), &[Format::Parquet]);
    let mut t = ds.begin().unwrap();
    t.upsert(&series_layout(), &series(&[(at(1, 1, 0), Some(1.0))]))
        .unwrap();
    let e = same.begin().err().expect("a second transaction was opened");
    assert!(matches!(e, ExportError::TransactionOpen { .. }), "{e}");
    t.commit().unwrap();
    assert_eq!(
        series_rows(&read_parquet(&dir.path().join("series/2020-01.parquet"))),
        [(at(1, 1, 0), Some(1.0))],
        "the first transaction's rows survived the refused second"
    );
    // After the commit (and after a drop) the dataset is free again.
    drop(same.begin().unwrap());
    same.begin().unwrap().commit().unwrap();
    // Another dataset is not held up by this one.
    let other = tempfile::tempdir().unwrap();
    let _a = ds.begin().unwrap();
    let other = Dataset::new(other.path(), &[Format::Parquet]);
    let _b = other.begin().unwrap();
}

// A stream outliving its transaction writes nothing: after the commit it cannot put a
// file into the next transaction's staging.
#[test]
fn a_stream_of_an_ended_transaction_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::new(dir.path(), &[Format::Parquet]);
    let mut t = ds.begin().unwrap();
    let mut s = t.stream(&series_layout(), "2020-03").unwrap().unwrap();
    assert!(s.append(&series(&[(at(3, 1, 0), Some(1.0))])).unwrap());
    t.commit().unwrap();
    let next = ds.begin().unwrap();
    let e = s
        .append(&series(&[(at(3, 2, 0), Some(2.0))]))
        .expect_err("a stream wrote after its commit");
    assert!(matches!(e, ExportError::StreamOutlived { .. }), "{e}");
    assert!(matches!(
        s.finish().err(),
        Some(ExportError::StreamOutlived { .. })
    ));
    next.commit().unwrap();
    assert!(!dir.path().join("series/2020-03.parquet").exists());
}
