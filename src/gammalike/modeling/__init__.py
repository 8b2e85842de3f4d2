"""Parameters, covariance, models and the fitter."""
from .covariance import Covariance
from .fit import Fit
from .fit_result import CovarianceResult, FitResult, OptimizeResult
from .parameter import Parameter, Parameters

__all__ = [
    "Covariance", "CovarianceResult", "Fit", "FitResult", "OptimizeResult",
    "Parameter", "Parameters",
]
