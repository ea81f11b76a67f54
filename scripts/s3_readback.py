"""Reads a study's tables back over S3 with pyarrow, as Spark, Trino or DuckDB would:
one dataset per table across every participant's hive partition (`user_id=<id>/`).

    python scripts/s3_readback.py ENDPOINT BUCKET/PREFIX TABLE [TABLE ...]

Prints one JSON object: per table the rows, the participants, and whether the table's
primary key (docs/schema.md) is unique. Credentials: AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY (any value works against a moto server).
"""
import json
import os
import sys

import pyarrow.dataset as ds
import pyarrow.fs as pafs

KEYS = {
    "daily_activity": ["user_id", "date"],
    "sleep_sessions": ["user_id", "log_id"],
    "sleep_stages": ["user_id", "log_id", "start_utc", "is_short"],
    "profile": ["user_id"],
    "heart_rate_intraday": ["user_id", "time_utc"],
    "activity_intraday": ["user_id", "time_utc"],
}

endpoint, root, *tables = sys.argv[1:]
scheme, host = endpoint.split("://", 1)
fs = pafs.S3FileSystem(
    endpoint_override=host,
    scheme=scheme,
    access_key=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
    secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
    region=os.environ.get("AWS_REGION", "us-east-1"),
)
out = {}
for t in tables:
    d = ds.dataset(f"{root}/{t}", filesystem=fs, format="parquet", partitioning="hive")
    tab = d.to_table()
    key = KEYS.get(t, ["user_id"])
    keys = set(zip(*(tab.column(k).to_pylist() for k in key)))
    out[t] = {
        "rows": tab.num_rows,
        "participants": sorted(set(tab.column("user_id").to_pylist())),
        "unique_keys": len(keys) == tab.num_rows,
    }
print(json.dumps(out))
