"""Loaders of the built-in datasets; see :mod:`stgraph.data.registry` for the catalogue."""
