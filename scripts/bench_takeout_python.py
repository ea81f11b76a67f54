#!/usr/bin/env python3
"""The obvious Python way on a Takeout folder: json.load each file, a pandas DataFrame,
`to_parquet` with pyarrow (one file per input, so memory stays bounded).

usage: bench_takeout_python.py TAKEOUT_DIR OUT_DIR  -> prints `mb rows seconds`
"""
import glob, json, os, sys, time

import pandas as pd


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    files = sorted(glob.glob(os.path.join(src, "**", "Global Export Data", "*.json"), recursive=True))
    t0 = time.perf_counter()
    rows = 0
    mb = 0
    for i, f in enumerate(files):
        mb += os.path.getsize(f) / 1e6
        df = pd.json_normalize(json.load(open(f)))
        df["time_utc"] = pd.to_datetime(df["dateTime"], format="%m/%d/%y %H:%M:%S").dt.tz_localize("UTC")
        df["time_local"] = df["time_utc"].dt.tz_convert("Europe/Berlin").dt.tz_localize(None)
        if "value" in df:
            df["value"] = pd.to_numeric(df["value"])
        df.drop(columns=["dateTime"]).to_parquet(os.path.join(out, f"{i}.parquet"), compression="zstd")
        rows += len(df)
    print(f"{mb:.1f} {rows} {time.perf_counter() - t0:.2f}")


if __name__ == "__main__":
    main()
