"""Forecasting baselines and methods, each a plain ``nn.Module`` built from :mod:`stgraph.nn`.

Every forecasting model maps a batch from :meth:`stgraph.data.WindowDataset.gather` to
predictions ``[B, L_out, N, F]`` in the scaler's units.
"""
