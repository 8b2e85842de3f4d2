"""Flux points: the GADF "SED" format, sed-type conversions and plots."""
from .core import FluxPoints

__all__ = ["FluxPoints"]
