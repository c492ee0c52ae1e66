#!/usr/bin/env bash
# Stops the Slurm started by start.sh $1 (by the PIDs it recorded; nothing else is touched).
B=${1:?usage: stop.sh STATE_DIR}
for f in "$B/slurmd.pid" "$B/slurmctld.pid" "$B/munge/run/munged.pid"; do
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || continue
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
done
exit 0
