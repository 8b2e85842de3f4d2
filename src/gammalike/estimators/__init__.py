"""Estimators and their products: flux points, (later) flux maps and light curves."""
from .points import FluxPoints

__all__ = ["FluxPoints"]

# the norm kernel, the estimator base class, FluxPointsEstimator and ParameterEstimator
from .core import Estimator  # noqa: E402
from .parameter import ParameterEstimator  # noqa: E402
from .points.sed import FluxPointsEstimator  # noqa: E402

__all__ += ["Estimator", "FluxPointsEstimator", "ParameterEstimator"]

# light curves: flux points in time intervals
from .points.lightcurve import LightCurveEstimator  # noqa: E402

__all__ += ["LightCurveEstimator"]

# maps: significance and TS maps and their product
from .map import ExcessMapEstimator, FluxMaps, TSMapEstimator  # noqa: E402

__all__ += ["ExcessMapEstimator", "FluxMaps", "TSMapEstimator"]
