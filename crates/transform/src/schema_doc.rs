//! Renders docs/schema.md from the table declarations, so the docs cannot drift.

use std::fmt::Write;

use crate::tables::{PartitionRule, ALL_TABLES};

const PREAMBLE: &str = include_str!("schema_preamble.md");

/// The full text of docs/schema.md.
pub fn markdown() -> String {
    let mut s = String::from(PREAMBLE);
    for t in ALL_TABLES {
        let _ = writeln!(s, "\n## `{}`\n", t.name);
        let _ = writeln!(
            s,
            "{}",
            t.doc.lines().map(str::trim).collect::<Vec<_>>().join(" ")
        );
        let _ = writeln!(
            s,
            "- primary key: {}",
            t.key
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let files = match t.partition {
            PartitionRule::None => format!("`{0}/data.parquet`", t.name),
            PartitionRule::Year(c) => {
                format!("`{0}/YYYY.parquet`, one file per year of `{c}`", t.name)
            }
            PartitionRule::Month(c) => {
                format!("`{0}/YYYY-MM.parquet`, one file per month of `{c}`", t.name)
            }
        };
        let _ = writeln!(s, "- files: {files} (CSV: the same names under `csv/`)\n");
        let _ = writeln!(s, "| column | type (DuckDB) | nulls | meaning |");
        let _ = writeln!(s, "|---|---|---|---|");
        for c in t.columns {
            let nulls = if c.kind.nullable() { "yes" } else { "no" };
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {} |",
                c.name,
                c.kind.sql_type(),
                nulls,
                c.doc.trim()
            );
        }
    }
    s
}
