#!/usr/bin/env python3
"""Generate a realistic Takeout `Fitbit/Global Export Data/` folder of about SIZE_MB
(heart rate every 5-15 s, steps/distance/calories per minute in 30-day files, sleep logs
per 30 days), in Fitbit's Jackson pretty print.

usage: gen_takeout.py OUT_DIR SIZE_MB
"""
import datetime as dt, json, os, random, sys


def jackson(records):
    # Fitbit writes `[{\n  "dateTime" : "...",\n  "value" : ...\n},{...}]`.
    return "[" + ",".join(json.dumps(r, indent=2, separators=(",", " : ")) for r in records) + "]"


def main():
    out, size_mb = sys.argv[1], float(sys.argv[2])
    g = os.path.join(out, "Takeout", "Fitbit", "Global Export Data")
    os.makedirs(g, exist_ok=True)
    os.makedirs(os.path.join(out, "Takeout", "Fitbit", "Your Profile"), exist_ok=True)
    with open(os.path.join(out, "Takeout", "Fitbit", "Your Profile", "Profile.csv"), "w") as f:
        f.write("id,full name,timezone\nBENCH,Bench Person,Europe/Berlin\n")
    rnd = random.Random(1)
    day = dt.date(2016, 1, 1)
    written = 0
    while written < size_mb * 1e6:
        # One local day of heart rate; Berlin midnight is 23:00 or 22:00 UTC the day before.
        t = dt.datetime.combine(day, dt.time()) - dt.timedelta(hours=1)
        end = t + dt.timedelta(days=1)
        recs = []
        while t < end:
            recs.append({"dateTime": t.strftime("%m/%d/%y %H:%M:%S"), "value": {"bpm": rnd.randint(50, 150), "confidence": rnd.randint(0, 3)}})
            t += dt.timedelta(seconds=rnd.randint(5, 15))
        text = jackson(recs)
        with open(os.path.join(g, f"heart_rate-{day}.json"), "w") as f:
            f.write(text)
        written += len(text)
        if (day - dt.date(2016, 1, 1)).days % 30 == 0:
            for fam, unit in (("steps", 1), ("distance", 75), ("calories", 1)):
                t = dt.datetime.combine(day, dt.time())
                recs = [{"dateTime": (t + dt.timedelta(minutes=m)).strftime("%m/%d/%y %H:%M:%S"), "value": str(rnd.randint(0, 120) * unit)} for m in range(30 * 1440)]
                text = jackson(recs)
                with open(os.path.join(g, f"{fam}-{day}.json"), "w") as f:
                    f.write(text)
                written += len(text)
        day += dt.timedelta(days=1)
    print(f"{written / 1e6:.0f} MB in {out}")


if __name__ == "__main__":
    main()
