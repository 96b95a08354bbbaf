"""The only place that knows how the boosters call an objective.

* :mod:`.protocol` -- the call forms of each booster turned into one call
  (labels, margins, weights, groups, threads, round), the objective and metric
  wrappers, and the mixin every loss inherits so that it *is* the objective;
* :mod:`.binding` -- per-training state (validated labels, weights, statistics,
  groups, device copies, compiled kernels), tied to each training's data;
* :mod:`.xgboost`, :mod:`.lightgbm` -- one module per booster: recognising its
  data objects, reading labels, weights, groups and threads from them, its
  collective and its distributed-training guard; :mod:`.catboost` -- CatBoost's
  method calls (``calc_ders_range``, ``calc_ders_multi``, ``evaluate``), their
  sign and what its blocks of objects cannot carry;
* :mod:`.rounds` -- the boosting round for deferred re-weighting;
* :mod:`.device` -- where the objective computes (the XGBoost GPU path).

The layer reaches a loss only through methods on the loss object and never
imports :mod:`gbloss.losses`.
"""
