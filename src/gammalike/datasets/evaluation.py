"""Float fast path of spectrum datasets: map <-> array helpers and model integrals.

`TrueEnergyGrid` holds the true-energy bins shared by all datasets with the
same binning and caches each spectral model's bin integrals on the model's
parameter values.
"""
import weakref

import numpy as np
from astropy import units as u

from ..maps import RegionNDMap

__all__ = [
    "EXPOSURE_UNIT", "TrueEnergyGrid", "edisp_matrix", "energy_grid", "integral_float",
    "is_background_model", "is_sky_model", "spectral_key", "to_map", "values",
]

EXPOSURE_UNIT = u.Unit("cm2 s")


def values(m):
    """Map data as a flat float array view (None stays None)."""
    if m is None:
        return None
    return np.asarray(m.data).reshape(-1)


def to_map(geom, array, unit="", dtype=None, meta=None):
    """`~gammalike.maps.RegionNDMap` on ``geom`` from a flat array (copied: the
    map never shares memory with a dataset's cached arrays)."""
    data = np.array(array, dtype=dtype, copy=True).reshape(geom.data_shape)
    m = RegionNDMap.from_geom(geom, data=data, unit=unit)
    if meta:
        m.meta.update(meta)
    return m


def is_background_model(model):
    return type(model).__name__ in ("FoVBackgroundModel", "BackgroundModel")


def is_sky_model(model):
    """Whether ``model`` predicts signal: it has a spectral model and is not a background model."""
    return getattr(model, "spectral_model", None) is not None and not is_background_model(model)


def spectral_key(spectral_model):
    values = getattr(spectral_model, "parameter_values", None)
    if values is not None:
        return values()
    return tuple(p.value for p in spectral_model.parameters)


def integral_float(spectral_model, energy_min, energy_max):
    func = getattr(spectral_model, "integral_float", None)
    if func is not None:
        return func(energy_min, energy_max)
    return spectral_model.integral(energy_min * u.TeV, energy_max * u.TeV).to_value("cm-2 s-1")


class TrueEnergyGrid:
    """True-energy bins shared by all datasets with the same binning.

    It caches each spectral model's bin integrals on the model's parameter
    values, so datasets with identical true-energy bins (e.g. the runs of a
    joint fit) integrate a model once per parameter change, not once each.
    """

    __slots__ = ("energy_min", "energy_max", "_flux", "__weakref__")

    _max_models = 64

    def __init__(self, edges):
        self.energy_min = edges[:-1]
        self.energy_max = edges[1:]
        self._flux = {}

    def flux(self, spectral_model, key):
        """Integral flux per bin (cm-2 s-1) for parameter values ``key``."""
        cached = self._flux.get(id(spectral_model))
        if cached is not None and cached[0] is spectral_model and cached[1] == key:
            return cached[2]
        flux = integral_float(spectral_model, self.energy_min, self.energy_max)
        if len(self._flux) >= self._max_models:
            self._flux.clear()
        self._flux[id(spectral_model)] = (spectral_model, key, flux)
        return flux


_ENERGY_GRIDS = weakref.WeakValueDictionary()


def energy_grid(edges):
    """The shared `TrueEnergyGrid` of these edges (TeV)."""
    edges = np.ascontiguousarray(edges, dtype=np.float64)
    token = edges.tobytes()
    grid = _ENERGY_GRIDS.get(token)
    if grid is None:
        grid = TrueEnergyGrid(edges)
        _ENERGY_GRIDS[token] = grid
    return grid


def edisp_matrix(edisp):
    """``(n_true, n_reco)`` float matrix of an EDispKernel or an IRF map offering one."""
    if edisp is None:
        return None
    if hasattr(edisp, "pdf_matrix"):
        return np.asarray(edisp.pdf_matrix, dtype=np.float64)
    if hasattr(edisp, "get_edisp_kernel"):
        return np.asarray(edisp.get_edisp_kernel().pdf_matrix, dtype=np.float64)
    raise TypeError(f"edisp must be an EDispKernel, got {type(edisp).__name__}")
