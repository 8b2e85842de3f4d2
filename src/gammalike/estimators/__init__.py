"""Estimators and their products: flux points, (later) flux maps and light curves."""
from .points import FluxPoints

__all__ = ["FluxPoints"]
