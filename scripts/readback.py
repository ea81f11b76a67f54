#!/usr/bin/env python3
"""Read every table of a fitpipe output folder back with DuckDB, pyarrow, pandas and polars, and
check each column's type against docs/schema.md (the types the code declares).

usage: readback.py OUT [--require TABLE ...]   exit 1 on any mismatch
"""
import glob, os, re, sys

import duckdb
import pandas as pd
import polars as pl
import pyarrow.dataset as pads


def declared(schema_md):
    tables, cur = {}, None
    for line in open(schema_md, encoding="utf-8"):
        m = re.match(r"^## `(\w+)`", line)
        if m:
            cur = tables.setdefault(m.group(1), {})
            continue
        m = re.match(r"^\| `(\w+)` \| ([A-Z ]+) \| (yes|no) \|", line)
        if m and cur is not None:
            cur[m.group(1)] = m.group(2).strip()
    return tables


def main():
    out = sys.argv[1]
    require = sys.argv[sys.argv.index("--require") + 1:] if "--require" in sys.argv else []
    here = os.path.dirname(os.path.abspath(__file__))
    want = declared(os.path.join(here, "..", "docs", "schema.md"))
    con = duckdb.connect()
    errors, seen = [], []
    for table, cols in want.items():
        files = glob.glob(os.path.join(out, table, "**", "*.parquet"), recursive=True)
        if not files:
            if table in require:
                errors.append(f"{table}: no files")
            continue
        seen.append(table)
        rel = f"read_parquet('{os.path.join(out, table)}/**/*.parquet')"
        got = {r[0]: r[1] for r in con.execute(f"describe select * from {rel}").fetchall()}
        for c, t in cols.items():
            if got.get(c) != t:
                errors.append(f"{table}.{c}: duckdb says {got.get(c)}, docs say {t}")
        extra = set(got) - set(cols)
        if extra:
            errors.append(f"{table}: undocumented columns {sorted(extra)}")
        n = con.execute(f"select count(*) from {rel}").fetchone()[0]
        df = pd.read_parquet(os.path.join(out, table))
        if len(df) != n or list(df.columns) != list(cols):
            errors.append(f"{table}: pandas read {len(df)} rows / {list(df.columns)}")
        for c in cols:
            if c.endswith("_utc") and str(df[c].dtype) != "datetime64[us, UTC]":
                errors.append(f"{table}.{c}: pandas dtype {df[c].dtype}")
        if pads.dataset(os.path.join(out, table), format="parquet").count_rows() != n:
            errors.append(f"{table}: pyarrow row count differs")
        lf = pl.scan_parquet(os.path.join(out, table, "**", "*.parquet"))
        if lf.select(pl.len()).collect().item() != n:
            errors.append(f"{table}: polars row count differs")
        csvs = glob.glob(os.path.join(out, "csv", table, "*.csv"))
        if csvs:
            cn = con.execute(f"select count(*) from read_csv({csvs!r}, header=true)").fetchone()[0]
            if cn != n:
                errors.append(f"{table}: CSV has {cn} rows, Parquet {n}")
        print(f"{table}: {n} rows, {len(files)} parquet files, {len(csvs)} csv files")
    for e in errors:
        print("  -", e)
    if not seen:
        errors.append("no tables found")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
