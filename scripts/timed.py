"""Runs a command and appends `name<TAB>wall seconds<TAB>peak KB` to a file: wall time
from a monotonic clock to the microsecond (GNU time's %e has 10 ms steps, too coarse for
runs of a tenth of a second), peak memory as the largest resident set of the command.

    python3 scripts/timed.py OUT.tsv NAME -- COMMAND...
"""
import resource
import subprocess
import sys
import time

out, name, sep, *cmd = sys.argv[1:]
assert sep == "--" and cmd, __doc__
start = time.perf_counter()
subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(out, "a") as f:
    f.write(f"{name}\t{wall:.4f}\t{peak_kb}\n")
