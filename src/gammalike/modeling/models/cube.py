"""Source and background models combining spectral, spatial and temporal parts."""
import copy

from ..covariance import Covariance
from ..parameter import Parameters
from .core import MODEL_REGISTRY, ModelBase, make_name
from .spatial import SpatialModel
from .spectral_core import SpectralModel
from .spectral_norm import PowerLawNormSpectralModel
from .temporal import TemporalModel

__all__ = ["SkyModel", "FoVBackgroundModel", "format_model_parameters",
           "assemble_covariance", "distribute_covariance"]

_COMPONENT_KINDS = ("spectral", "spatial", "temporal")


def assemble_covariance(parameters, stored, models):
    """Covariance over ``parameters``: ``stored`` (if it is over the same parameter
    objects) overlaid with the covariance of each of ``models``."""
    covar = Covariance(parameters)
    if (stored is not None and len(stored.parameters) == len(parameters)
            and all(a is b for a, b in zip(stored.parameters, parameters))):
        covar.data = stored.data.copy()
    for model in models:
        covar.set_subcovariance(model.covariance)
    return covar


def distribute_covariance(parameters, covariance, models):
    """Give each of ``models`` its sub-matrix of ``covariance``; return the full one."""
    if isinstance(covariance, Covariance):
        if not (len(covariance.parameters) == len(parameters)
                and all(a is b for a, b in zip(covariance.parameters, parameters))):
            covariance = Covariance(parameters, covariance.get_subcovariance(parameters))
    else:
        covariance = Covariance(parameters, covariance)
    for model in models:
        model.covariance = Covariance(model.parameters,
                                      covariance.get_subcovariance(model.parameters))
    return Covariance(parameters, covariance.data.copy())


def _format_value(par):
    value = par.value
    use_exp = value != 0 and not (1e-2 <= abs(value) < 1e3)
    text = f"{value:10.2e}" if use_exp else f"{value:10.3f}"
    if par.frozen:
        error = "      " if str(par.unit) else ""
    else:
        error = f"   +/- {par.error:7.1e}" if use_exp else f"   +/- {par.error:7.2f}"
    unit = par.unit.to_string()
    return f"{text}{error} {unit}".rstrip()


def format_model_parameters(parameters):
    """Parameter lines as in gammapy's model printout (seed 004)."""
    lines = []
    for par in parameters:
        flag = "(frozen)" if par.frozen else "        "
        lines.append(f"    {par.name:<22s}{flag}: {_format_value(par)}")
    return lines


class _ComponentsModel(ModelBase):
    """Common code of models made of spectral / spatial / temporal components."""

    _family = "sky"
    _abstract = True

    def _components(self):
        """``(kind, model)`` for every component present, in spectral, spatial, temporal order."""
        for kind in _COMPONENT_KINDS:
            model = getattr(self, f"{kind}_model", None)
            if model is not None:
                yield kind, model

    @property
    def name(self):
        return self._name

    @property
    def parameters(self):
        return Parameters.from_stack([m.parameters for _, m in self._components()])

    @property
    def parameters_unique_names(self):
        return [f"{self.name}.{kind}.{par.name}" for kind, m in self._components()
                for par in m.parameters]

    def parameter_values(self):
        return tuple(v for _, m in self._components() for v in m.parameter_values())

    @property
    def covariance(self):
        """Covariance of this model's parameters.

        The matrix last set here (with its cross-component terms) overlaid with
        the components' own covariances.
        """
        return assemble_covariance(self.parameters, getattr(self, "_covariance", None),
                                   [m for _, m in self._components()])

    @covariance.setter
    def covariance(self, covariance):
        self._covariance = distribute_covariance(self.parameters, covariance,
                                                 [m for _, m in self._components()])

    def freeze(self, model_type=None):
        """Freeze all parameters, or those of one component ("spectral", "spatial", "temporal")."""
        for kind, model in self._components():
            if model_type is None or kind == model_type:
                model.freeze()

    def unfreeze(self, model_type=None):
        """Restore the default frozen state of all (or one kind of) component parameters."""
        for kind, model in self._components():
            if model_type is None or kind == model_type:
                model.unfreeze()

    @property
    def frozen(self):
        return all(p.frozen for p in self.parameters)

    def _check_datasets_names(self, datasets_names):
        if datasets_names is None:
            return None
        if isinstance(datasets_names, str):
            return [datasets_names]
        return list(datasets_names)

    def _str_header(self):
        kind = self.__class__.__name__
        return [f"{kind}", "", f"  {'Name':<26s}: {self.name}",
                f"  {'Datasets names':<26s}: {self.datasets_names}"]

    def __repr__(self):
        return f"{self.__class__.__name__}(name={self.name!r})"


