"""Bad and tricky inputs: each is computed right or refused with an error that names it."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import xgboost as xgb
from _losses import loss_classes, make

import gbloss
import gbloss.lightgbm
import gbloss.xgboost

Y = np.array([0.0, 1.0, 0.0, 1.0])
Z = np.array([0.5, -1.0, 2.0, 0.0])


def test_float16_margins_are_computed_in_float32():
    g16, h16 = gbloss.focal().gradient_hessian(Y, Z.astype(np.float16))
    g32, h32 = gbloss.focal().gradient_hessian(Y, Z.astype(np.float16).astype(np.float32))
    assert g16.dtype == h16.dtype == np.float32
    np.testing.assert_array_equal(g16, g32)
    np.testing.assert_array_equal(h16, h32)
    assert gbloss.focal().transform(Z.astype(np.float16)).dtype == np.float32


@pytest.mark.parametrize("bad", [Z.astype(complex), np.array(["a", "b", "c", "d"]),
                                 np.array([object(), 1, 2, 3], dtype=object)])
def test_margins_that_are_not_real_numbers_are_refused(bad):
    with pytest.raises(TypeError, match=r"raw_prediction .*real numbers"):
        gbloss.focal().gradient_hessian(Y, bad)
    with pytest.raises(TypeError, match="raw_prediction"):
        gbloss.focal().transform(bad)


def test_margins_of_more_than_two_dimensions_are_refused():
    with pytest.raises(ValueError, match="1-D or 2-D"):
        gbloss.focal().transform(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        gbloss.focal().gradient_hessian(np.zeros(2), np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        gbloss.focal().gradient_hessian(np.array(1.0), np.array(0.0))


def test_n_classes_that_disagrees_with_the_margins_is_refused():
    with pytest.raises(ValueError, match="3 classes but raw_prediction has 4 columns"):
        gbloss.focal(n_classes=3).transform(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="n_classes=3 but raw_prediction has 4 columns"):
        gbloss.focal(n_classes=3).gradient_hessian(np.zeros(5), np.zeros((5, 4)))
    fitted = gbloss.focal().fit(np.array([0, 1, 2, 2.0]))
    with pytest.raises(ValueError, match="3 classes but raw_prediction has 4 columns"):
        fitted.transform(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="fitted on 3 classes"):
        fitted.gradient_hessian(np.zeros(5), np.zeros((5, 4)))


@pytest.mark.parametrize("labels", [np.array(["no", "yes", "no", "yes"]),
                                    np.array(["a", 1, 0, 1], dtype=object)],
                         ids=["strings", "objects"])
def test_labels_that_are_not_numbers_are_refused(labels):
    for call in (lambda: gbloss.focal().gradient_hessian(labels, Z),
                 lambda: gbloss.focal().fit(labels),
                 lambda: gbloss.focal().init_score(labels),
                 lambda: gbloss.class_weights(labels)):
        with pytest.raises(TypeError, match=r"labels must be numbers.*LabelEncoder"):
            call()


def test_numeric_labels_held_as_objects_are_read():
    expected = gbloss.focal().gradient_hessian(Y, Z)
    for labels in (Y.astype(object), pd.Series(Y.astype(int), dtype="Int64"), list(Y)):
        for a, b in zip(gbloss.focal().gradient_hessian(labels, Z), expected, strict=True):
            np.testing.assert_array_equal(a, b)


def test_sparse_labels_are_refused():
    for labels in (sp.csr_matrix(Y), sp.csr_matrix(Y[:, None])):
        with pytest.raises(TypeError, match=r"sparse .* dense array"):
            gbloss.focal().gradient_hessian(labels, Z)
        with pytest.raises(TypeError, match="sparse"):
            gbloss.focal().fit(labels)


def test_weights_that_are_not_numbers_are_refused():
    with pytest.raises(TypeError, match=r"sample_weight .* real numbers"):
        gbloss.focal().gradient_hessian(Y, Z, np.array(["a"] * 4))


def test_evaluation_data_without_labels_are_refused():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(float)
    loss = gbloss.focal()
    with pytest.raises(ValueError, match="DMatrix has no labels"):
        xgb.train({"disable_default_eval_metric": 1}, xgb.DMatrix(X, y), 1, obj=loss,
                  custom_metric=loss.metric, evals=[(xgb.DMatrix(X), "val")], verbose_eval=False)
    with pytest.raises(ValueError, match=r"valid_sets\[0\] has no labels"):
        gbloss.lightgbm.train({"verbose": -1}, lgb.Dataset(X, y), loss, 1,
                              valid_sets=[lgb.Dataset(X)])
    with pytest.raises(ValueError, match="no labels"):
        loss.gradient_hessian(None, np.zeros(3))


def test_empty_input_to_balanced_mse_is_refused_or_scored_when_fitted():
    with pytest.raises(ValueError, match="at least one training label"):
        gbloss.balanced_mse().gradient_hessian(np.array([]), np.array([]))
    with pytest.raises(ValueError, match="at least one training label"):
        gbloss.balanced_mse().fit(np.array([]))
    fitted = gbloss.balanced_mse().fit(np.array([1.0, 2.0, 4.0]))
    g, h = fitted.gradient_hessian(np.array([]), np.array([]))
    assert g.shape == h.shape == (0,)
    assert np.isnan(fitted.loss(np.array([]), np.array([])))


@pytest.mark.parametrize("make_loss", [
    lambda: gbloss.focal(class_weight=[0.0, 0.0]),
    lambda: gbloss.cross_entropy(class_weight={0: 0.0, 1: 0.0}),
    lambda: gbloss.ldam(class_weight=[0.0, 0.0, 0.0]),
    lambda: gbloss.lmf(class_weight={0: 0, 1: 0}),
    lambda: gbloss.acb_mse(zero_weight=0.0, nonzero_weight=0.0),
    lambda: gbloss.acb_mse(classes=[1.0], class_weight=[0.0, 0.0]),
], ids=["focal", "cross_entropy-dict", "ldam", "lmf-dict", "acb", "acb-classes"])
def test_all_zero_class_weights_are_refused(make_loss):
    with pytest.raises(ValueError, match=r"0 for every class|both 0"):
        make_loss()


def test_unknown_parameters_are_refused_by_set_params():
    for cls in loss_classes():
        with pytest.raises(ValueError, match="invalid parameter"):
            make(cls).set_params(no_such_parameter=1)


def test_a_failed_set_params_leaves_the_loss_as_it_was():
    loss = gbloss.focal(gamma=1.0)
    with pytest.raises(ValueError, match="gamma"):
        loss.set_params(gamma=-1.0)
    assert loss.gamma == 1.0


@pytest.mark.parametrize("make_loss", [
    lambda: gbloss.focal(alpha="a"),
    lambda: gbloss.ldam(class_counts="ab"),
    lambda: gbloss.acb_mse(classes="x"),
    lambda: gbloss.balanced_mse(prior="bni", bins="ab"),
    lambda: gbloss.focal(class_weight={"a": 1.0}),
    lambda: gbloss.focal(n_classes=1),
], ids=["alpha", "class_counts", "classes", "bins", "class_weight-keys", "n_classes"])
def test_parameters_that_are_not_numbers_name_the_parameter(make_loss):
    with pytest.raises(ValueError, match=r"alpha|class_counts|classes|bins|class_weight|n_classes"):
        make_loss()


def test_entry_points_refuse_what_is_not_theirs():
    with pytest.raises(TypeError, match="gbloss loss"):
        gbloss.Objective("focal")
    with pytest.raises(ValueError, match="n_threads"):
        gbloss.Objective(gbloss.focal(), n_threads="2")
    with pytest.raises(TypeError, match=r"xgboost\.DMatrix"):
        gbloss.xgboost.train({}, np.zeros((3, 2)), gbloss.focal())
    with pytest.raises(TypeError, match="gbloss loss"):
        gbloss.xgboost.train({}, xgb.DMatrix(np.zeros((3, 2)), [0, 1, 0]), None)
    with pytest.raises(TypeError, match=r"lightgbm\.Dataset"):
        gbloss.lightgbm.train({}, np.zeros((3, 2)), gbloss.focal())
    with pytest.raises(ValueError, match="n_classes"):
        gbloss.focal().init_score([0, 1], n_classes=1)
