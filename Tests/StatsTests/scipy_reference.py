#!/usr/bin/env python3
"""Regenerates every expected value pasted into the Stats tests (SciPy 1.17, NumPy 2.4, statsmodels 0.15).

Run:  python3 Tests/StatsTests/scipy_reference.py
Each printed line is `name = value   # call`; the Swift tests carry the same call in a comment next to the constant.
Nothing here is read by the tests at run time.
"""
import numpy as np
from scipy import stats, special
from scipy.optimize import curve_fit
from statsmodels.stats.multitest import multipletests


def show(name, value, call):
    if isinstance(value, (list, tuple, np.ndarray)):
        value = "[" + ", ".join(repr(float(v)) for v in value) + "]"
    else:
        value = repr(float(value))
    print(f"{name} = {value}   # {call}")


print("## Descriptive")
x = [3.1, 2.9, 3.3, 3.6, 2.7, 3.0, 4.2]
show("mean", np.mean(x), "np.mean(x)")
show("sd", np.std(x, ddof=1), "np.std(x, ddof=1)")
show("sem", stats.sem(x), "scipy.stats.sem(x)")
show("median", np.median(x), "np.median(x)")
show("q10,q25,q90", np.quantile(x, [0.1, 0.25, 0.9]), "np.quantile(x, [0.1, 0.25, 0.9])  # method='linear' = type 7")
show("iqm", stats.trim_mean(x, 0.25), "scipy.stats.trim_mean(x, 0.25)")
y8 = [7.0, 1.0, 100.0, 3.0, 5.0, 2.0, 6.0, 4.0]
show("iqm8", stats.trim_mean(y8, 0.25), "scipy.stats.trim_mean([7,1,100,3,5,2,6,4], 0.25)  # by hand: (3+4+5+6)/4")

print("## Student-t interval")
t4 = [2.31, 2.27, 2.35, 2.29]
for level in (0.95, 0.9):
    show(f"t.interval {level}", stats.t.interval(level, len(t4) - 1, loc=np.mean(t4), scale=stats.sem(t4)),
         f"scipy.stats.t.interval({level}, 3, loc=np.mean(t4), scale=scipy.stats.sem(t4))")

print("## Welch")
def hedges_g(a, b):
    na, nb = len(a), len(b)
    m = na + nb - 2
    sp = np.sqrt(((na - 1) * np.var(a, ddof=1) + (nb - 1) * np.var(b, ddof=1)) / m)
    d = (np.mean(a) - np.mean(b)) / sp
    j = np.exp(special.gammaln(m / 2) - special.gammaln((m - 1) / 2)) / np.sqrt(m / 2)
    return d, j * d
for name, a, b in [("w1", [3.1, 2.9, 3.3], [2.7, 2.8, 2.6]),
                   ("w2", [2.41, 2.38, 2.45, 2.40, 2.52], [2.47, 2.51, 2.44])]:
    r = stats.ttest_ind(a, b, equal_var=False)
    ci = r.confidence_interval(0.95)
    show(f"{name} t,p,df", [r.statistic, r.pvalue, r.df], f"scipy.stats.ttest_ind({a}, {b}, equal_var=False)")
    show(f"{name} ci95", [ci.low, ci.high], f"...confidence_interval(0.95)")
    show(f"{name} ci90", [r.confidence_interval(0.9).low, r.confidence_interval(0.9).high], "...confidence_interval(0.9)")
    show(f"{name} d,g", hedges_g(a, b), "pooled-sd d; g = d*exp(gammaln(m/2)-gammaln((m-1)/2))/sqrt(m/2), m=na+nb-2")
# One constant sample: Welch is still defined.
r = stats.ttest_ind([1.0, 1.0, 1.0], [0.5, 0.7, 0.9], equal_var=False)
show("w3 t,p,df", [r.statistic, r.pvalue, r.df], "scipy.stats.ttest_ind([1,1,1], [0.5,0.7,0.9], equal_var=False)")
show("hedgesJ(4),J(10)", [np.exp(special.gammaln(m / 2) - special.gammaln((m - 1) / 2)) / np.sqrt(m / 2) for m in (4, 10)],
     "exp(gammaln(m/2)-gammaln((m-1)/2))/sqrt(m/2) for m in (4, 10)")

print("## Paired")
pa, pb = [2.41, 2.38, 2.45, 2.40, 2.52], [2.47, 2.42, 2.44, 2.49, 2.55]
r = stats.ttest_rel(pa, pb)
ci = r.confidence_interval(0.95)
show("paired t,p,df", [r.statistic, r.pvalue, r.df], f"scipy.stats.ttest_rel({pa}, {pb})")
show("paired ci95", [ci.low, ci.high], "...confidence_interval(0.95)")
d = np.subtract(pa, pb)
show("paired dz", np.mean(d) / np.std(d, ddof=1), "np.mean(d)/np.std(d, ddof=1), d = pa - pb")

print("## Holm")
for p in ([0.01, 0.04, 0.03, 0.005, 0.20, 0.04], [0.5, 0.6, 0.01], [0.0, 1.0]):
    show(f"holm {p}", multipletests(p, method='holm')[1],
         f"statsmodels.stats.multitest.multipletests({p}, method='holm')[1]")

