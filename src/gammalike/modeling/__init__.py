"""Parameters, covariance, models and the fitter."""
from .covariance import Covariance
from .parameter import Parameter, Parameters

__all__ = ["Covariance", "Parameter", "Parameters"]
