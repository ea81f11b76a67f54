#!/usr/bin/env python3
"""The obvious Python way, as the tutorial's readers would write it: json + pandas +
pyarrow `to_parquet`, on the same files as the Rust benchmark.

usage: bench_python.py CORPUS_DIR OUT_DIR   -> prints `python<TAB>corpus<TAB>mb<TAB>rows<TAB>seconds`
"""
import glob, json, os, sys, time

import pandas as pd


def intraday(files):
    frames = []
    for f in files:
        doc = json.load(open(f))
        for key, v in doc.items():
            if key.endswith("-intraday"):
                day = doc[key.replace("-intraday", "")][0]["dateTime"]
                df = pd.DataFrame(v["dataset"])
                if df.empty:
                    continue
                df["time_local"] = pd.to_datetime(day + " " + df["time"])
                df["time_utc"] = df["time_local"].dt.tz_localize("America/New_York", ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC")
                df["series"] = key
                frames.append(df.drop(columns=["time"]))
    return pd.concat(frames, ignore_index=True)


def series(files):
    frames = []
    for f in files:
        doc = json.load(open(f))
        for key, v in doc.items():
            if key == "activities-heart":
                df = pd.json_normalize(v)
                df = df.rename(columns={"value.restingHeartRate": "resting"})[["dateTime", "resting"]]
            else:
                df = pd.DataFrame(v)
                df["value"] = pd.to_numeric(df["value"])
            df["series"] = key
            df["date"] = pd.to_datetime(df["dateTime"]).dt.date
            frames.append(df.drop(columns=["dateTime"]))
    return pd.concat(frames, ignore_index=True)


def sleep(files):
    sessions, stages = [], []
    for f in files:
        doc = json.load(open(f))
        for log in doc["sleep"]:
            s = {k: v for k, v in log.items() if k != "levels"}
            for level, m in log["levels"]["summary"].items():
                s["minutes_" + level] = m["minutes"]
            sessions.append(s)
            for short, key in ((False, "data"), (True, "shortData")):
                for seg in log["levels"].get(key, []):
                    stages.append({"log_id": log["logId"], "start_local": seg["dateTime"], "stage": seg["level"], "seconds": seg["seconds"], "is_short": short})
    df = pd.DataFrame(stages)
    df["start_local"] = pd.to_datetime(df["start_local"])
    return pd.concat([df, pd.DataFrame(sessions)], ignore_index=True)


def google_heart(files):
    # The Google Health API's heart-rate pages: one row per sample.
    rows = []
    for f in files:
        doc = json.load(open(f))
        for p in doc.get("dataPoints", []):
            h = p["heartRate"]
            rows.append({"time_utc": h["sampleTime"]["physicalTime"], "offset": h["sampleTime"].get("utcOffset"), "bpm": h["beatsPerMinute"]})
    df = pd.DataFrame(rows)
    df["time_utc"] = pd.to_datetime(df["time_utc"], utc=True)
    df["time_local"] = df["time_utc"].dt.tz_localize(None) + pd.to_timedelta(df["offset"].str.rstrip("s").astype(int), unit="s")
    df["bpm"] = pd.to_numeric(df["bpm"])
    return df.drop(columns=["offset"])


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name, fn in (("intraday", intraday), ("series", series), ("sleep", sleep), ("google-heart", google_heart)):
        files = sorted(glob.glob(os.path.join(corpus, name, "*.json")))
        mb = sum(os.path.getsize(f) for f in files) / 1e6
        t = time.perf_counter()
        df = fn(files)
        df.to_parquet(os.path.join(out, name + ".parquet"), compression="zstd")
        print(f"python\t{name}\t{mb:.3f}\t{len(df)}\t{time.perf_counter() - t:.4f}", flush=True)


if __name__ == "__main__":
    main()