class SkyModel(_ComponentsModel):
    """Source model: spectral times spatial times temporal.

    Parameters
    ----------
    spectral_model : `SpectralModel`
    spatial_model : `SpatialModel`, optional
    temporal_model : `TemporalModel`, optional
    name : str, optional
        Unique name (random 8 characters if not given).
    datasets_names : list of str, optional
        Datasets the model applies to (None: all).
    covariance_data : `~numpy.ndarray`, optional
        Covariance matrix of the parameters.
    """

    tag = ["SkyModel", "sky-model"]

    def __init__(self, spectral_model, spatial_model=None, temporal_model=None, name=None,
                 datasets_names=None, covariance_data=None):
        if not isinstance(spectral_model, SpectralModel):
            raise TypeError(
                f"SkyModel: spectral_model must be a SpectralModel, got {type(spectral_model).__name__}"
            )
        self.spectral_model = spectral_model
        self.spatial_model = spatial_model
        self.temporal_model = temporal_model
        self._name = make_name() if name is None else str(name)
        self.datasets_names = self._check_datasets_names(datasets_names)
        self._covariance = None
        if covariance_data is not None:
            self.covariance = covariance_data

    def __setattr__(self, key, value):
        expected = {"spatial_model": SpatialModel, "temporal_model": TemporalModel}
        if key in expected and value is not None and not isinstance(value, expected[key]):
            raise TypeError(
                f"SkyModel: {key} must be a {expected[key].__name__}, got {type(value).__name__}"
            )
        if key == "spectral_model" and not isinstance(value, SpectralModel):
            raise TypeError(f"SkyModel: spectral_model must be a SpectralModel, got {type(value).__name__}")
        super().__setattr__(key, value)

    @property
    def position(self):
        """Source position (`~astropy.coordinates.SkyCoord`), None without spatial model."""
        return None if self.spatial_model is None else self.spatial_model.position

    @property
    def frame(self):
        return None if self.spatial_model is None else self.spatial_model.frame

    @property
    def evaluation_radius(self):
        return getattr(self.spatial_model, "evaluation_radius", None)

    def copy(self, name=None, **kwargs):
        """Deep copy with a new name (random when ``name`` is None); kwargs replace components."""
        new = copy.deepcopy(self)
        new._name = make_name() if name is None else str(name)
        for key, value in kwargs.items():
            if key not in ("spectral_model", "spatial_model", "temporal_model", "datasets_names"):
                raise TypeError(f"SkyModel.copy: unknown argument {key!r}")
            setattr(new, key, value)
        return new

    def to_dict(self, full_output=False):
        data = {"name": self.name, "type": self.type_name}
        if self.datasets_names is not None:
            data["datasets_names"] = list(self.datasets_names)
        for kind, model in self._components():
            data[kind] = model.to_dict(full_output)
        return data

    @classmethod
    def from_dict(cls, data, **kwargs):
        if "spectral" not in data:
            raise KeyError(f"SkyModel {data.get('name')!r}: YAML has no 'spectral' component")
        spectral = SpectralModel.from_dict(data["spectral"])
        spatial = SpatialModel.from_dict(data["spatial"]) if data.get("spatial") else None
        temporal = TemporalModel.from_dict(data["temporal"]) if data.get("temporal") else None
        return cls(spectral_model=spectral, spatial_model=spatial, temporal_model=temporal,
                   name=data.get("name"), datasets_names=data.get("datasets_names"))

    def __str__(self):
        lines = self._str_header()
        for kind, label in (("spectral", "Spectral model type"), ("spatial", "Spatial  model type"),
                            ("temporal", "Temporal model type")):
            model = getattr(self, f"{kind}_model")
            lines.append(f"  {label:<26s}: {'' if model is None else model.__class__.__name__}")
        lines.append("  Parameters:")
        lines.extend(format_model_parameters(self.parameters))
        return "\n".join(lines) + "\n"


