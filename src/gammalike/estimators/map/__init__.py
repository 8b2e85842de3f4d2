"""Map estimators and their product: `FluxMaps`, `ExcessMapEstimator`, `TSMapEstimator`."""
from .core import FluxMaps
from .excess import ExcessMapEstimator
from .ts import TSMapEstimator

__all__ = ["FluxMaps", "ExcessMapEstimator", "TSMapEstimator"]
