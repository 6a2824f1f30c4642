"""The daily dunning run: one plan for each credit line, applied set-wise or one case at a time."""