class FoVBackgroundModel(_ComponentsModel):
    """Field-of-view background model of one dataset: a spectral norm times the dataset's background.

    Parameters
    ----------
    dataset_name : str
        Name of the dataset; the model is named ``"<dataset_name>-bkg"``.
    spectral_model : `SpectralModel`, optional
        Norm model (`PowerLawNormSpectralModel` by default).
    spatial_model : `SpatialModel`, optional
        Spatial correction (normally None).

    Notes
    -----
    The old YAML type ``BackgroundModel`` (parameters ``norm``, ``tilt``,
    ``reference`` directly under the component, and a ``name``) loads as a
    `FoVBackgroundModel` of the dataset in its ``datasets_names``; without
    ``datasets_names`` it keeps its YAML name and ``datasets_names`` is None
    until a dataset claims it (set ``model.datasets_names = [dataset.name]``).
    """

    tag = ["FoVBackgroundModel", "fov-bkg"]

    def __init__(self, dataset_name=None, spectral_model=None, spatial_model=None, name=None,
                 covariance_data=None):
        if dataset_name is None and name is None:
            raise ValueError("FoVBackgroundModel: dataset_name is required")
        if spectral_model is None:
            spectral_model = PowerLawNormSpectralModel()
        if not isinstance(spectral_model, SpectralModel) or not spectral_model.is_norm_spectral_model:
            raise TypeError(
                "FoVBackgroundModel: spectral_model must be a norm spectral model "
                f"(e.g. PowerLawNormSpectralModel), got {type(spectral_model).__name__}"
            )
        self.spectral_model = spectral_model
        self.spatial_model = spatial_model
        self.temporal_model = None
        self._legacy_name = name
        self.datasets_names = None if dataset_name is None else [str(dataset_name)]
        self._covariance = None
        if covariance_data is not None:
            self.covariance = covariance_data

    @property
    def name(self):
        if self._legacy_name is not None:
            return self._legacy_name
        return f"{self.datasets_names[0]}-bkg"

    @property
    def dataset_name(self):
        return None if self.datasets_names is None else self.datasets_names[0]

    def copy(self, name=None, dataset_name=None, **kwargs):
        new = copy.deepcopy(self)
        if dataset_name is not None:
            new.datasets_names = [str(dataset_name)]
            new._legacy_name = None
        return new

    def to_dict(self, full_output=False):
        data = {"type": self.type_name}
        if self._legacy_name is not None:
            data["name"] = self._legacy_name
        if self.datasets_names is not None:
            data["datasets_names"] = list(self.datasets_names)
        for kind, model in self._components():
            data[kind] = model.to_dict(full_output)
        return data

    @classmethod
    def from_dict(cls, data, **kwargs):
        datasets_names = data.get("datasets_names")
        dataset_name = datasets_names[0] if datasets_names else None
        if "spectral" in data:
            spectral = SpectralModel.from_dict(data["spectral"])
        else:
            # old layout: norm model parameters directly under the component
            spectral = PowerLawNormSpectralModel()
            spectral._update_parameters_from_dict(data.get("parameters", []))
        spatial = SpatialModel.from_dict(data["spatial"]) if data.get("spatial") else None
        legacy_name = None
        if data.get("type") == "BackgroundModel" or dataset_name is None:
            legacy_name = data.get("name") if dataset_name is None else None
            if dataset_name is None and legacy_name is None:
                raise ValueError(
                    f"{data.get('type')}: YAML needs 'datasets_names' or 'name'"
                )
        return cls(dataset_name=dataset_name, spectral_model=spectral, spatial_model=spatial,
                   name=legacy_name)

    def __str__(self):
        lines = self._str_header()
        lines.append(f"  {'Spectral model type':<26s}: {self.spectral_model.__class__.__name__}")
        if self.spatial_model is not None:
            lines.append(f"  {'Spatial  model type':<26s}: {self.spatial_model.__class__.__name__}")
        lines.append("  Parameters:")
        lines.extend(format_model_parameters(self.parameters))
        return "\n".join(lines) + "\n"


# The old YAML type name of the background model.
MODEL_REGISTRY["sky"]._classes["BackgroundModel"] = FoVBackgroundModel
