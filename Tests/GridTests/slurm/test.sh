#!/usr/bin/env bash
# `make test-slurm`: a tiny grid submitted as a Slurm job array to a real single-node Slurm must give exactly the
# results of a local `ablate grid run` (bit-identical metrics and weights). Needs root, slurm-wlm and munge.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
HERE=$ROOT/Tests/GridTests/slurm
BIN=${BIN:-$ROOT/.build/release/ablate}
[ -x "$BIN" ] || { echo "test-slurm: $BIN is not built. Fix: swift build -c release --product ablate" >&2; exit 2; }
W=$(mktemp -d /tmp/ablate-slurm.XXXXXX)
cleanup() { "$HERE/stop.sh" "$W/slurm"; if [ "${KEEP:-0}" = 1 ]; then echo "kept $W"; else rm -rf "$W"; fi; }
trap cleanup EXIT
"$HERE/start.sh" "$W/slurm"
export SLURM_CONF=$W/slurm/slurm.conf ABLATE_HOME=$W/.ablate
cd "$W"
# A small generated corpus and a 4-run grid of tiny models.
awk 'BEGIN { srand(7); split("the king queen lord lady love death night day sword crown heart blood sweet fair foul", w, " ");
  for (i = 0; i < 2000; i++) { n = 4 + int(rand() * 6); s = ""; for (j = 0; j < n; j++) s = s w[1 + int(rand() * 16)] " "; print s "." } }' > tiny.txt
cat > tiny.yaml <<YAML
name: slurmtest
base: {corpus: $W/tiny.txt, vocab_size: 300, context_length: 16, batch_size: 4, d_model: 16, n_layer: 1, n_head: 2,
       max_steps: 60, warmup_steps: 5, learning_rate: 3e-3, eval_interval: 20, eval_batches: 2, final_eval_batches: 4,
       log_interval: 5, checkpoint_interval: 20}
axes:
  strategy: [learned, frozen-random]
  seed: [1, 2]
YAML
"$BIN" grid run tiny.yaml --runs local --log-every 1000 >local.log
"$BIN" grid slurm tiny.yaml --runs slurm --submit | tee submit.log
jid=$(sed -n 's/^submitted job \([0-9]*\).*/\1/p' submit.log)
[ -n "$jid" ] || { echo "test-slurm: no job id from sbatch" >&2; exit 1; }
start=$(date +%s)
while [ -n "$(squeue -h -j "$jid" 2>/dev/null)" ]; do
  if [ $(( $(date +%s) - start )) -gt 300 ]; then echo "test-slurm: job $jid still queued after 300 s" >&2; squeue; exit 1; fi
  sleep 0.5
done
echo "array job $jid done in $(( $(date +%s) - start )) s"
fail=0; passed=0; failed=0
for run in local/slurmtest/*/; do
  id=$(basename "$run"); other=slurm/slurmtest/$id; bad=0
  if ! grep -q '"finished"' "$other/status.json" 2>/dev/null; then
    echo "FAIL $id: not finished under Slurm"; cat slurm/slurmtest/slurm/*.log 2>/dev/null | tail -20; failed=$((failed + 1)); fail=1; continue
  fi
  a=$run/checkpoints/$(cat "$run/checkpoints/latest")/model.safetensors
  b=$other/checkpoints/$(cat "$other/checkpoints/latest")/model.safetensors
  cmp -s "$a" "$b" || { echo "FAIL $id: weights differ"; bad=1; }
  strip() { sed -E 's/"(elapsed_s|tokens_per_s)":[^,}]*,?//g' "$1"; }
  [ "$(strip "$run/metrics.jsonl")" = "$(strip "$other/metrics.jsonl")" ] || { echo "FAIL $id: metrics differ"; bad=1; }
  if [ $bad = 0 ]; then echo "ok   $id: Slurm = local (weights and metrics)"; passed=$((passed + 1)); else failed=$((failed + 1)); fail=1; fi
done
[ $(ls -d local/slurmtest/*/ | wc -l) = 4 ] || { echo "FAIL: expected 4 local runs"; fail=1; }
echo "slurm: $passed passed, $failed failed"
exit $fail
