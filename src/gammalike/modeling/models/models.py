"""Model containers: `Models` (user-facing list) and `DatasetModels` (a dataset's view)."""
import copy
import logging
import warnings
from pathlib import Path

import numpy as np
import yaml

from ...utils.io import check_overwrite, write_atomic
from ...utils.paths import make_path
from ..covariance import Covariance
from ..parameter import Parameters
from .core import MODEL_REGISTRY, ModelBase, components_of, parameters_table
from .cube import assemble_covariance, distribute_covariance

__all__ = ["Models", "DatasetModels"]

log = logging.getLogger(__name__)


def _leaf_slots(model):
    """``(leaf_model, attribute)`` for every parameter of ``model``, recursing into
    sky-model components and compound spectral models."""
    if hasattr(model, "_components"):
        for _, component in model._components():
            yield from _leaf_slots(component)
    elif hasattr(model, "_submodels"):
        if hasattr(model, "norm") and "norm" in model.__dict__:  # ScaleSpectralModel
            yield model, "norm"
        for sub in model._submodels():
            yield from _leaf_slots(sub)
    else:
        for default in model._defaults():
            yield model, default.name


def _component_dicts(component):
    """The parameter dictionaries of a YAML component, in ``_leaf_slots`` order."""
    if component.get("type") in ("SkyModel", "FoVBackgroundModel", "BackgroundModel"):
        if component.get("type") != "SkyModel" and "spectral" not in component:
            yield from component.get("parameters", [])
        for kind in ("spectral", "spatial", "temporal"):
            if component.get(kind):
                yield from _component_dicts(component[kind])
    elif component.get("type") == "CompoundSpectralModel":
        yield from _component_dicts(component["model1"])
        yield from _component_dicts(component["model2"])
    elif component.get("type") == "ScaleSpectralModel":
        yield from component.get("parameters", [])
        yield from _component_dicts(component["model"])
    else:
        yield from component.get("parameters", [])


