"""`nablab.utils` as torch.utils, where course code reaches for it: `nablab.utils.data`."""

from . import data
