"""Point spread functions: tabulated (`PSF3D`) and parametric (`EnergyDependentMultiGaussPSF`, `PSFKing`)."""
from .core import PSF
from .table import PSF3D
from .parametric import ParametricPSF, EnergyDependentMultiGaussPSF, PSFKing

__all__ = ["PSF", "PSF3D", "ParametricPSF", "EnergyDependentMultiGaussPSF", "PSFKing"]
