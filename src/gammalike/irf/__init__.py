"""Instrument response functions and their file formats."""
from .edisp_kernel import EDispKernel

__all__ = ["EDispKernel"]
from .core import IRF  # noqa: E402
from .effective_area import EffectiveAreaTable2D  # noqa: E402
from .edisp import EnergyDispersion2D  # noqa: E402
from .psf import PSF3D, EnergyDependentMultiGaussPSF, ParametricPSF, PSFKing  # noqa: E402
from .background import Background2D, Background3D, FoVAlignment  # noqa: E402
from .rad_max import RadMax2D  # noqa: E402
from .io import IRF_REGISTRY, load_irf_dict_from_file  # noqa: E402

__all__ += [  # noqa: E402
    "IRF", "EffectiveAreaTable2D", "EnergyDispersion2D", "PSF3D", "EnergyDependentMultiGaussPSF",
    "ParametricPSF", "PSFKing", "Background2D", "Background3D", "FoVAlignment", "RadMax2D",
    "IRF_REGISTRY", "load_irf_dict_from_file",
]
from .irf_map import IRFMap  # noqa: E402
from .psf_kernel import PSFKernel, convolve_cube  # noqa: E402
from .psf_map import PSFMap  # noqa: E402
from .edisp_map import EDispKernelMap, EDispMap, read_edisp_map_from_hdulist  # noqa: E402

__all__ += [  # noqa: E402
    "IRFMap", "PSFKernel", "convolve_cube", "PSFMap", "EDispKernelMap", "EDispMap",
    "read_edisp_map_from_hdulist",
]
from .parametrisation import load_cta_irfs, make_irfs  # noqa: E402

__all__ += ["load_cta_irfs", "make_irfs"]  # noqa: E402
