import numpy as np, gbloss, xgboost as xgb, time
from gbloss.metrics import calibration_error
def sim(n, d=5, seed=0):
    r = np.random.default_rng(seed)
    X = r.normal(size=(n, d))
    beta = np.array([1.0, -0.8, 0.6, 0.0, 0.4])[:d]
    logit = X @ beta - 3.4
    eta = 1/(1+np.exp(-logit))
    y = (r.random(n) < eta).astype(float)
    return X, y, eta
Xt, yt, etat = sim(200_000, seed=2)
dte = xgb.DMatrix(Xt)
for seed in [1, 3]:
    X, y, _ = sim(50_000, seed=seed)
    dtr = xgb.DMatrix(X, label=y)
    params = {"max_depth": 3, "eta": 0.1, "nthread": 1, "verbosity": 0}
    b = xgb.train({**params, "objective": "binary:logistic"}, dtr, 150)
    p = b.predict(dte)
    print(seed, y.mean(), "logloss ECE", calibration_error(yt, p), "noise-free", calibration_error(etat, p), "mae", np.mean(abs(p-etat)))
    for loss in [gbloss.cross_entropy(class_weight="balanced"), gbloss.focal(gamma=2)]:
        f = loss.fit(y)
        b = gbloss.xgboost.train(params, dtr, f, 150)
        q = f.predict_proba(b.predict(dte, output_margin=True))
        print(loss, "ECE", calibration_error(yt, q), "noise-free", calibration_error(etat, q), "mae", np.mean(abs(q-etat)))
