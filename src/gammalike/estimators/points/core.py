"""`FluxPoints`: a spectrum measured in energy bins, in any GADF SED representation.

Storage
-------
A `FluxPoints` keeps

* the energies: ``e_ref`` and the bin bounds ``e_min``/``e_max`` as float
  arrays in the unit of the energy axis, and an energy `~gammalike.maps.MapAxis`
  (bin edges when the bins are contiguous, else nodes at ``e_ref``, e.g. the
  LHAASO table with only ``e_ref``);
* the norm-like quantities (``norm``, ``norm_err``, ``norm_errn``,
  ``norm_errp``, ``norm_ul``, ``norm_sensitivity``, ``norm_scan``) in one
  *base* representation: the sed type and unit of the table they came from
  (norms for "likelihood" tables, e.g. dnde in "cm-2 erg s-1 TeV-2" for the
  HAWC file). Any other representation is ``value / ref_base * ref_other``
  (see `.sed_type`), and the base representation is returned untouched, so
  ``read -> write`` with the same sed type gives back identical numbers;
* the reference values ``ref_dnde``, ``ref_e2dnde``, ``ref_flux``,
  ``ref_eflux`` (float arrays, internal units), from the ``ref_*`` columns of
  likelihood tables or computed from the reference model (default: power law
  of index 2, which only matters for flux/eflux <-> dnde/e2dnde);
* the other per-bin quantities (``ts``, ``sqrt_ts``, ``is_ul``, ``npred``,
  ``counts``, ``stat``, ``stat_null``, ``stat_scan``, ``success`` and any
  unknown column) as arrays, with their units.

Light curves are flux points with a second axis: an optional
`~gammalike.maps.TimeMapAxis`.  Their arrays have shape
``(n_energy, n_time, ...)`` (energy first, as everywhere here; trailing
axes for the scan values or the datasets), they are written in the
"lightcurve" table format (one row per time bin) and plotted against time.
"""
import copy
import logging

import numpy as np
from astropy import units as u

from ...maps import MapAxis, TimeMapAxis
from .sed_type import (
    DEFAULT_REFERENCE,
    NORM_QUANTITIES,
    SED_TYPES,
    SED_UNITS,
    ReferenceFluxesMixin,
    column_name,
    model_reference_values,
    norm_quantity_name,
    powerlaw_reference_values,
)

__all__ = ["FluxPoints"]

log = logging.getLogger(__name__)

_BOOL_QUANTITIES = ("is_ul", "success")
_SUFFIXES = tuple(name[len("norm"):] for name in NORM_QUANTITIES)


def _expand(ref, ndim):
    """Reshape a per-bin array to broadcast against an array of ``ndim`` dims."""
    return ref.reshape(ref.shape + (1,) * (ndim - 1))


def _check_sed_type(sed_type):
    if sed_type not in SED_TYPES:
        raise ValueError(f"Unknown sed_type {sed_type!r}: expected one of {SED_TYPES}")
    return sed_type


