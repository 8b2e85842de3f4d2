"""Temporal models: a dimensionless light-curve shape of time.

``evaluate(time, *pars)`` takes times as MJD floats (days) and parameters
in their internal units (days, rad / day); ``model(time)`` accepts an
astropy `~astropy.time.Time` or MJD floats.
"""
import numpy as np
from astropy import units as u
from astropy.table import Table
from astropy.time import Time

from ...utils.paths import make_path
from ..parameter import Parameter
from .core import ModelBase

__all__ = [
    "TemporalModel",
    "ConstantTemporalModel",
    "LinearTemporalModel",
    "ExpDecayTemporalModel",
    "GaussianTemporalModel",
    "PowerLawTemporalModel",
    "SineTemporalModel",
    "LightCurveTemplateTemporalModel",
]

# 2000-01-01T00:00:00 UTC as MJD, gammapy's default reference time
_T_REF_DEFAULT = 51544.00074287037


def _mjd(time):
    if isinstance(time, Time):
        return np.asarray(time.mjd, dtype=float)
    if isinstance(time, u.Quantity):
        return time.to_value(u.d)
    return np.asarray(time, dtype=float)


def _t_ref():
    return Parameter("t_ref", _T_REF_DEFAULT, unit="d", frozen=True)


class TemporalModel(ModelBase):
    """Base class of temporal models."""

    _family = "temporal"
    _abstract = True

    def __call__(self, time):
        """Light-curve value at ``time`` (`~astropy.time.Time` or MJD floats)."""
        return self.evaluate(_mjd(time), *self.parameter_values())

    @property
    def reference_time(self):
        """``t_ref`` as a `~astropy.time.Time`."""
        return Time(self.t_ref.value_in(u.d), format="mjd", scale="utc")

    @reference_time.setter
    def reference_time(self, time):
        self.t_ref.value = Time(time).mjd


class ConstantTemporalModel(TemporalModel):
    """Constant light curve (value 1)."""

    tag = ["ConstantTemporalModel", "const"]

    @staticmethod
    def evaluate(time):
        return np.ones(np.shape(time))


class LinearTemporalModel(TemporalModel):
    """``alpha + beta * (t - t_ref)``."""

    tag = ["LinearTemporalModel", "linear"]
    alpha = Parameter("alpha", 1.0)
    beta = Parameter("beta", 0.0, unit="d-1")
    t_ref = _t_ref()

    @staticmethod
    def evaluate(time, alpha, beta, t_ref):
        return alpha + beta * (time - t_ref)


class ExpDecayTemporalModel(TemporalModel):
    """``exp(-(t - t_ref) / t0)``."""

    tag = ["ExpDecayTemporalModel", "exp-decay"]
    t0 = Parameter("t0", "1 d")
    t_ref = _t_ref()

    @staticmethod
    def evaluate(time, t0, t_ref):
        return np.exp(-(time - t_ref) / t0)


class GaussianTemporalModel(TemporalModel):
    """``exp(-(t - t_ref)^2 / (2 sigma^2))``."""

    tag = ["GaussianTemporalModel", "gauss"]
    t_ref = Parameter("t_ref", _T_REF_DEFAULT, unit="d")
    sigma = Parameter("sigma", "1 d")

    @staticmethod
    def evaluate(time, t_ref, sigma):
        return np.exp(-0.5 * ((time - t_ref) / sigma) ** 2)


class PowerLawTemporalModel(TemporalModel):
    """``((t - t_ref) / t0)^alpha``."""

    tag = ["PowerLawTemporalModel", "powerlaw"]
    alpha = Parameter("alpha", 1.0)
    t_ref = _t_ref()
    t0 = Parameter("t0", "1 d", frozen=True)

    @staticmethod
    def evaluate(time, alpha, t_ref, t0):
        with np.errstate(invalid="ignore", divide="ignore"):
            return ((time - t_ref) / t0) ** alpha


class SineTemporalModel(TemporalModel):
    """``1 + amp * sin(omega * (t - t_ref))``."""

    tag = ["SineTemporalModel", "sinus"]
    amp = Parameter("amp", 1.0)
    omega = Parameter("omega", "1 rad / d")
    t_ref = _t_ref()

    @staticmethod
    def evaluate(time, amp, omega, t_ref):
        return 1.0 + amp * np.sin(omega * (time - t_ref))


class LightCurveTemplateTemporalModel(TemporalModel):
    """Tabulated light curve, linearly interpolated (0 outside the table).

    Parameters
    ----------
    time : array-like
        Node times (MJD floats, or `~astropy.time.Time`).
    norm : array-like
        Light-curve values.
    filename : str, optional
        File the table came from (kept for YAML).
    """

    tag = ["LightCurveTemplateTemporalModel", "template"]

    def __init__(self, time=None, norm=None, filename=None):
        self.filename = None if filename is None else str(filename)
        self._time = None if time is None else _mjd(time)
        self._norm = None if norm is None else np.asarray(norm, dtype=float)
        self._covariance = None

    def _load(self):
        if self._time is None:
            if self.filename is None:
                raise ValueError("LightCurveTemplateTemporalModel: no table and no filename")
            model = self.read(self.filename)
            self._time, self._norm = model._time, model._norm

    @property
    def time(self):
        self._load()
        return Time(self._time, format="mjd")

    @property
    def norm(self):
        self._load()
        return self._norm

    def evaluate(self, time):
        self._load()
        return np.interp(time, self._time, self._norm, left=0.0, right=0.0)

    @classmethod
    def read(cls, filename):
        """Read a table with columns TIME (MJD, or seconds after MJDREFI/F) and NORM."""
        path = make_path(filename)
        table = Table.read(path)
        for col in ("TIME", "NORM"):
            if col not in table.colnames:
                raise KeyError(f"{path}: light-curve table has no column {col!r} (columns: {table.colnames})")
        time = table["TIME"]
        unit = time.unit
        values = np.asarray(time, dtype=float)
        if unit is not None and u.Unit(unit).is_equivalent(u.s) and "MJDREFI" in table.meta:
            mjdref = float(table.meta["MJDREFI"]) + float(table.meta.get("MJDREFF", 0))
            values = mjdref + (values * u.Unit(unit)).to_value(u.d)
        return cls(time=values, norm=np.asarray(table["NORM"], dtype=float), filename=str(filename))

    def to_dict(self, full_output=False):
        data = {"type": self.type_name}
        if self.filename is not None:
            data["filename"] = self.filename
        else:
            data["time"] = self._time.tolist()
            data["norm"] = self._norm.tolist()
        return data

    @classmethod
    def from_dict(cls, data, **kwargs):
        if "filename" in data:
            return cls(filename=data["filename"])
        if "time" in data and "norm" in data:
            return cls(time=data["time"], norm=data["norm"])
        raise KeyError("LightCurveTemplateTemporalModel YAML: needs 'filename' or 'time' and 'norm'")
