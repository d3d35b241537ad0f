"""nablab: a deep-learning framework written from scratch on NumPy."""
