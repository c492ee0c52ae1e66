"""Reference values for ProbesTests (pasted into ProbeMetricTests.swift). Run: python3 Tests/ProbesTests/scipy_reference.py
SciPy 1.17.1, NumPy 2.4.6."""
import numpy as np
from scipy import stats

# Word similarity: a 6-token table (token i = word "w{i}"), 8 pairs with tied human scores.
table = np.array([[1, 0, 2], [2, 1, 0], [0, 3, 1], [1, 1, 1], [-1, 2, 0], [3, -1, 1]], dtype=np.float64)
pairs = [(0, 1, 5.0), (0, 2, 3.5), (1, 3, 7.25), (2, 4, 3.5), (3, 5, 9.0), (4, 5, 1.0), (0, 5, 6.0), (1, 4, 2.0)]
cos = [table[a] @ table[b] / np.linalg.norm(table[a]) / np.linalg.norm(table[b]) for a, b, _ in pairs]
human = [s for _, _, s in pairs]
print("spearman word pairs:", repr(stats.spearmanr(cos, human).statistic))
# Multi-token words: "w0w1" = mean(rows 0,1), "w2w3w4" = mean(rows 2,3,4), against single words.
mw = [(table[[0, 1]].mean(0), table[5], 4.0), (table[[2, 3, 4]].mean(0), table[0], 2.5), (table[[0, 1]].mean(0), table[[2, 3, 4]].mean(0), 8.0)]
print("multi-token cosines:", [repr(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))) for a, b, _ in mw])

# Effective rank (Roy & Vetterli 2007) of a fixed 7x4 table, via the SVD.
m = np.array([[1, 2, 0, -1], [0, 1, 3, 1], [2, -1, 1, 0], [1, 1, 1, 1], [-2, 0, 1, 3], [0, 0, 2, -1], [1, -3, 0, 2]], dtype=np.float64)
s = np.linalg.svd(m, compute_uv=False)
p = s / s.sum()
print("singular values:", [repr(float(x)) for x in s])
print("effective rank:", repr(float(np.exp(-(p * np.log(p)).sum()))))
# Norm-frequency Spearman of the same table's rows against counts (with a tie).
counts = [10, 3, 7, 7, 1, 20, 5]
print("norm-frequency spearman:", repr(stats.spearmanr(np.linalg.norm(m, axis=1), counts).statistic))

# Fisher-z interval of Spearman's rho (Fieller, Hartley & Pearson 1957): rho = 0.5, n = 103.
from scipy.stats import norm
z, se = np.arctanh(0.5), np.sqrt(1.06 / (103 - 3))
print("rho interval:", [repr(float(np.tanh(z + s * norm.ppf(0.975) * se))) for s in (-1, 1)])
