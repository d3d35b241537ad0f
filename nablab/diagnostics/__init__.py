"""Diagnostics for training runs: a Monitor that names what is going wrong and shows why.

from nablab.diagnostics import Monitor
mon = Monitor(model)          # hooks on model's layers
...                           # loss.backward()
mon.step()                    # record the weight-gradient norms of this step
print(mon.report())           # statistics per layer and the findings
"""

from .anomaly import first_nonfinite_op
from .findings import Finding
from .monitor import Monitor
