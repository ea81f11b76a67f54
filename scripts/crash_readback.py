#!/usr/bin/env python3
"""Reads every table folder of a fitpipe dataset with DuckDB's globs, as a reader would
right after a run was killed: `<out>/<table>/*.parquet` and `<out>/csv/<table>/*.csv`.
Prints `table=rows` per table (Parquet and CSV must agree); fails on any unreadable file.

usage: crash_readback.py OUT
"""
import os, sys

import duckdb


def main():
    out = sys.argv[1]
    con = duckdb.connect()
    counts = []
    for table in sorted(os.listdir(out)):
        folder = os.path.join(out, table)
        if table in ("csv", "raw") or table.startswith(".") or not os.path.isdir(folder):
            continue
        pq = con.execute(f"select count(*) from read_parquet('{folder}/*.parquet')").fetchone()[0]
        csv_dir = os.path.join(out, "csv", table)
        if os.path.isdir(csv_dir) and os.listdir(csv_dir):
            cv = con.execute(f"select count(*) from read_csv('{csv_dir}/*.csv', union_by_name=true)").fetchone()[0]
            if cv != pq:
                sys.exit(f"{table}: {pq} rows in Parquet, {cv} in CSV")
        counts.append(f"{table}={pq}")
    print(" ".join(counts))


if __name__ == "__main__":
    main()