class FluxPoints(ReferenceFluxesMixin):
    """Flux points: measured flux in energy bins, relative to a reference spectral model.

    Most users get flux points from `FluxPoints.read` or from an estimator;
    the constructor takes arrays.

    Parameters
    ----------
    data : dict
        Per-bin quantities (first axis: energy). Norm-like quantities are given
        either as norms (keys "norm", "norm_err", ... with ``sed_type="likelihood"``)
        or in the representation ``sed_type`` (keys "dnde", "dnde_err", ... or
        the norm names), as Quantities or as floats in the internal unit
        (cm-2 s-1 TeV-1, TeV cm-2 s-1, cm-2 s-1). Other keys ("ts", "is_ul",
        "counts", ...) are stored as they are.
    energy_axis : `~gammalike.maps.MapAxis`
        Energy axis (edges, or nodes when only reference energies are known).
    reference_model : `~gammalike.modeling.models.SpectralModel`, optional
        Reference spectral model. Default: power law of index 2
        (1e-12 cm-2 s-1 TeV-1 at 1 TeV).
    meta : dict, optional
        Metadata; "n_sigma", "n_sigma_ul" and "sqrt_ts_threshold_ul" are used.
    gti : `~astropy.table.Table`, optional
        Good time intervals.
    sed_type : {"likelihood", "dnde", "e2dnde", "flux", "eflux"}
        Representation of the norm-like entries of ``data``.
    energy_ref : `~astropy.units.Quantity`, optional
        Reference energies (default: the axis centres).
    reference_values : dict of `~astropy.units.Quantity`, optional
        "dnde", "flux", "eflux" of the reference model per bin (e.g. the
        ``ref_*`` columns of a table); missing ones come from the model.
    time_axis : `~gammalike.maps.TimeMapAxis`, optional
        Time bins of a light curve: the arrays of ``data`` then have shape
        ``(n_energy, n_time, ...)``.
    """

    def __init__(self, data, energy_axis, reference_model=None, meta=None, gti=None,
                 sed_type="likelihood", energy_ref=None, reference_values=None, time_axis=None):
        if not isinstance(energy_axis, MapAxis):
            raise TypeError(f"FluxPoints: energy_axis must be a MapAxis, got {type(energy_axis)}")
        if time_axis is not None and not isinstance(time_axis, TimeMapAxis):
            raise TypeError(f"FluxPoints: time_axis must be a TimeMapAxis, got {type(time_axis)}")
        self._time_axis = time_axis
        self._base = _check_sed_type(sed_type)
        self._axis = energy_axis
        unit = energy_axis.unit
        self._energy_unit = unit
        self._e_min = np.array(energy_axis.edges_min.value, dtype=float)
        self._e_max = np.array(energy_axis.edges_max.value, dtype=float)
        self._has_bounds = energy_axis.node_type == "edges"
        if energy_ref is None:
            self._e_ref = np.array(energy_axis.center.value, dtype=float)
        else:
            self._e_ref = np.array(u.Quantity(energy_ref, unit).to_value(unit), dtype=float)
        self._set_data(data)
        self._reference_model = reference_model
        self._reference_input = reference_values
        self._update_reference()
        meta = dict(meta or {})
        self.n_sigma = float(meta.pop("n_sigma", 1))
        self.n_sigma_ul = float(meta.pop("n_sigma_ul", 2))
        self.sqrt_ts_threshold_ul = float(meta.pop("sqrt_ts_threshold_ul", 2))
        self.meta = meta
        self.gti = gti

    # ------------------------------------------------------------------ construction
    def _set_data(self, data):
        nbin = self._data_shape
        self._norm, self._other, self._other_units = {}, {}, {}
        main = column_name("norm", self._base)
        base_unit = SED_UNITS[self._base]
        value = data.get(main, data.get("norm")) if main != "norm" else data.get("norm")
        if isinstance(value, u.Quantity):
            base_unit = value.unit
        self._base_unit = u.Unit(base_unit)
        internal = SED_UNITS[self._base]
        if not self._base_unit.is_equivalent(internal):
            raise u.UnitConversionError(
                f"FluxPoints: {main!r} given in '{self._base_unit}', expected a unit "
                f"convertible to '{internal}'"
            )
        self._base_scale = float(self._base_unit.to(internal))
        for key, value in data.items():
            name = key if key in NORM_QUANTITIES else norm_quantity_name(key, self._base)
            if name is not None:
                if isinstance(value, u.Quantity):
                    values = value.to_value(self._base_unit)
                else:
                    values = np.asarray(value, dtype=float) / self._base_scale
                values = np.array(values, dtype=float)
                self._check_shape(key, values, nbin)
                self._norm[name] = values
                continue
            if isinstance(value, u.Quantity):
                self._other_units[key] = value.unit
                values = np.array(value.value)
            else:
                values = np.array(value)
            if key in _BOOL_QUANTITIES:
                values = values.astype(bool)
            self._check_shape(key, values, nbin)
            self._other[key] = values

    @property
    def _data_shape(self):
        """Leading shape of every per-bin array: (n_energy,) or (n_energy, n_time)."""
        if self._time_axis is None:
            return (self._e_ref.size,)
        return (self._e_ref.size, self._time_axis.nbin)

    @staticmethod
    def _check_shape(key, values, shape):
        if values.ndim < len(shape) or values.shape[:len(shape)] != tuple(shape):
            expected = (f"{shape[0]} energy bins along the first axis" if len(shape) == 1
                        else f"{tuple(shape)} (energy, time) bins along the first axes")
            raise ValueError(
                f"FluxPoints: quantity {key!r} has shape {values.shape}, expected {expected}"
            )

    def _update_reference(self):
        """Compute the reference values (float arrays, internal units)."""
        scale = float(self._energy_unit.to("TeV"))
        e_ref = self._e_ref * scale
        e_min, e_max = self._e_min * scale, self._e_max * scale
        model = self._reference_model
        if model is None:
            ref = powerlaw_reference_values(e_ref, e_min, e_max, **DEFAULT_REFERENCE)
        else:
            ref = model_reference_values(model, e_ref, e_min, e_max)
        given = self._reference_input or {}
        for key, value in given.items():
            if value is None:
                continue
            values = u.Quantity(value).to_value(SED_UNITS[key])
            ref[key] = np.array(values, dtype=float) * np.ones_like(e_ref)
            if key == "dnde":
                ref["e2dnde"] = ref["dnde"] * e_ref ** 2
        if given and model is None:
            # Only some reference values known (e.g. a likelihood table without
            # ref_flux): derive the rest from a template of ref_dnde.
            missing = [k for k in ("flux", "eflux") if given.get(k) is None]
            if missing and self.reference_model is not None:
                full = model_reference_values(self.reference_model, e_ref, e_min, e_max)
                for key in missing:
                    ref[key] = full[key]
        ref["likelihood"] = np.ones_like(e_ref)
        self._ref = ref

    # ------------------------------------------------------------------ energies
    @property
    def energy_axis(self):
        """Energy axis (`~gammalike.maps.MapAxis`)."""
        return self._axis

    @property
    def energy_ref(self):
        """Reference energies (Quantity)."""
        return u.Quantity(self._e_ref, self._energy_unit)

    @property
    def energy_min(self):
        """Lower bin bounds (Quantity)."""
        return u.Quantity(self._e_min, self._energy_unit)

    @property
    def energy_max(self):
        """Upper bin bounds (Quantity)."""
        return u.Quantity(self._e_max, self._energy_unit)

    @property
    def has_energy_bounds(self):
        """False when only reference energies are known (bounds are then interpolated)."""
        return self._has_bounds

    @property
    def _e_ref_tev(self):
        return self._e_ref * float(self._energy_unit.to("TeV"))

    @property
    def nbin(self):
        """Number of energy bins."""
        return self._e_ref.size

    # ------------------------------------------------------------------ time
    @property
    def time_axis(self):
        """Time axis of a light curve (`~gammalike.maps.TimeMapAxis`), or None."""
        return self._time_axis

    @property
    def has_time_axis(self):
        """Whether these flux points are a light curve."""
        return self._time_axis is not None

    def _require_time_axis(self, what):
        if self._time_axis is None:
            raise AttributeError(f"FluxPoints.{what}: these flux points have no time axis")
        return self._time_axis

    @property
    def time_min(self):
        """Start of each time bin (`~astropy.time.Time`; light curves only)."""
        return self._require_time_axis("time_min").time_min

    @property
    def time_max(self):
        """Stop of each time bin (`~astropy.time.Time`; light curves only)."""
        return self._require_time_axis("time_max").time_max

    @property
    def time_ref(self):
        """Middle of each time bin (`~astropy.time.Time`; light curves only)."""
        return self._require_time_axis("time_ref").time_mid

    # ------------------------------------------------------------------ reference
    @property
    def sed_type_init(self):
        """Sed type of the data the flux points were created from."""
        return self._base

    @property
    def sed_type_plot_default(self):
        """Default sed type of `plot`: for likelihood data dnde (flux for light
        curves), else the initial type."""
        if self._base == "likelihood":
            return "flux" if self._time_axis is not None else "dnde"
        return self._base

    @property
    def reference_model(self):
        """Reference spectral model (None only if the models package is unavailable)."""
        if self._reference_model is None:
            self._reference_model = self._make_default_reference()
        return self._reference_model

    reference_spectral_model = reference_model

    def _make_default_reference(self):
        try:
            from ...modeling import models
        except ImportError:  # pragma: no cover - models package not available
            return None
        if self._reference_input and self._reference_input.get("dnde") is not None:
            template = getattr(models, "TemplateSpectralModel", None)
            if template is None:
                return None
            return template(energy=self.energy_ref, values=u.Quantity(self._reference_input["dnde"]))
        pl = getattr(models, "PowerLawSpectralModel", None)
        if pl is None:
            return None
        ref = DEFAULT_REFERENCE
        return pl(index=ref["index"], amplitude=f"{ref['amplitude']} cm-2 s-1 TeV-1",
                  reference=f"{ref['reference']} TeV")

    @staticmethod
    def reference_model_default():
        """The default reference model: power law of index 2."""
        from ...modeling.models import PowerLawSpectralModel

        return PowerLawSpectralModel(index=2, amplitude="1e-12 cm-2 s-1 TeV-1", reference="1 TeV")

    # ------------------------------------------------------------------ quantities
    @property
    def available_quantities(self):
        """Names of the stored quantities (norm names for the norm-like ones)."""
        names = [n for n in NORM_QUANTITIES if n in self._norm] + list(self._other)
        if "ts" in self._other and "sqrt_ts" not in names:
            names.append("sqrt_ts")
        if "norm_ul" in self._norm and "is_ul" not in names:
            names.append("is_ul")
        return names

    def has_quantity(self, name):
        """Whether a quantity (norm name or other, e.g. "norm_errn", "ts") is available."""
        return name in self.available_quantities

    def _get(self, name, sed_type):
        """Float array of a norm quantity in ``sed_type``, internal units.

        The base representation is returned unchanged (times the unit scale,
        1.0 when the base unit is the internal one), so same-type round trips
        are exact.
        """
        try:
            values = self._norm[name]
        except KeyError:
            raise AttributeError(
                f"FluxPoints: no {column_name(name, sed_type)!r} available "
                f"(quantities: {self.available_quantities})"
            ) from None
        if sed_type == self._base:
            return values * self._base_scale if self._base_scale != 1.0 else values.copy()
        ref_base = _expand(self._ref[self._base], values.ndim)
        ref = _expand(self._ref[sed_type], values.ndim)
        with np.errstate(invalid="ignore", divide="ignore"):
            return values * self._base_scale / ref_base * ref

    def _get_quantity(self, name, sed_type):
        values = self._get(name, sed_type)
        if sed_type == "likelihood":
            return values
        return u.Quantity(values, SED_UNITS[sed_type], copy=False)

    def _other_values(self, name):
        try:
            return self._other[name].copy()
        except KeyError:
            raise AttributeError(
                f"FluxPoints: no {name!r} available (quantities: {self.available_quantities})"
            ) from None

    @property
    def ts(self):
        """Test statistic of each bin."""
        return self._other_values("ts")

    @property
    def sqrt_ts(self):
        """Signed square root of the TS (from the table or ``sign(norm) sqrt(ts)``)."""
        if "sqrt_ts" in self._other:
            return self._other_values("sqrt_ts")
        ts = self._other_values("ts")
        sign = np.sign(self._norm["norm"]) if "norm" in self._norm else 1.0
        with np.errstate(invalid="ignore"):
            return np.where(sign < 0, -1.0, 1.0) * np.sqrt(np.clip(ts, 0, None))

    @property
    def is_ul(self):
        """Whether each bin is an upper limit.

        Stored values if any, else ``ts < sqrt_ts_threshold_ul**2`` when TS and
        upper limits exist, else bins with an upper limit but no value.
        """
        if "is_ul" in self._other:
            return self._other["is_ul"].copy()
        if "norm_ul" in self._norm:
            if "ts" in self._other:
                with np.errstate(invalid="ignore"):
                    return self._other["ts"] < self.sqrt_ts_threshold_ul ** 2
            if "norm" in self._norm:
                return ~np.isfinite(self._norm["norm"]) & np.isfinite(self._norm["norm_ul"])
        return np.zeros(self._data_shape, dtype=bool)

    @is_ul.setter
    def is_ul(self, value):
        value = np.array(value, dtype=bool) * np.ones(self._data_shape, dtype=bool)
        self._other["is_ul"] = value

    def __getattr__(self, name):
        # Quantities such as "counts", "npred", "stat_scan", "success" or any
        # extra column of the table.
        if name.startswith("_"):
            raise AttributeError(name)
        other = self.__dict__.get("_other", {})
        if name in other:
            values = other[name].copy()
            unit = self.__dict__["_other_units"].get(name)
            return u.Quantity(values, unit) if unit not in (None, u.dimensionless_unscaled) else values
        if name in ("time_min", "time_max", "time_ref"):
            raise AttributeError(f"FluxPoints.{name}: these flux points have no time axis")
        if hasattr(type(self), name):
            # A quantity property that raised AttributeError: the quantity is missing.
            raise AttributeError(
                f"FluxPoints: quantity {name!r} is not available "
                f"(quantities: {self.available_quantities})"
            )
        raise AttributeError(f"'FluxPoints' object has no attribute {name!r}")

    # ------------------------------------------------------------------ I/O
    @classmethod
    def read(cls, filename, sed_type=None, format="gadf-sed", reference_model=None, hdu=None,
             **kwargs):
        """Read flux points from a FITS or ECSV file (GADF "SED" format).

        Parameters
        ----------
        filename : str or `~pathlib.Path`
            File name (``$GAMMAPY_DATA`` / ``$GAMMALIKE_DATA`` expanded).
        sed_type : str, optional
            Sed type (default: the ``SED_TYPE`` keyword, else guessed from columns).
        format : {"gadf-sed", "lightcurve"}
            Table format ("lightcurve": one row per time bin, see `to_table`).
        reference_model : `~gammalike.modeling.models.SpectralModel`, optional
            Reference model (default: ``ref_dnde`` template for likelihood
            tables, else a power law of index 2).
        hdu : str or int, optional
            FITS HDU (default: "FLUXPOINTS" if present, else the first table).

        Returns
        -------
        flux_points : `FluxPoints`
        """
        from .io import read_flux_points_table

        table, gti = read_flux_points_table(filename, hdu=hdu)
        return cls.from_table(table, sed_type=sed_type, format=format,
                              reference_model=reference_model, gti=gti, **kwargs)

    def write(self, filename, sed_type=None, format=None, overwrite=False, **kwargs):
        """Write to FITS (``.fits``, ``.fits.gz``) or ECSV (``.ecsv``), by suffix.

        Parameters
        ----------
        filename : str or `~pathlib.Path`
            Output file.
        sed_type : str, optional
            Representation to write (default: `sed_type_init`).
        format : {"gadf-sed", "lightcurve"}, optional
            Table format (default: "lightcurve" for flux points with a time
            axis, else "gadf-sed").
        overwrite : bool
            Replace an existing file.
        """
        from .io import write_flux_points_table

        table = self.to_table(sed_type=sed_type, format=format, **kwargs)
        write_flux_points_table(table, filename, gti=self.gti, overwrite=overwrite)

    @classmethod
    def from_table(cls, table, sed_type=None, format="gadf-sed", reference_model=None, gti=None):
        """Flux points from a table in the GADF "SED" format.

        Parameters
        ----------
        table : `~astropy.table.Table`
            Table with ``e_ref`` and/or ``e_min``/``e_max`` and the columns of
            one representation (see `.sed_type`).
        sed_type : str, optional
            Sed type (default: ``SED_TYPE`` in ``table.meta``, else guessed).
        format : {"gadf-sed", "lightcurve"}
            Table format ("lightcurve": ``time_min`` / ``time_max`` columns
            in MJD and one row per time bin).
        reference_model : `~gammalike.modeling.models.SpectralModel`, optional
            Reference model.
        gti : `~astropy.table.Table`, optional
            Good time intervals.
        """
        from .io import flux_points_parts_from_table

        parts = flux_points_parts_from_table(table, sed_type=sed_type, format=format,
                                             reference_model=reference_model)
        return cls._from_parts(parts, reference_model=reference_model, gti=gti)

    @classmethod
    def _from_parts(cls, parts, reference_model=None, gti=None):
        new = cls(
            parts["data"], parts["energy_axis"], reference_model=reference_model,
            meta=parts["meta"], gti=gti, sed_type=parts["sed_type"],
            energy_ref=parts["energy_ref"], reference_values=parts["reference_values"],
            time_axis=parts.get("time_axis"),
        )
        if parts.get("energy_min") is not None:
            # Non-contiguous bins: keep the exact bounds (the axis holds nodes).
            new._e_min = parts["energy_min"]
            new._e_max = parts["energy_max"]
            new._has_bounds = True
            new._update_reference()
        elif parts["energy_axis"].node_type == "edges":
            # Keep the bounds exactly as read (the axis may hold one rounded copy).
            new._e_min, new._e_max = parts["e_min_exact"], parts["e_max_exact"]
            new._update_reference()
        new._other_units.update(parts.get("other_units", {}))
        return new

    def to_table(self, sed_type=None, format=None, formatted=False):
        """Table in the GADF "SED" format, or the "lightcurve" format.

        Parameters
        ----------
        sed_type : {"likelihood", "dnde", "e2dnde", "flux", "eflux"}, optional
            Representation (default: `sed_type_init`).
        format : {"gadf-sed", "lightcurve"}, optional
            Table format (default: "lightcurve" with a time axis, else
            "gadf-sed").  "lightcurve": one row per time bin, ``time_min`` /
            ``time_max`` in MJD (TT), then the energy and value columns with
            one entry per energy bin (and trailing axes for scans and
            per-dataset quantities).
        formatted : bool
            Set display formats on the float columns.

        Returns
        -------
        table : `~astropy.table.Table`
        """
        from .io import flux_points_to_table

        if format is None:
            format = "lightcurve" if self._time_axis is not None else "gadf-sed"
        sed_type = _check_sed_type(sed_type or self._base)
        return flux_points_to_table(self, sed_type=sed_type, format=format, formatted=formatted)

    @property
    def table(self):
        """Table in the initial representation (`to_table` with defaults)."""
        return self.to_table()

    # ------------------------------------------------------------------ upper limits
    def recompute_ul(self, n_sigma_ul=2, **kwargs):
        """Flux points with upper limits recomputed from the likelihood profiles.

        The upper limit in each bin is the norm above the best fit where the
        profile ``stat_scan`` rises by ``n_sigma_ul**2`` above its minimum
        (linear interpolation between scan points; NaN if it never does).

        Parameters
        ----------
        n_sigma_ul : float
            Significance of the upper limits.

        Returns
        -------
        flux_points : `FluxPoints`
            Copy with new ``norm_ul`` and ``n_sigma_ul``.
        """
        if "stat_scan" not in self._other or "norm_scan" not in self._norm:
            raise ValueError(
                "FluxPoints.recompute_ul: needs likelihood profiles (stat_scan and norm_scan)"
            )
        shape = self._data_shape
        scan = self._norm["norm_scan"]
        stat = np.asarray(self._other["stat_scan"], dtype=float)
        best = self._norm["norm"].reshape(-1) if "norm" in self._norm else None
        # light curves: one profile per (energy, time) bin
        ul = upper_limit_from_profile(scan.reshape(-1, scan.shape[-1]),
                                      stat.reshape(-1, stat.shape[-1]),
                                      float(n_sigma_ul) ** 2, best=best).reshape(shape)
        new = self.copy()
        new._norm["norm_ul"] = ul
        new.n_sigma_ul = float(n_sigma_ul)
        return new

    # ------------------------------------------------------------------ misc
    def copy(self, **kwargs):
        """Deep copy (the reference model is copied too)."""
        new = copy.deepcopy(self)
        for key, value in kwargs.items():
            setattr(new, key, value)
        return new

    def plot(self, ax=None, sed_type=None, energy_power=0, axis_name=None, time_format="iso",
             **kwargs):
        """Plot the flux points (errorbars, arrows for upper limits).

        Spectra against energy on log axes; light curves against time (one
        series per energy bin, linear axes, default sed type "flux").

        Parameters
        ----------
        ax : `~matplotlib.axes.Axes`, optional
            Axes (default: current axes).
        sed_type : {"dnde", "e2dnde", "flux", "eflux", "likelihood"}, optional
            Representation (default: `sed_type_plot_default`).
        energy_power : int
            Multiply the values by ``e_ref**energy_power`` (older gammapy usage:
            ``plot(energy_power=2)`` draws E^2 dN/dE).
        axis_name : {"energy", "time"}, optional
            Quantity on the x axis (default: "time" for light curves).
        time_format : {"iso", "mjd"}
            Light curves: dates (matplotlib dates, UTC) or MJD on the x axis.
        energy_unit, flux_unit : str, optional
            Units of the x and y axes (default: those the axes already have,
            else `gammalike.utils.plot_units`: TeV, e2dnde in erg cm-2 s-1...).
        **kwargs : dict
            Passed to `~matplotlib.axes.Axes.errorbar`.

        Returns
        -------
        ax : `~matplotlib.axes.Axes`
        """
        from .plot import plot

        return plot(self, ax=ax, sed_type=sed_type, energy_power=energy_power,
                    axis_name=axis_name, time_format=time_format, **kwargs)

    def slice_by_time_idx(self, idx):
        """Flux points of one time bin (int: no time axis) or a range (slice) of a light curve.

        Parameters
        ----------
        idx : int or slice
            Time bin(s).

        Returns
        -------
        flux_points : `FluxPoints`
        """
        time_axis = self._require_time_axis("slice_by_time_idx")
        new = copy.copy(self)
        if isinstance(idx, (int, np.integer)):
            new._time_axis = None
            take = int(idx)
        else:
            new._time_axis = time_axis.slice(idx)
            take = idx
        new._norm = {k: np.array(v[:, take]) for k, v in self._norm.items()}
        new._other = {k: np.array(v[:, take]) for k, v in self._other.items()}
        new._other_units = dict(self._other_units)
        new.meta = dict(self.meta)
        return new

    def plot_ts_profiles(self, ax=None, sed_type=None, add_cbar=True, **kwargs):
        """Image of the likelihood profiles ``stat_scan - min`` in each energy bin.

        ``sed_type`` sets the y axis (default: `sed_type_plot_default`),
        ``add_cbar`` adds a colour bar, ``energy_unit`` / ``flux_unit`` work as
        in `plot`; other keywords go to `~matplotlib.axes.Axes.pcolormesh`
        (default cmap "Blues", vmin 0, vmax 25).  Returns the axes.
        """
        from .plot import plot_profiles

        return plot_profiles(self, ax=ax, sed_type=sed_type, add_cbar=add_cbar, **kwargs)

    def __str__(self):
        ref = self.reference_model
        ref_name = type(ref).__name__ if ref is not None else "PowerLawSpectralModel (index 2)"
        axis = self._axis
        lines = [
            self.__class__.__name__,
            "-" * len(self.__class__.__name__),
            "",
            f"  energy axis            : {axis.nbin} bins, {axis.node_type}, "
            f"{self._e_min[0]:.3g} - {self._e_max[-1]:.3g} {self._energy_unit.to_string()}",
            f"  quantities             : {self.available_quantities}",
            f"  ref. model             : {ref_name}",
            f"  n_sigma                : {self.n_sigma:g}",
            f"  n_sigma_ul             : {self.n_sigma_ul:g}",
            f"  sqrt_ts_threshold_ul   : {self.sqrt_ts_threshold_ul:g}",
            f"  sed type init          : {self._base}",
        ]
        if self._time_axis is not None:
            time = self._time_axis
            lines.insert(5, f"  time axis              : {time.nbin} bins, "
                            f"{time.time_min[0].utc.isot} - {time.time_max[-1].utc.isot} UTC")
        return "\n".join(lines) + "\n"

    def __repr__(self):
        ntime = f", ntime={self._time_axis.nbin}" if self._time_axis is not None else ""
        return f"{self.__class__.__name__}(nbin={self.nbin}{ntime}, sed_type_init={self._base!r})"


