"""`SafeMaskMaker`: the energy range (and field of view) where the IRFs can be trusted.

Every method gives a boolean map on the dataset's counts geometry; the safe
mask is their logical AND (it replaces the dataset's previous safe mask).  Energy
thresholds become masks through ``geom.energy_mask``: a reco-energy bin is safe
when it lies entirely inside the safe range.  Works on any dataset whose
``counts`` map has an ``energy`` axis: 1D region spectra now, 3D WCS cubes for
the map makers.
"""
import copy
import logging

import numpy as np
import astropy.units as u
from astropy.coordinates import Angle

from ..maps import RegionGeom
from .core import Maker
from .utils import angular_separation_deg

__all__ = ["SafeMaskMaker"]

log = logging.getLogger(__name__)


class SafeMaskMaker(Maker):
    """Make the safe mask of a dataset.

    Parameters
    ----------
    methods : list of str
        Any of:

        * "aeff-default": the energy range LO_THRES - HI_THRES of the effective area header;
        * "aeff-max": above the lowest true energy where the effective area
          (DL3) or the exposure (DL4) exceeds ``aeff_percent`` % of its maximum;
        * "edisp-bias": above the lowest true energy from which the relative
          energy bias stays below ``bias_percent`` %;
        * "offset-max": spatial pixels closer than ``offset_max`` to the pointing;
        * "bkg-peak": above the reco energy bin where the predicted background peaks.
    aeff_percent : float
        Percentage of the maximum effective area for "aeff-max".
    bias_percent : float
        Maximum relative bias (%) for "edisp-bias".
    position : `~astropy.coordinates.SkyCoord`, optional
        Where the IRFs are evaluated (default: the centre of the dataset geometry).
    fixed_offset : `~astropy.coordinates.Angle`, optional
        Evaluate the DL3 IRFs at this offset instead of at ``position``.
    offset_max : `~astropy.coordinates.Angle` or str
        Maximum offset for "offset-max".
    irfs : {"DL4", "DL3"}
        Compute "aeff-max" and "edisp-bias" from the dataset's reduced IRFs
        (exposure, edisp kernel) or from the observation's IRFs.
    """

    tag = "SafeMaskMaker"
    available_methods = ("aeff-default", "aeff-max", "edisp-bias", "offset-max", "bkg-peak")

    def __init__(self, methods=("aeff-default",), aeff_percent=10, bias_percent=10, position=None,
                 fixed_offset=None, offset_max="3 deg", irfs="DL4"):
        if isinstance(methods, str):
            methods = [methods]
        methods = list(methods)
        unknown = set(methods) - set(self.available_methods)
        if unknown:
            raise ValueError(
                f"SafeMaskMaker: unknown methods {sorted(unknown)}, expected some of {list(self.available_methods)}"
            )
        if irfs not in ("DL3", "DL4"):
            raise ValueError(f"SafeMaskMaker: irfs must be 'DL3' or 'DL4', got {irfs!r}")
        if position is not None and fixed_offset is not None:
            raise ValueError("SafeMaskMaker: give position or fixed_offset, not both")
        self.methods = methods
        self.aeff_percent = float(aeff_percent)
        self.bias_percent = float(bias_percent)
        if not 0 <= self.aeff_percent <= 100:
            raise ValueError(f"SafeMaskMaker: aeff_percent must be in [0, 100], got {aeff_percent!r}")
        if self.bias_percent < 0:
            raise ValueError(f"SafeMaskMaker: bias_percent must be >= 0, got {bias_percent!r}")
        self.position = position
        self.fixed_offset = Angle(fixed_offset) if fixed_offset is not None else None
        self.offset_max = Angle(offset_max)
        self.irfs = irfs

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _geom(dataset):
        return dataset.counts.geom

    def _position(self, dataset):
        if self.position is not None:
            return self.position
        geom = self._geom(dataset)
        return geom.center_skydir

    def _offset(self, dataset, observation):
        """Offset (deg) at which DL3 IRFs are evaluated."""
        if self.fixed_offset is not None:
            return float(self.fixed_offset.deg)
        position = self._position(dataset)
        if position is None:
            raise ValueError(f"SafeMaskMaker: dataset {dataset.name!r} has no position; give position or fixed_offset")
        pointing = observation.get_pointing_icrs()
        position = position.icrs
        return float(angular_separation_deg(pointing.ra.deg, pointing.dec.deg, position.ra.deg, position.dec.deg))

    @staticmethod
    def _require_observation(observation, method):
        if observation is None:
            raise ValueError(f"SafeMaskMaker: method {method!r} needs the observation")

    @staticmethod
    def _energy_mask(geom, energy_min=None, energy_max=None):
        return geom.energy_mask(energy_min=energy_min, energy_max=energy_max)

    # ------------------------------------------------------------------ methods
    def make_mask_energy_aeff_default(self, dataset, observation):
        """Reco bins inside the LO_THRES - HI_THRES range of the effective area header (TeV)."""
        self._require_observation(observation, "aeff-default")
        meta = observation.aeff.meta
        energy_min = meta.get("LO_THRES")
        energy_max = meta.get("HI_THRES")
        if energy_min is None and energy_max is None:
            log.warning("SafeMaskMaker: obs %s: no LO_THRES / HI_THRES in the effective area header; "
                        "aeff-default keeps all energies", observation.obs_id)
        energy_min = None if energy_min is None else u.Quantity(float(energy_min), "TeV")
        energy_max = None if energy_max is None else u.Quantity(float(energy_max), "TeV")
        return self._energy_mask(self._geom(dataset), energy_min, energy_max)

    def _exposure_dl4(self, dataset):
        """Exposure (float array over energy_true) at the position, and its true-energy axis."""
        exposure = dataset.exposure
        if exposure is None:
            raise ValueError(f"SafeMaskMaker: dataset {dataset.name!r} has no exposure for 'aeff-max' (DL4)")
        axis = exposure.geom.axes["energy_true"]
        if isinstance(exposure.geom, RegionGeom):
            return np.asarray(exposure.data, dtype=float).reshape(axis.nbin), axis
        position = self._position(dataset)
        values = exposure.get_by_coord({"skycoord": position, "energy_true": axis.center})
        return np.nan_to_num(np.asarray(values, dtype=float)).reshape(axis.nbin), axis

    def make_mask_energy_aeff_max(self, dataset, observation=None):
        """Reco bins above the lowest true energy where the effective area exceeds ``aeff_percent`` % of its maximum.

        The threshold is the lower edge of the first true-energy bin passing
        the criterion (DL4: the dataset's exposure at the position; DL3: the
        observation's effective area at the offset, on the dataset's true axis).
        """
        if self.irfs == "DL3":
            self._require_observation(observation, "aeff-max")
            aeff = observation.aeff
            if dataset.exposure is not None:
                axis = dataset.exposure.geom.axes["energy_true"]
            else:
                axis = aeff.axes["energy_true"]
            offset = self._offset(dataset, observation)
            energy = axis.center.to_value(aeff.axes["energy_true"].unit)
            values = aeff.evaluate_float(energy, np.full(energy.shape, offset * u.deg.to(aeff.axes["offset"].unit)))
        else:
            values, axis = self._exposure_dl4(dataset)
        geom = self._geom(dataset)
        if not np.any(values > 0):
            return self._energy_mask(geom, energy_min=u.Quantity(np.inf, "TeV"))
        threshold = self.aeff_percent / 100 * values.max()
        idx = int(np.argmax(values > threshold))
        return self._energy_mask(geom, energy_min=axis.edges[idx])

    def make_mask_energy_edisp_bias(self, dataset, observation=None):
        """Reco bins above the true energy from which ``|bias|`` stays below ``bias_percent`` %."""
        if self.irfs == "DL3":
            self._require_observation(observation, "edisp-bias")
            offset = self._offset(dataset, observation)
            kernel = observation.edisp.to_edisp_kernel(offset * u.deg)
        else:
            edisp = dataset.edisp
            if edisp is None:
                raise ValueError(f"SafeMaskMaker: dataset {dataset.name!r} has no edisp for 'edisp-bias'")
            if hasattr(edisp, "get_edisp_kernel"):
                kernel = edisp.get_edisp_kernel(position=self._position(dataset))
            else:
                kernel = edisp
        energy_min = kernel.get_bias_energy(self.bias_percent / 100)
        if not np.isfinite(u.Quantity(energy_min).value):
            log.warning("SafeMaskMaker: dataset %s: the bias never falls below %s %%; no safe energy",
                        dataset.name, self.bias_percent)
        return self._energy_mask(self._geom(dataset), energy_min=energy_min)

    def make_mask_offset_max(self, dataset, observation):
        """Spatial bins closer than ``offset_max`` to the pointing (all energies)."""
        self._require_observation(observation, "offset-max")
        geom = self._geom(dataset)
        pointing = observation.get_pointing_icrs()
        coords = geom.to_image().get_coord()
        skycoord = coords.skycoord.icrs
        offset = angular_separation_deg(pointing.ra.deg, pointing.dec.deg, skycoord.ra.deg, skycoord.dec.deg)
        image = np.asarray(offset < self.offset_max.deg).reshape(geom.data_shape[-2:])
        data = np.broadcast_to(image, geom.data_shape).copy()
        from ..maps import Map

        return Map.from_geom(geom, data=data, dtype=bool)

    def make_mask_bkg_peak(self, dataset, observation=None):
        """Reco bins from the bin where the predicted background (summed over space) peaks."""
        geom = self._geom(dataset)
        background = dataset.npred_background() if hasattr(dataset, "npred_background") else dataset.background
        if background is None:
            raise ValueError(f"SafeMaskMaker: dataset {dataset.name!r} has no background for 'bkg-peak'")
        axis = geom.axes["energy"]
        values = np.asarray(background.data, dtype=float).reshape(axis.nbin, -1).sum(axis=1)
        idx = int(np.argmax(values))
        return self._energy_mask(geom, energy_min=axis.edges[idx])

    # ------------------------------------------------------------------ run
    def run(self, dataset, observation=None):
        """Dataset with ``mask_safe`` = the AND of the masks of all methods (it replaces the old one).

        Parameters
        ----------
        dataset : `~gammalike.datasets.SpectrumDataset`, `~gammalike.datasets.MapDataset` ...
            Dataset (its ``counts`` geometry defines the mask).
        observation : `~gammalike.data.Observation`, optional
            Needed by "aeff-default", "offset-max" and the DL3 variants.

        Returns
        -------
        dataset : same type
            A copy sharing the data arrays, with the new ``mask_safe``.
        """
        geom = self._geom(dataset)
        mask = np.ones(geom.data_shape, dtype=bool)
        makers = {
            "aeff-default": self.make_mask_energy_aeff_default,
            "aeff-max": self.make_mask_energy_aeff_max,
            "edisp-bias": self.make_mask_energy_edisp_bias,
            "offset-max": self.make_mask_offset_max,
            "bkg-peak": self.make_mask_bkg_peak,
        }
        for method in self.methods:
            mask &= np.asarray(makers[method](dataset, observation).data, dtype=bool)
        from ..maps import Map

        new = _shallow_copy(dataset)
        new.mask_safe = Map.from_geom(geom, data=mask, dtype=bool)
        return new


def _shallow_copy(dataset):
    """New dataset object sharing the (never mutated in place) maps of ``dataset``.

    Caches of model evaluations are not shared: they are per dataset object.
    """
    new = copy.copy(dataset)
    state = new.__dict__
    for key, value in list(state.items()):
        if key.endswith("_cache") or key == "_evaluators":
            state[key] = {} if isinstance(value, dict) else None
        elif key == "_prepared":
            state[key] = None
    return new
