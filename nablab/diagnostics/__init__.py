"""Diagnostics for training runs: a Monitor that names what is going wrong, with the numbers,
the likely cause and the fix.

from nablab.diagnostics import Monitor
mon = Monitor(model)          # sampled forward hooks on the activation layers
mon.check_finite(loss)        # before backward: the loss, NaN/Inf, what feeds the loss
...                           # loss.backward()
mon.step()                    # after backward: this step's gradients (sampled)
print(mon.report())           # statistics and the findings, each with cause and fix

Findings (stable kinds): non-finite, zero-gradients, vanishing-gradients,
exploding-gradients, dead-units, saturated-units, symmetric-units, loss-not-decreasing,
loss-oscillating, loss-diverging, weights-unchanged, zero-grad-forgotten,
probability-into-logits-loss, over-fitting.
"""

from .anomaly import first_nonfinite_op
from .findings import Finding
from .monitor import Monitor