def upper_limit_from_profile(scan, stat, delta, best=None):
    """Upper limits from likelihood profiles, vectorized over bins.

    The limit is where the profile, above the best fit, rises by ``delta``
    above its minimum.  Near the crossing the profile is interpolated by the
    parabola through three neighbouring scan points (exact for the Gaussian
    case, and much better than straight lines on the coarse, log-spaced
    scans estimators write); linear interpolation is the fallback.

    Parameters
    ----------
    scan : `~numpy.ndarray`, shape (nbin, nscan)
        Scanned norm values (increasing along the last axis).
    stat : `~numpy.ndarray`, shape (nbin, nscan)
        Fit statistic at the scan points.
    delta : float
        Rise of the statistic defining the limit (``n_sigma**2``).
    best : `~numpy.ndarray`, shape (nbin,), optional
        Best-fit norms: the limit is searched above them (default: the scan minimum).

    Returns
    -------
    ul : `~numpy.ndarray`, shape (nbin,)
        NaN where the profile never rises by ``delta`` above the minimum.
    """
    scan = np.atleast_2d(np.asarray(scan, dtype=float))
    stat = np.atleast_2d(np.asarray(stat, dtype=float))
    nscan = scan.shape[1]
    rows = np.arange(scan.shape[0])
    # Rows of failed fits may be all NaN: their limit is NaN.
    filled = np.where(np.isfinite(stat), stat, np.inf)
    idx_min = np.argmin(filled, axis=-1)
    dstat = stat - filled[rows, idx_min][:, None]
    start = scan[rows, idx_min]
    if best is not None:
        best = np.asarray(best, dtype=float)
        start = np.where(np.isfinite(best), np.maximum(best, start), start)
    # First scan segment [j, j+1] above the start where the profile crosses delta.
    above = (dstat[:, 1:] >= delta) & (dstat[:, :-1] < delta) & (scan[:, 1:] > start[:, None])
    has = above.any(axis=-1)
    j = np.argmax(above, axis=-1)
    x0, x1 = scan[rows, j], scan[rows, j + 1]
    y0, y1 = dstat[rows, j], dstat[rows, j + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        linear = x0 + (delta - y0) * (x1 - x0) / (y1 - y0)
        # Parabola through points k, k+1, k+2 containing the segment [j, j+1].
        if nscan >= 3:
            k = np.clip(j - 1, 0, nscan - 3)
            xs = np.stack([scan[rows, k + i] for i in range(3)])
            ys = np.stack([dstat[rows, k + i] for i in range(3)])
            quad = _parabola_crossing(xs, ys, delta, x0, x1)
            linear = np.where(np.isfinite(quad), quad, linear)
    return np.where(has, linear, np.nan)


def _parabola_crossing(xs, ys, delta, lo, hi):
    """Root in [lo, hi] of the parabola through (xs, ys) minus ``delta`` (NaN if none)."""
    (xa, xb, xc), (ya, yb, yc) = xs, ys
    # Newton form: y = ya + d1 (x - xa) + d2 (x - xa)(x - xb)
    d1 = (yb - ya) / (xb - xa)
    d2 = ((yc - yb) / (xc - xb) - d1) / (xc - xa)
    # a x^2 + b x + c = 0
    a = d2
    b = d1 - d2 * (xa + xb)
    c = ya - d1 * xa + d2 * xa * xb - delta
    disc = np.sqrt(b ** 2 - 4 * a * c)
    roots = np.stack([(-b + disc) / (2 * a), (-b - disc) / (2 * a)])
    tol = 1e-12 * np.abs(hi - lo)
    ok = (roots >= lo - tol) & (roots <= hi + tol) & np.isfinite(roots)
    # NaN for a degenerate parabola (a ~ 0) or no root in the segment: the caller
    # then uses the straight line through the segment.
    return np.where(ok[0], roots[0], np.where(ok[1], roots[1], np.nan))


def _make_quantity_property(sed_type, suffix):
    name = "norm" + suffix

    def getter(self):
        return self._get_quantity(name, sed_type)

    label = column_name(name, sed_type)
    getter.__doc__ = f"``{label}`` ({'norm' if sed_type == 'likelihood' else SED_UNITS[sed_type]})."
    getter.__name__ = label
    return property(getter)


for _sed in ("likelihood", "dnde", "e2dnde", "flux", "eflux"):
    for _suffix in _SUFFIXES:
        setattr(FluxPoints, column_name("norm" + _suffix, _sed), _make_quantity_property(_sed, _suffix))
del _sed, _suffix
