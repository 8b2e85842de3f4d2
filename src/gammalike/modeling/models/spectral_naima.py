"""`NaimaSpectralModel`: a spectral model computed by a naima radiative model.

naima (https://naima.readthedocs.io) is an optional dependency, imported
when a model is created.  The model's parameters are those of the naima
particle distribution (``amplitude``, ``e_0``, ``alpha``, ``e_cutoff``, ...),
the physical parameters of the radiative model (``B`` for synchrotron,
``nh`` for pion decay, ``n0`` for bremsstrahlung) and those of nested models
(``B`` and ``radius`` of a synchrotron self-Compton seed field).  Evaluating
the model sets these values on the naima objects and calls
``radiative_model.flux(energy, distance=distance)``.
"""
import numpy as np
from astropy import units as u
from astropy.constants import c

from ..parameter import Parameter, Parameters
from .spectral_core import DNDE_UNIT, SpectralModel

__all__ = ["NaimaSpectralModel"]

#: Physical parameters of naima radiative models exposed as model parameters
#: (the energy grids ``Eemin``, ``Eemax``, ``nEed``... are left alone).
_RADIATIVE_PARAMETERS = ("B", "nh", "n0")
#: Parameters of the nested synchrotron self-Compton model.
_SSC_PARAMETERS = ("B", "radius")
#: Ratio of the mean synchrotron photon density inside a homogeneous sphere to
#: L / (4 pi R^2 c) (Atoyan & Aharonian 1996), as in naima's SSC example and seed 000.
_SSC_DENSITY_FACTOR = 2.24


def _import_naima():
    try:
        import naima
    except ImportError as exc:
        raise ImportError("NaimaSpectralModel needs naima: pip install naima") from exc
    return naima