class DatasetModels:
    """An ordered list of models with unique names.

    Parameters
    ----------
    models : model, list of models or `DatasetModels`, optional
    covariance_data : `~numpy.ndarray`, optional
        Covariance matrix over ``parameters``.
    """

    def __init__(self, models=None, covariance_data=None):
        if models is None:
            models = []
        elif isinstance(models, DatasetModels):
            models = list(models._models)
        elif isinstance(models, ModelBase):
            models = [models]
        else:
            models = list(models)
        self._models = []
        self._covariance = None
        for model in models:
            self._check_new(model)
            self._models.append(model)
        if covariance_data is not None:
            self.covariance = covariance_data

    def _check_new(self, model, exclude=None):
        if not hasattr(model, "parameters"):
            raise TypeError(
                f"{self.__class__.__name__}: expected SkyModel / FoVBackgroundModel, got {type(model).__name__}"
            )
        name = _name(model)
        if name is None:
            return
        for other in self._models:
            if other is not exclude and _name(other) == name:
                raise ValueError(
                    f"{self.__class__.__name__}: a model named {name!r} is already in the list"
                )

    # -- list protocol --------------------------------------------------
    def __len__(self):
        return len(self._models)

    def __iter__(self):
        return iter(self._models)

    def __contains__(self, item):
        if isinstance(item, str):
            return item in self.names
        return any(item is model for model in self._models)

    def index(self, key):
        """Position of a model given by name, index or object."""
        if isinstance(key, (int, np.integer)):
            return int(key)
        if isinstance(key, str):
            names = self.names
            if key not in names:
                raise KeyError(f"No model named {key!r}; models are {names}")
            return names.index(key)
        for idx, model in enumerate(self._models):
            if model is key:
                return idx
        raise ValueError(f"{key!r} is not in this list")

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer, str)):
            return self._models[self.index(key)]
        if isinstance(key, slice):
            return self.__class__(self._models[key])
        if isinstance(key, np.ndarray) and key.dtype == bool:
            if key.shape != (len(self),):
                raise IndexError(f"Boolean mask of shape {key.shape} for {len(self)} models")
            return self.__class__([m for m, keep in zip(self._models, key) if keep])
        if isinstance(key, (list, tuple, np.ndarray)):
            return self.__class__([self._models[self.index(k)] for k in key])
        raise TypeError(f"Invalid model key {key!r}")

    @property
    def names(self):
        """Model names."""
        return [_name(model) for model in self._models]

    def __add__(self, other):
        if isinstance(other, DatasetModels):
            other = list(other)
        elif isinstance(other, ModelBase):
            other = [other]
        return self.__class__(list(self._models) + list(other))

    def copy(self, copy_data=False):
        """Deep copy (models keep their names; shared parameters stay shared)."""
        return self.__class__(copy.deepcopy(self._models))

    # -- parameters -----------------------------------------------------
    @property
    def parameters(self):
        """All parameters, duplicates of shared parameter objects included."""
        return Parameters.from_stack([model.parameters for model in self._models])

    @property
    def parameters_unique_names(self):
        """``"<model>.<spectral|spatial|temporal>.<parameter>"`` for every parameter."""
        return [f"{_name(model)}.{kind}.{par.name}" for model in self._models
                for kind, component in components_of(model) for par in component.parameters]

    def freeze(self, model_type=None):
        """Freeze all parameters (or those of one component kind)."""
        for model in self._models:
            if hasattr(model, "_components"):
                model.freeze(model_type)
            elif model_type is None or model_type == model._family:
                model.freeze()

    def unfreeze(self, model_type=None):
        """Restore default frozen states (of all or of one component kind)."""
        for model in self._models:
            if hasattr(model, "_components"):
                model.unfreeze(model_type)
            elif model_type is None or model_type == model._family:
                model.unfreeze()

    @property
    def frozen(self):
        return np.array([model.frozen for model in self._models], dtype=bool)

    def to_parameters_table(self):
        """Table of all parameters: model, type, name, value, unit, error, min, max, frozen, is_norm, link."""
        return parameters_table(self._models)

    @property
    def covariance(self):
        """`Covariance` over `parameters`.

        The matrix last set on this container (with cross-model terms) overlaid
        with each model's covariance; the setter gives each model (and each of
        its components) its sub-matrix and sets the parameter errors.
        """
        return assemble_covariance(self.parameters, self._covariance, self._models)

    @covariance.setter
    def covariance(self, covariance):
        self._covariance = distribute_covariance(self.parameters, covariance, self._models)

    # -- selection ------------------------------------------------------
    def select_mask(self, name_substring=None, datasets_names=None, tag=None, model_type=None,
                    frozen=None):
        """Boolean mask of the models matching all given criteria.

        Parameters
        ----------
        name_substring : str, optional
            Substring of the model name.
        datasets_names : str or list of str, optional
            Keep models applying to any of these datasets (``datasets_names``
            None applies to all).
        tag : str or list of str, optional
            Model type (e.g. "SkyModel", "FoVBackgroundModel") or component
            type (e.g. "PointSpatialModel", "pl").
        model_type : {"spectral", "spatial", "temporal"}, optional
            Keep models that have this component.
        frozen : bool, optional
            Keep models whose parameters are all frozen (True) or not (False).
        """
        mask = np.ones(len(self), dtype=bool)
        if datasets_names is not None and isinstance(datasets_names, str):
            datasets_names = [datasets_names]
        if tag is not None and isinstance(tag, str):
            tag = [tag]
        for idx, model in enumerate(self._models):
            name = _name(model) or ""
            datasets = getattr(model, "datasets_names", None)
            if name_substring is not None and name_substring not in name:
                mask[idx] = False
            if datasets_names is not None and datasets is not None:
                if not set(datasets_names) & set(datasets):
                    mask[idx] = False
            if tag is not None:
                tags = set(_tag_list(model))
                for _, component in components_of(model):
                    tags.update(_tag_list(component))
                if not tags & set(tag):
                    mask[idx] = False
            if model_type is not None:
                if model_type not in [kind for kind, _ in components_of(model)]:
                    mask[idx] = False
            if frozen is not None and model.frozen != frozen:
                mask[idx] = False
        return mask

    def select(self, name_substring=None, datasets_names=None, tag=None, model_type=None,
               frozen=None):
        """Models matching all given criteria (see `select_mask`), sharing the model objects."""
        mask = self.select_mask(name_substring, datasets_names, tag, model_type, frozen)
        return self[mask]

    # -- YAML -----------------------------------------------------------
    @classmethod
    def read(cls, filename):
        """Read a models YAML file (and its covariance file, if named in it)."""
        path = make_path(filename)
        if not path.exists():
            raise FileNotFoundError(f"Models file not found: {path}")
        return cls.from_yaml(path.read_text(), path=path)

    @classmethod
    def from_yaml(cls, yaml_str, path=None):
        """Create from a YAML string; ``path`` locates a covariance file named in it."""
        data = yaml.safe_load(yaml_str)
        if not isinstance(data, dict) or "components" not in data:
            where = f"{path}: " if path is not None else ""
            raise ValueError(f"{where}models YAML must be a mapping with a 'components' list")
        return cls.from_dict(data, path=path)

    @classmethod
    def from_dict(cls, data, path=None):
        """Create from a dictionary with ``components`` (and optional ``covariance``)."""
        components = data.get("components") or []
        where = f"{path}: " if path is not None else ""
        models = []
        for idx, component in enumerate(components):
            if not isinstance(component, dict):
                raise ValueError(f"{where}model component {idx} must be a mapping, got {component!r}")
            tag = component.get("type", "SkyModel")
            label = component.get("name") or component.get("datasets_names") or idx
            try:
                model_cls = MODEL_REGISTRY["sky"].get_cls(tag)
                models.append(model_cls.from_dict(component))
            except (KeyError, ValueError, TypeError) as exc:
                # same exception type (UnitConversionError included), with file and component
                message = exc.args[0] if exc.args else str(exc)
                raise type(exc)(f"{where}component {label!r}: {message}") from exc
        _apply_links(models, components)
        models = cls(models)
        covariance_file = data.get("covariance")
        if covariance_file:
            base = Path(make_path(path)).parent if path is not None else Path(".")
            filename = make_path(covariance_file)
            if not filename.is_absolute():
                filename = base / filename
            if filename.exists():
                models.read_covariance(filename)
            else:
                warnings.warn(f"Covariance file {filename} named in the models YAML was not found",
                              stacklevel=2)
        return models

    def to_dict(self, full_output=False, overwrite_templates=False):
        """Dictionary ``{"components": [...]}``; shared parameters carry a ``link`` label."""
        components = [model.to_dict(full_output) for model in self._models]
        counts = {}
        for model in self._models:
            for leaf, attr in _leaf_slots(model):
                par = getattr(leaf, attr)
                counts[id(par)] = counts.get(id(par), 0) + 1
        for model, component in zip(self._models, components):
            slots = list(_leaf_slots(model))
            dicts = list(_component_dicts(component))
            if len(slots) != len(dicts):
                continue
            for (leaf, attr), item in zip(slots, dicts):
                par = getattr(leaf, attr)
                if counts[id(par)] > 1:
                    item["link"] = f"{par.name}@{_link_label(par)}"
        return {"components": components}

    def to_yaml(self, full_output=False, overwrite_templates=False):
        """YAML string of `to_dict`."""
        return yaml.safe_dump(self.to_dict(full_output, overwrite_templates), sort_keys=False,
                              default_flow_style=False)

    def write(self, path, overwrite=False, full_output=False, overwrite_templates=False,
              write_covariance=True):
        """Write the models YAML, and the covariance to ``<stem>_covariance.dat`` next to it.

        Parameters
        ----------
        path : str or `~pathlib.Path`
            YAML file.
        overwrite : bool
            Replace existing files.
        full_output : bool
            Write every parameter attribute.
        overwrite_templates : bool
            Accepted for compatibility (template maps are not written).
        write_covariance : bool
            Also write the covariance file and name it in the YAML.
        """
        path = make_path(path)
        check_overwrite(path, overwrite)
        data = self.to_dict(full_output, overwrite_templates)
        if write_covariance:
            cov_path = path.parent / f"{path.stem}_covariance.dat"
            check_overwrite(cov_path, overwrite)
            self.write_covariance(cov_path, overwrite=overwrite)
            data["covariance"] = cov_path.name
        text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
        with write_atomic(path, overwrite=overwrite) as tmp:
            tmp.write_text(text)

    def write_covariance(self, filename, overwrite=False):
        """Write the covariance with ``"<model>.<kind>.<parameter>"`` row labels."""
        self.covariance.write(filename, overwrite=overwrite, labels=self.parameters_unique_names)

    def read_covariance(self, filename):
        """Read a covariance file and distribute it to the models.

        Rows are matched to parameters by their ``"<model>.<kind>.<parameter>"``
        label (repeated labels in order), so files listing parameters in another
        order still load.
        """
        labels, data = Covariance.read_table(filename)
        own = self.parameters_unique_names
        if labels == own:
            self.covariance = Covariance(self.parameters, data)
            return
        positions = {}
        for idx, label in enumerate(own):
            positions.setdefault(label, []).append(idx)
        used = {}
        index = []
        for label in labels:
            candidates = positions.get(label)
            count = used.get(label, 0)
            if candidates is None or count >= len(candidates):
                raise ValueError(
                    f"{filename}: covariance row {label!r} matches no parameter of these models "
                    f"(expected labels like {own[:3]}...)"
                )
            used[label] = count + 1
            index.append(candidates[count])
        n = len(own)
        matrix = np.diag(self.parameters.errors ** 2)
        index = np.array(index, dtype=int)
        matrix[np.ix_(index, index)] = data
        self.covariance = Covariance(self.parameters, matrix)

    # -- output ---------------------------------------------------------
    def __str__(self):
        text = f"{self.__class__.__name__}\n\n"
        for idx, model in enumerate(self._models):
            text += f"Component {idx}: {model}\n"
        return text

    def __repr__(self):
        return f"{self.__class__.__name__}({self.names})"


