"""`FluxMaps`: flux measurements per pixel and energy bin, relative to a reference model.

A `FluxMaps` is the map counterpart of `~gammalike.estimators.FluxPoints`:
it holds maps (`~gammalike.maps.WcsNDMap` with an "energy" axis of bin
edges, one bin per energy group of the estimator) of

* the norm-like quantities ``norm``, ``norm_err``, ``norm_errn``,
  ``norm_errp``, ``norm_ul``, ``norm_sensitivity`` -- always stored as norms,
  i.e. in units of the reference model;
* any other per-pixel quantity (``ts``, ``sqrt_ts``, ``npred``,
  ``npred_excess``, ``npred_background``, ``counts``, ``stat``,
  ``stat_null``, ``success``, ``niter``, ``alpha``, ...), stored as given.

Every sed-type view (``dnde``, ``e2dnde``, ``flux``, ``eflux`` with the
suffixes ``_err``, ``_errn``, ``_errp``, ``_ul``, ``_sensitivity``) is the norm
map times the reference model's value in each energy bin (the conversion
helpers of `gammalike.estimators.points.sed_type`), exactly as for flux
points: ``maps["flux"]`` is ``maps["norm"] * flux_ref[energy]``.

File format (`FluxMaps.write` / `FluxMaps.read`): a FITS file with an empty
primary HDU whose header holds ``SED_TYPE``, the reference spectral model
(``REFMODEL``, JSON of its ``to_dict``), ``N_SIGMA``, ``N_SIGMA_UL`` and
``META`` (JSON); one image HDU per quantity, named after it in upper case
(``NORM``, ``NORM_ERR`` ... or ``FLUX``, ``FLUX_ERR`` ... for
``sed_type="flux"``), each with ``BANDSHDU = 'BANDS'``; and one ``BANDS``
table HDU describing the non-spatial axes.
"""
import json
import logging

import numpy as np
from astropy import units as u
from astropy.io import fits

from ...maps import Map
from ...utils.io import write_atomic
from ..points.sed_type import (
    NORM_QUANTITIES,
    SED_TYPES,
    SED_UNITS,
    ReferenceFluxesMixin,
    column_name,
    log_center,
    model_reference_values,
    norm_quantity_name,
)

__all__ = ["FluxMaps"]

log = logging.getLogger(__name__)

#: Norm-like quantities a flux map may hold (no likelihood scan on maps).
MAP_NORM_QUANTITIES = tuple(q for q in NORM_QUANTITIES if q != "norm_scan")
_BOOL_QUANTITIES = ("success", "is_ul")


def _spectral_model(model):
    """The spectral part of a reference model (SkyModel or spectral model)."""
    return getattr(model, "spectral_model", model)


def _default_reference_model():
    from ...modeling.models import PowerLawSpectralModel, SkyModel

    return SkyModel(spectral_model=PowerLawSpectralModel(index=2), name="reference")


