"""Arrays in, arrays out: namespaces and devices, the CPU executor, special functions,
input checks, labels, the Hessian policy and group sums.

Nothing here knows a loss or a booster.
"""