class Models(DatasetModels):
    """Mutable list of models (`SkyModel`, `FoVBackgroundModel`).

    Models of a list have unique names; a parameter object shared by several
    models is one fit parameter (``parameters.unique_parameters``).
    """

    def append(self, model):
        self._check_new(model)
        self._models.append(model)

    def extend(self, models):
        for model in models:
            self.append(model)

    def insert(self, idx, model):
        self._check_new(model)
        self._models.insert(idx, model)

    def remove(self, model):
        del self._models[self.index(model)]

    def __delitem__(self, key):
        del self._models[self.index(key)]

    def __setitem__(self, key, model):
        idx = self.index(key)
        self._check_new(model, exclude=self._models[idx])
        self._models[idx] = model

    def __iadd__(self, other):
        self.extend(other if not isinstance(other, ModelBase) else [other])
        return self


def _name(model):
    return getattr(model, "name", None)


def _tag_list(model):
    tag = model.tag
    return list(tag) if isinstance(tag, (list, tuple)) else [tag]


def _link_label(par):
    return f"{id(par) & 0xFFFFFFFF:08x}"


def _apply_links(models, components):
    """Share parameter objects whose YAML entries carry the same ``link`` label."""
    shared = {}
    for model, component in zip(models, components):
        slots = list(_leaf_slots(model))
        dicts = list(_component_dicts(component))
        if len(slots) != len(dicts):
            # parameters missing from the YAML: match by name within the component
            by_name = {}
            for item in dicts:
                by_name.setdefault(item.get("name"), item)
            dicts = [by_name.get(attr, {}) for _, attr in slots]
        else:
            # YAML may list a component's parameters in another order than ours
            dicts = _align_by_name(slots, dicts)
        for (leaf, attr), item in zip(slots, dicts):
            link = item.get("link") if isinstance(item, dict) else None
            if not link:
                continue
            if link in shared:
                leaf.__dict__[attr] = shared[link]
                leaf._covariance = None
            else:
                shared[link] = getattr(leaf, attr)


def _align_by_name(slots, dicts):
    names = [attr for _, attr in slots]
    if names == [item.get("name") for item in dicts]:
        return dicts
    # same set of parameters per leaf, different order: group by leaf
    out = []
    pos = 0
    while pos < len(slots):
        leaf = slots[pos][0]
        end = pos
        while end < len(slots) and slots[end][0] is leaf:
            end += 1
        group = {item.get("name"): item for item in dicts[pos:end]}
        out.extend(group.get(attr, {}) for _, attr in slots[pos:end])
        pos = end
    return out