class NaimaSpectralModel(SpectralModel):
    """Spectral model from a naima radiative model.

    Parameters
    ----------
    radiative_model : naima radiative model
        ``InverseCompton``, ``Synchrotron``, ``PionDecay`` or ``Bremsstrahlung``
        (any object with ``particle_distribution`` and ``flux(energy, distance)``).
    distance : `~astropy.units.Quantity`
        Source distance.
    seed : str or int, optional
        Inverse Compton only: compute the emission on this seed photon field.
    nested_models : dict, optional
        ``{"SSC": {"B": B, "radius": R}}``: the inverse Compton seed field
        named "SSC" is recomputed from the synchrotron emission of the same
        electrons in a magnetic field ``B`` within a sphere of radius ``R``
        (``n = L_sync / (4 pi R^2 c) * 2.24``), whenever the model is evaluated.
    use_cache : bool
        Reuse the last result when the parameters and energies are unchanged.
    """

    tag = ["NaimaSpectralModel", "naima"]

    def __init__(self, radiative_model, distance=1.0 * u.kpc, seed=None, nested_models=None,
                 use_cache=False):
        self._naima = _import_naima()
        if not hasattr(radiative_model, "particle_distribution") or not hasattr(radiative_model, "flux"):
            raise TypeError(
                "NaimaSpectralModel: radiative_model must be a naima radiative model "
                f"(InverseCompton, Synchrotron, PionDecay, Bremsstrahlung), got {type(radiative_model).__name__}"
            )
        self.radiative_model = radiative_model
        self.distance = u.Quantity(distance)
        if not self.distance.unit.is_equivalent(u.cm):
            raise u.UnitConversionError(f"NaimaSpectralModel: distance must be a length, got {distance!r}")
        self.seed = seed
        has_seeds = hasattr(radiative_model, "seed_photon_fields")
        if seed is not None and not has_seeds:
            raise ValueError("NaimaSpectralModel: 'seed' only applies to InverseCompton models")
        self.nested_models = {key: dict(value) for key, value in (nested_models or {}).items()}
        for key, pars in self.nested_models.items():
            if key != "SSC":
                raise ValueError(f"NaimaSpectralModel: unknown nested model {key!r}; only 'SSC' is supported")
            if not has_seeds or "SSC" not in radiative_model.seed_photon_fields:
                raise ValueError("NaimaSpectralModel: nested 'SSC' needs an InverseCompton model with an 'SSC' seed field")
            missing = set(_SSC_PARAMETERS) - set(pars)
            if missing:
                raise ValueError(f"NaimaSpectralModel: nested 'SSC' needs parameters {sorted(missing)}")
        self.use_cache = bool(use_cache)
        self._last = None
        self._covariance = None

        particles = radiative_model.particle_distribution
        targets = []  # (name, object carrying the attribute or None for nested parameters)
        for name in getattr(particles, "param_names", []):
            targets.append((name, particles, getattr(particles, name)))
        for name in getattr(radiative_model, "param_names", []):
            if name in _RADIATIVE_PARAMETERS:
                targets.append((name, radiative_model, getattr(radiative_model, name)))
        for pars in self.nested_models.values():
            for name in _SSC_PARAMETERS:
                targets.append((name, None, pars[name]))

        names = [t[0] for t in targets]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"NaimaSpectralModel: parameter names {duplicated} appear twice")
        defaults = []
        for name, _, value in targets:
            value = u.Quantity(value)
            par = Parameter(name, value, is_norm=(name == "amplitude"), frozen=(name == "e_0"))
            self.__dict__[name] = par
            defaults.append(par.copy())
        self._targets = [(name, obj) for name, obj, _ in targets]
        self._default_parameters = Parameters(defaults)
        self._internal_units = tuple(p.unit for p in defaults)

    def _defaults(self):
        return self._default_parameters

    @property
    def particle_distribution(self):
        return self.radiative_model.particle_distribution

    # ------------------------------------------------------------------ evaluation
    def _apply(self, pars):
        """Set the parameter values (floats in internal units) on the naima objects."""
        nested = {}
        for (name, obj), value, unit in zip(self._targets, pars, self._internal_units):
            quantity = value * unit if unit != u.dimensionless_unscaled else value
            if obj is None:
                nested[name] = u.Quantity(value, unit)
            else:
                setattr(obj, name, quantity)
        if "SSC" in self.nested_models:
            self._update_ssc(nested["B"], nested["radius"])

    def _update_ssc(self, magnetic_field, radius):
        field = self.radiative_model.seed_photon_fields["SSC"]
        synchrotron = self._naima.models.Synchrotron(
            self.radiative_model.particle_distribution, B=magnetic_field,
            Eemin=self.radiative_model.Eemin, Eemax=self.radiative_model.Eemax,
        )
        luminosity = synchrotron.flux(field["energy"], distance=0 * u.cm)
        density = luminosity / (4 * np.pi * radius ** 2 * c) * _SSC_DENSITY_FACTOR
        field["photon_density"] = density.to(field["photon_density"].unit)
        # naima memoizes fluxes on the particle parameters, not on the seed fields:
        # a field changed in place would otherwise return a stale (cached) spectrum
        cache = getattr(self.radiative_model, "_cache", None)
        if isinstance(cache, dict):
            cache.clear()

    def evaluate(self, energy, *pars):
        """dN/dE (cm-2 s-1 TeV-1) at ``energy`` (TeV floats, any shape) for parameter floats."""
        energy = np.asarray(energy, dtype=float)
        key = None
        if self.use_cache:
            key = (tuple(pars), energy.shape, energy.tobytes())
            if self._last is not None and self._last[0] == key:
                return self._last[1].copy()
        self._apply(pars)
        kwargs = {"distance": self.distance}
        if self.seed is not None:
            kwargs["seed"] = self.seed
        flux = self.radiative_model.flux(u.Quantity(energy.ravel(), u.TeV), **kwargs)
        try:
            values = flux.to_value(DNDE_UNIT).reshape(energy.shape)
        except u.UnitConversionError as exc:
            raise u.UnitConversionError(
                f"NaimaSpectralModel: naima returned {flux.unit}, expected a differential flux "
                "(is the distance 0?)"
            ) from exc
        if key is not None:
            self._last = (key, values.copy())
        return values

    # ------------------------------------------------------------------ YAML
    def to_dict(self, full_output=False):
        raise NotImplementedError(
            "NaimaSpectralModel cannot be written to YAML: naima radiative models are Python objects; "
            "rebuild the model in code"
        )

    @classmethod
    def from_dict(cls, data, **kwargs):
        raise NotImplementedError(
            "NaimaSpectralModel cannot be read from YAML: build it from a naima radiative model in code"
        )

    def __str__(self):
        head = (f"{self.__class__.__name__}\n\n  radiative model : {type(self.radiative_model).__name__}\n"
                f"  distance        : {self.distance}\n")
        if self.seed is not None:
            head += f"  seed            : {self.seed}\n"
        return head + "\n" + str(self.parameters.to_table())
