# The SciPy reference for SettingAxisTests.testGapAcrossSettingsMatchesSciPy: the final losses of SettingAxisTests.gapSpec
# (its summary.json files), the per-seed difference of gaps per strategy and size, scipy.stats.ttest_rel and its
# confidence_interval(0.95), Holm by hand. Run: python3 Tests/ReportTests/setting_effects_reference.py
from scipy import stats
import numpy as np
F = {
("learned",64,"0.0"):[3.277181, 3.277887, 3.251426, 3.260133],
("learned",64,"0.1"):[3.47562, 3.472477, 3.450171, 3.455309],
("learned",128,"0.0"):[2.963223, 2.959762, 2.968312, 2.955918],
("learned",128,"0.1"):[3.163228, 3.158828, 3.165521, 3.158732],
("hashed",64,"0.0"):[3.327063, 3.323233, 3.308794, 3.305225],
("hashed",64,"0.1"):[3.501218, 3.483565, 3.465399, 3.487781],
("hashed",128,"0.0"):[3.017986, 3.007877, 3.022395, 3.018831],
("hashed",128,"0.1"):[3.17329, 3.182233, 3.185993, 3.18519],
("frozen-random",64,"0.0"):[3.380036, 3.376408, 3.356215, 3.364186],
("frozen-random",64,"0.1"):[3.578588, 3.569371, 3.558763, 3.562779],
("frozen-random",128,"0.0"):[3.069036, 3.058831, 3.070063, 3.059122],
("frozen-random",128,"0.1"):[3.266608, 3.254893, 3.271103, 3.264773],
}
rows=[]
for arm in ["hashed","frozen-random"]:
    for d in [64,128]:
        g1=np.array(F[(arm,d,"0.1")])-np.array(F[("learned",d,"0.1")])
        g0=np.array(F[(arm,d,"0.0")])-np.array(F[("learned",d,"0.0")])
        r=stats.ttest_rel(g1,g0)
        ci=r.confidence_interval(0.95)
        rows.append([arm, d, float(np.mean(g1 - g0)), float(ci.low), float(ci.high), float(r.pvalue)])
ps=[r[5] for r in rows]
# Holm by hand
order=np.argsort(ps); m=len(ps); adj=[0]*m; run=0
for k,i in enumerate(order):
    run=max(run,min(1,(m-k)*ps[i])); adj[i]=float(run)
for r,a in zip(rows,adj): print(f'("{r[0]}", {r[1]}, {r[2]!r}, {r[3]!r}, {r[4]!r}, {r[5]!r}, {a!r}),')