class FluxMaps(ReferenceFluxesMixin):
    """Flux maps: per-pixel flux measurements in energy bins, relative to a reference model.

    Estimators return a `FluxMaps`; most users only index it
    (``maps["sqrt_ts"]``, ``maps["flux"]``, ``maps.flux_ul``) and write it.

    Parameters
    ----------
    data : dict of `~gammalike.maps.WcsNDMap`
        Maps on one geometry with an "energy" axis (bin edges). Norm-like
        quantities are given as norms ("norm", "norm_err", ...).
    reference_model : `~gammalike.modeling.models.SkyModel` or spectral model, optional
        Reference model of the norms (default: power law of index 2,
        1e-12 cm-2 s-1 TeV-1 at 1 TeV).
    meta : dict, optional
        Metadata; "n_sigma", "n_sigma_ul" and "sqrt_ts_threshold_ul" are used.
    gti : `~gammalike.data.GTI`, optional
        Good time intervals of the data.
    """

    def __init__(self, data, reference_model=None, meta=None, gti=None):
        if not data:
            raise ValueError("FluxMaps: no maps given")
        self._data = {}
        geom = None
        for name, m in data.items():
            if not isinstance(m, Map):
                raise TypeError(f"FluxMaps: {name!r} must be a Map, got {type(m).__name__}")
            if geom is None:
                geom = m.geom
            elif m.geom.data_shape != geom.data_shape:
                raise ValueError(
                    f"FluxMaps: map {name!r} has shape {m.geom.data_shape}, expected {geom.data_shape}"
                )
            if name in NORM_QUANTITIES and m.unit != u.dimensionless_unscaled:
                raise ValueError(
                    f"FluxMaps: {name!r} must be a dimensionless norm map, got unit '{m.unit}' "
                    "(use FluxMaps.from_maps for maps in a flux unit)"
                )
            self._data[name] = m
        if "energy" not in geom.axes.names:
            raise ValueError(f"FluxMaps: the maps need an 'energy' axis, got axes {geom.axes.names}")
        self._geom = geom
        self.reference_model = reference_model if reference_model is not None else _default_reference_model()
        meta = dict(meta or {})
        self.meta = meta
        self.gti = gti

    # ------------------------------------------------------------------ reference
    @property
    def reference_model(self):
        """Reference model (as given: `SkyModel` or spectral model)."""
        return self._reference_model

    @reference_model.setter
    def reference_model(self, model):
        self._reference_model = model
        axis = self.energy_axis
        e_min = axis.edges_min.to_value("TeV")
        e_max = axis.edges_max.to_value("TeV")
        self._ref = model_reference_values(
            _spectral_model(model), log_center(e_min, e_max), e_min, e_max
        )

    @property
    def reference_spectral_model(self):
        """Spectral part of the reference model."""
        return _spectral_model(self._reference_model)

    # ------------------------------------------------------------------ geometry
    @property
    def geom(self):
        """Geometry of the maps (`~gammalike.maps.WcsGeom` with an energy axis)."""
        return self._geom

    @property
    def energy_axis(self):
        """Energy axis (one bin per energy group)."""
        return self._geom.axes["energy"]

    @property
    def energy_ref(self):
        """Reference energies (log centres of the bins)."""
        axis = self.energy_axis
        return u.Quantity(log_center(axis.edges_min.value, axis.edges_max.value), axis.unit)

    @property
    def energy_min(self):
        return self.energy_axis.edges_min

    @property
    def energy_max(self):
        return self.energy_axis.edges_max

    @property
    def n_sigma(self):
        return self.meta.get("n_sigma", 1)

    @property
    def n_sigma_ul(self):
        return self.meta.get("n_sigma_ul", 2)

    @property
    def sqrt_ts_threshold_ul(self):
        return self.meta.get("sqrt_ts_threshold_ul", 2)

    # ------------------------------------------------------------------ quantities
    @property
    def available_quantities(self):
        """Names of the stored quantities (plus ``sqrt_ts`` / ``is_ul`` when derivable)."""
        names = list(self._data)
        if "ts" in names and "sqrt_ts" not in names:
            names.append("sqrt_ts")
        if "norm_ul" in names and "ts" in names and "is_ul" not in names:
            names.append("is_ul")
        return names

    def has_quantity(self, name):
        return name in self.available_quantities

    def _ref_expanded(self, sed_type, ndim):
        """Reference values per energy bin, shaped to broadcast against map data."""
        ref = self._ref[sed_type]
        shape = [1] * ndim
        shape[self._geom.axes.index_data("energy")] = ref.size
        return ref.reshape(shape)

    def _norm_map(self, quantity, sed_type):
        m = self._data[quantity]
        if sed_type == "likelihood":
            return m.copy()
        data = np.asarray(m.data, dtype=float) * self._ref_expanded(sed_type, m.data.ndim)
        return m._init_copy(data=data, unit=SED_UNITS[sed_type])

    def _derived(self, name):
        if name == "sqrt_ts" and "ts" in self._data:
            ts = np.asarray(self._data["ts"].data, dtype=float)
            sign = 1.0
            if "norm" in self._data:
                sign = np.where(np.asarray(self._data["norm"].data) < 0, -1.0, 1.0)
            with np.errstate(invalid="ignore"):
                data = sign * np.sqrt(np.clip(ts, 0, None))
            return self._data["ts"]._init_copy(data=data, unit="")
        if name == "is_ul" and "ts" in self._data and "norm_ul" in self._data:
            with np.errstate(invalid="ignore"):
                data = np.asarray(self._data["ts"].data) < self.sqrt_ts_threshold_ul ** 2
            return Map.from_geom(self._geom, data=data, dtype=bool)
        return None

    def __getitem__(self, name):
        if not isinstance(name, str):
            raise TypeError(f"FluxMaps: index with a quantity name, got {name!r}")
        if name in self._data:
            return self._data[name]
        for sed_type in SED_TYPES:
            quantity = norm_quantity_name(name, sed_type)
            if quantity is not None and quantity in self._data:
                return self._norm_map(quantity, sed_type)
        derived = self._derived(name)
        if derived is not None:
            return derived
        raise KeyError(
            f"FluxMaps: no quantity {name!r}; available: {self.available_quantities} "
            "(norm-like ones also as dnde, e2dnde, flux, eflux)"
        )

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as error:
            raise AttributeError(str(error)) from None

    def __contains__(self, name):
        try:
            self[name]
        except KeyError:
            return False
        return True

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_maps(cls, maps, sed_type=None, reference_model=None, gti=None, meta=None):
        """Flux maps from maps of a sed type ("dnde", "flux", ... or norms).

        Parameters
        ----------
        maps : dict of `~gammalike.maps.WcsNDMap`
            Maps keyed by column name ("flux", "flux_err", "ts", ...).
        sed_type : str, optional
            Sed type of the norm-like maps (default: guessed from the keys).
        reference_model : model, optional
            Reference model (default: power law of index 2).
        """
        if sed_type is None:
            sed_type = next((s for s in ("likelihood", "dnde", "e2dnde", "flux", "eflux")
                             if column_name("norm", s) in maps), "likelihood")
        if sed_type not in SED_TYPES:
            raise ValueError(f"FluxMaps.from_maps: unknown sed_type {sed_type!r}, expected one of {SED_TYPES}")
        first = next(iter(maps.values()))
        template = cls({"_": first}, reference_model=reference_model)
        data = {}
        for key, m in maps.items():
            quantity = norm_quantity_name(key, sed_type)
            if quantity is None:
                data[key] = m
                continue
            if sed_type == "likelihood":
                data[quantity] = m
                continue
            values = u.Quantity(np.asarray(m.data, dtype=float), m.unit)
            if m.unit == u.dimensionless_unscaled:
                values = values * SED_UNITS[sed_type]
            ref = template._ref_expanded(sed_type, m.data.ndim)
            norm = values.to_value(SED_UNITS[sed_type]) / ref
            data[quantity] = m._init_copy(data=norm, unit="")
        return cls(data, reference_model=template.reference_model, gti=gti, meta=meta)

    def copy(self, reference_model=None):
        """Copy (optionally with another reference model: the norms are kept)."""
        data = {k: m.copy() for k, m in self._data.items()}
        return self.__class__(data, reference_model=reference_model or self.reference_model,
                              meta=dict(self.meta), gti=self.gti)

    def slice_by_idx(self, slices):
        """Flux maps of a sub-range of the non-spatial axes (dict axis name -> slice)."""
        data = {k: m.slice_by_idx(slices) for k, m in self._data.items()}
        return self.__class__(data, reference_model=self.reference_model, meta=dict(self.meta),
                              gti=self.gti)

    # ------------------------------------------------------------------ flux points
    def get_flux_points(self, position=None):
        """`~gammalike.estimators.FluxPoints` at the pixel nearest to ``position`` (default: map centre)."""
        from ..points import FluxPoints

        geom = self._geom
        if position is None:
            position = geom.center_skydir
        sep = geom.separation(position)
        iy, ix = np.unravel_index(np.argmin(np.asarray(sep)), np.shape(sep))
        data = {}
        for name in self.available_quantities:
            m = self[name]
            values = np.asarray(m.data)[..., iy, ix].reshape(-1)
            data[name] = values
        return FluxPoints(data, energy_axis=self.energy_axis,
                          reference_model=self.reference_spectral_model,
                          meta=dict(self.meta), sed_type="likelihood")

    # ------------------------------------------------------------------ plotting
    def plot_grid(self, quantity="sqrt_ts", **kwargs):
        """One panel per energy bin of a quantity (see `~gammalike.maps.WcsNDMap.plot_grid`)."""
        return self[quantity].plot_grid(**kwargs)

    # ------------------------------------------------------------------ I/O
    def to_hdulist(self, sed_type="likelihood"):
        """HDU list of the maps (see the module doc for the layout)."""
        if sed_type not in SED_TYPES:
            raise ValueError(f"FluxMaps.write: unknown sed_type {sed_type!r}, expected one of {SED_TYPES}")
        primary = fits.PrimaryHDU()
        header = primary.header
        header["SED_TYPE"] = sed_type
        ref = self.reference_model
        try:
            header["REFMODEL"] = json.dumps(ref.to_dict(), default=str)
            header["REFKIND"] = "sky" if hasattr(ref, "spectral_model") else "spectral"
        except (AttributeError, TypeError, ValueError):
            log.warning("FluxMaps.write: the reference model could not be serialised")
        header["NSIGMA"] = float(self.n_sigma)
        header["NSIGMAUL"] = float(self.n_sigma_ul)
        header["META"] = json.dumps(self.meta, default=str)
        hdus = [primary]
        bands = None
        for name, m in self._data.items():
            quantity_name = name
            if name in MAP_NORM_QUANTITIES:
                quantity_name = column_name(name, sed_type)
                m = self._norm_map(name, sed_type)
            hdulist = m.to_hdulist(hdu=quantity_name.upper(), hdu_bands="BANDS")
            hdus.append(hdulist[1])
            if bands is None and len(hdulist) > 2:
                bands = hdulist[2]
        if bands is not None:
            hdus.append(bands)
        return fits.HDUList(hdus)

    def write(self, filename, overwrite=False, sed_type="likelihood"):
        """Write to FITS (one HDU per quantity, norm-like ones in ``sed_type``)."""
        hdulist = self.to_hdulist(sed_type=sed_type)
        with write_atomic(filename, overwrite=overwrite) as tmp:
            hdulist.writeto(tmp)

    @classmethod
    def from_hdulist(cls, hdulist, filename=""):
        """Flux maps from an HDU list written by `to_hdulist`."""
        primary = hdulist[0].header
        sed_type = primary.get("SED_TYPE", "likelihood")
        if sed_type not in SED_TYPES:
            raise ValueError(f"FluxMaps.read: {filename!r} has unknown SED_TYPE {sed_type!r}")
        reference_model = None
        if "REFMODEL" in primary:
            from ...modeling.models import SkyModel, SpectralModel

            data = json.loads(primary["REFMODEL"])
            kind = primary.get("REFKIND", "sky")
            reference_model = SkyModel.from_dict(data) if kind == "sky" else SpectralModel.from_dict(data)
        meta = json.loads(primary.get("META", "{}"))
        maps = {}
        for hdu in hdulist[1:]:
            if not isinstance(hdu, (fits.ImageHDU, fits.CompImageHDU)) or hdu.data is None:
                continue
            name = hdu.name.lower()
            maps[name] = Map.from_hdulist(hdulist, hdu=hdu.name, hdu_bands=hdu.header.get("BANDSHDU"))
        if not maps:
            raise ValueError(f"FluxMaps.read: no image HDU in {filename!r}")
        return cls.from_maps(maps, sed_type=sed_type, reference_model=reference_model, meta=meta)

    @classmethod
    def read(cls, filename):
        """Read flux maps written by `write`."""
        from ...utils import make_path

        path = make_path(filename)
        with fits.open(path) as hdulist:
            return cls.from_hdulist(hdulist, filename=str(path))

    # ------------------------------------------------------------------ display
    def __str__(self):
        lines = [type(self).__name__, "-" * len(type(self).__name__), ""]
        lines.append(f"  geom                   : {type(self._geom).__name__}")
        lines.append(f"  axes                   : {['lon', 'lat'] + list(self._geom.axes.names)}")
        lines.append(f"  shape                  : {self._geom.data_shape[::-1]}")
        lines.append(f"  quantities             : {self.available_quantities}")
        lines.append(f"  ref. model             : {type(self.reference_spectral_model).__name__}")
        lines.append(f"  n_sigma                : {self.n_sigma}")
        lines.append(f"  n_sigma_ul             : {self.n_sigma_ul}")
        lines.append(f"  sqrt_ts_threshold_ul   : {self.sqrt_ts_threshold_ul}")
        return "\n".join(lines) + "\n"

    def __repr__(self):
        return f"{type(self).__name__}(quantities={self.available_quantities})"