print("## Correlation")
cx, cy = [1, 2, 2, 3, 4, 4, 5], [2, 1, 3, 3, 5, 4, 4]
show("spearman ties", stats.spearmanr(cx, cy).statistic, f"scipy.stats.spearmanr({cx}, {cy}).statistic")
show("pearson", stats.pearsonr(cx, cy).statistic, f"scipy.stats.pearsonr({cx}, {cy}).statistic")
px, py = [0.5, 1.7, 2.2, 3.9, 4.1, 6.3], [1.2, 0.9, 2.8, 2.7, 4.4, 4.0]
show("pearson2", stats.pearsonr(px, py).statistic, f"scipy.stats.pearsonr({px}, {py}).statistic")
show("spearman2", stats.spearmanr(px, py).statistic, f"scipy.stats.spearmanr({px}, {py}).statistic")

print("## Linear fit")
lx, ly = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2.1, 3.9, 6.2, 7.8, 10.1, 12.2]
r = stats.linregress(lx, ly)
show("linregress", [r.intercept, r.slope, r.intercept_stderr, r.stderr, r.rvalue ** 2],
     f"scipy.stats.linregress({lx}, {ly}) -> intercept, slope, intercept_stderr, stderr, rvalue**2")
show("rss", np.sum((np.array(ly) - (r.intercept + r.slope * np.array(lx))) ** 2), "sum((y - (a + b x))**2)")
r = stats.linregress(np.log([1.0, 2.0, 4.0, 8.0]), np.log([10.0, 6.1, 3.9, 2.4]))
show("powerlaw loglog", [np.exp(r.intercept), r.slope, r.stderr],
     "r = scipy.stats.linregress(np.log([1,2,4,8]), np.log([10,6.1,3.9,2.4])); exp(intercept), slope, stderr")

print("## Scaling fit")
N = np.array([1e5, 2e5, 5e5, 1e6, 2e6, 5e6])
E, A, alpha = 2.0, 60.0, 0.3
noise = np.random.default_rng(20261125).normal(0, 0.005, N.size)
L = np.round(E + A * N ** -alpha + noise, 6)
show("L", L, "np.round(2.0 + 60.0*N**-0.3 + np.random.default_rng(20261125).normal(0, 0.005, 6), 6)")
law = lambda N, E, A, a: E + A * N ** -a
p, pcov = curve_fit(law, N, L, p0=[1.8, 50.0, 0.25], ftol=1e-15, xtol=1e-15, gtol=1e-15, maxfev=100000)
show("curve_fit params", p, "scipy.optimize.curve_fit(lambda N,E,A,a: E+A*N**-a, N, L, p0=[1.8,50,0.25], ftol=xtol=gtol=1e-15)")
show("curve_fit se", np.sqrt(np.diag(pcov)), "np.sqrt(np.diag(pcov))")
show("curve_fit cov(E,alpha)", pcov[0, 2], "pcov[0, 2]")
show("rss", np.sum((law(N, *p) - L) ** 2), "sum((law(N, *p) - L)**2)")
p4, pcov4 = curve_fit(law, N[:4], L[:4], p0=[1.8, 50.0, 0.25], ftol=1e-15, xtol=1e-15, gtol=1e-15, maxfev=100000)
show("4-size curve_fit params", p4, "curve_fit(law, N[:4], L[:4], p0=[1.8,50,0.25], ftol=xtol=gtol=1e-15)")
show("4-size curve_fit se", np.sqrt(np.diag(pcov4)), "np.sqrt(np.diag(pcov4))  # n - p = 1")
r = stats.linregress(np.log(N[:3]), np.log(L[:3]))
show("3-size loglog", [np.exp(r.intercept), -r.slope, np.exp(r.intercept) * r.intercept_stderr, r.stderr],
     "r = scipy.stats.linregress(np.log(N[:3]), np.log(L[:3])); A=exp(intercept), alpha=-slope, A*intercept_stderr, stderr")

print("## Probability of improvement")
cand, base = [2.40, 2.45, 2.45, 2.50], [2.45, 2.52, 2.60]
show("P(X<Y)", stats.mannwhitneyu(base, cand).statistic / (len(cand) * len(base)),
     f"scipy.stats.mannwhitneyu({base}, {cand}).statistic / 12")

print("## Bootstrap (GSL mt19937 re-implemented with NumPy's legacy-seeded MT19937)")
def gsl_uniform_int(bg, n):
    scale = 0xFFFFFFFF // n
    while True:
        k = int(bg.random_raw()) // scale
        if k < n:
            return k
def boot(samples, stat, B, seed, level):
    bg = np.random.MT19937()
    bg._legacy_seeding(seed if seed != 0 else 4357)
    vals = [stat(*[[s[gsl_uniform_int(bg, len(s))] for _ in s] for s in samples]) for _ in range(B)]
    a = (1 - level) / 2
    return np.quantile(vals, [a, 1 - a])
bx = [2.31, 2.27, 2.35, 2.29, 2.44]
show("boot mean", boot([bx], np.mean, 2000, 42, 0.95), f"boot([{bx}], np.mean, B=2000, seed=42, level=0.95)")
bb = [2.47, 2.51, 2.44, 2.58]
show("boot diff", boot([bx, bb], lambda u, v: np.mean(u) - np.mean(v), 1000, 7, 0.9),
     f"boot([bx, {bb}], mean(u)-mean(v), B=1000, seed=7, level=0.9)")
