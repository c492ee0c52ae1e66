"""Reference values for VocabularyReportTests, computed with SciPy/NumPy straight from the run folders' summary.json
(independent of the report's Swift statistics). Usage: python3 vocab_reference.py GRID_FOLDER

For each V: final_val_bpb mean and 95 % Student-t interval per strategy; the gap frozen-random − learned (strategy −
baseline, the report's one sign) by scipy.stats.ttest_rel on seed-matched runs with its 95 % CI; Holm-adjusted p
over the gaps (step-down, monotone).
"""
import json
import os
import sys

import numpy as np
from scipy import stats

grid = sys.argv[1]
finals = {}
for name in sorted(os.listdir(grid)):
    with open(os.path.join(grid, name, "summary.json")) as f:
        s = json.load(f)
    strategy, rest = name.rsplit("-d", 1)
    v = int(rest.split("-v")[1].split("-")[0])
    seed = int(rest.rsplit("-s", 1)[1])
    finals[(strategy, v, seed)] = s["final_val_bpb"]

vocabs = sorted({v for (_, v, _) in finals})
for v in vocabs:
    for strategy in ["learned", "frozen-random"]:
        x = np.array([finals[(strategy, v, s)] for s in (1, 2, 3)])
        lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        print(f"mean {strategy} V={v}: {x.mean():.15g} [{lo:.15g}, {hi:.15g}]")
ps = []
for v in vocabs:
    a = np.array([finals[("learned", v, s)] for s in (1, 2, 3)])
    b = np.array([finals[("frozen-random", v, s)] for s in (1, 2, 3)])
    t = stats.ttest_rel(b, a)
    ci = t.confidence_interval(0.95)
    ps.append(t.pvalue)
    print(f"gap V={v}: {np.mean(b - a):.15g} CI [{ci.low:.15g}, {ci.high:.15g}] p {t.pvalue:.15g}")
order = np.argsort(ps)
m = len(ps)
holm = np.empty(m)
running = 0.0
for rank, i in enumerate(order):
    running = max(running, min(1.0, (m - rank) * ps[i]))
    holm[i] = running
print("holm", [f"{h:.15g}" for h in holm])
