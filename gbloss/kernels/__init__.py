"""Compiled mirrors of the focal family (focal loss and cross-entropy).

:mod:`gbloss.kernels.fused` evaluates the formulas of :mod:`gbloss.losses.focal`
element by element in one numba loop for large numpy inputs; the loss
dispatches to it and the tests hold both paths against each other and against
torch autograd.
"""
