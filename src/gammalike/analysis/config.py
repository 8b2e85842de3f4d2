"""`AnalysisConfig`: the YAML configuration of a config-driven analysis (pydantic v2 models).

The sections and fields are those of the high-level analysis configuration
that gammapy users know (``general``, ``observations``, ``datasets``, ``fit``,
``flux_points``, ``excess_map``, ``light_curve``).  Values with units are
given as strings (``"0.1 TeV"``) or Quantities; misspelt keys, values without
units and negative bin sizes are refused with a one-line `ConfigError` that
names the field.
"""
import copy
import difflib
import logging
import textwrap
from pathlib import Path
from typing import Annotated, Any, List, Literal, Optional

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from ..utils.io import write_atomic
from ..utils.paths import make_path
from .types import (
    AngleType,
    EnergyType,
    ParametersType,
    PathType,
    PositiveAngleType,
    TimeType,
)

__all__ = ["AnalysisConfig", "ConfigError"]

log = logging.getLogger(__name__)

FrameType = Optional[Literal["icrs", "galactic"]]
IRFName = Literal["aeff", "edisp", "psf", "bkg", "rad_max"]
MapSelection = Literal["counts", "exposure", "background", "psf", "edisp"]
SafeMaskMethod = Literal["aeff-default", "aeff-max", "edisp-bias", "offset-max", "bkg-peak"]
BackgroundMethod = Optional[Literal["reflected", "fov_background", "ring"]]

_REQUIRED_IRF_ALIASES = {
    "full-enclosure": ["aeff", "edisp", "psf", "bkg"],
    "point-like": ["aeff", "edisp"],
    "all-optional": [],
}


class ConfigError(ValueError):
    """An invalid analysis configuration (the message names the field)."""


# ---------------------------------------------------------------------------- error messages
def _model_at(model_cls, loc):
    """The config class reached by following ``loc`` from ``model_cls`` (None if not a config)."""
    cls = model_cls
    for key in loc:
        if isinstance(key, int):
            continue
        fields = getattr(cls, "model_fields", None)
        if not fields or key not in fields:
            return None
        annotation = fields[key].annotation
        cls = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
        if cls is None:
            return None
    return cls


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_validation_error(exc, model_cls, prefix=""):
    """One line describing every error of a pydantic `ValidationError`, naming the fields."""
    messages = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        where = ".".join(str(k) for k in ((prefix,) if prefix else ()) + loc)
        kind = err.get("type", "")
        if kind == "extra_forbidden":
            parent = _model_at(model_cls, loc[:-1])
            valid = list(parent.model_fields) if parent is not None else []
            close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            messages.append(f"{where}: unknown key{hint}; valid keys are {', '.join(valid)}")
            continue
        msg = err.get("msg", "invalid value")
        for head in ("Value error, ", "Assertion failed, "):
            if msg.startswith(head):
                msg = msg[len(head):]
        if kind in ("literal_error", "int_parsing", "bool_parsing", "list_type", "dict_type",
                    "model_type", "int_from_float", "greater_than", "greater_than_equal",
                    "string_type", "int_type"):
            msg = f"{msg}, got {_short(err.get('input'))}"
        messages.append(f"{where}: {msg}" if where else msg)
    return "; ".join(messages)


# ---------------------------------------------------------------------------- base class
class GammaBaseModel(BaseModel):
    """Base of the config sections: unknown keys refused, assignments validated.

    Each section knows its dotted path in the configuration (``_path``) so
    that an invalid assignment such as ``config.datasets.geom.wcs.binsize =
    "-1 deg"`` raises a `ConfigError` naming ``datasets.geom.wcs.binsize``.
    """

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        validate_default=True,
        arbitrary_types_allowed=True,
    )
    _path: str = PrivateAttr(default="")

    def __setattr__(self, name, value):
        if name.startswith("_"):
            return super().__setattr__(name, value)
        try:
            super().__setattr__(name, value)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, type(self), prefix=self._path)) from None
        self._set_paths(self._path)

    def _set_paths(self, path):
        self._path = path
        for name in type(self).model_fields:
            child = getattr(self, name)
            if isinstance(child, GammaBaseModel):
                child._set_paths(f"{path}.{name}" if path else name)

    def __str__(self):
        text = yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, indent=4,
                              default_flow_style=None, width=10_000)
        return text.rstrip("\n")


# ---------------------------------------------------------------------------- sections
class SkyCoordConfig(GammaBaseModel):
    frame: FrameType = None
    lon: AngleType = None
    lat: AngleType = None


class SpatialCircleConfig(GammaBaseModel):
    frame: FrameType = None
    lon: AngleType = None
    lat: AngleType = None
    radius: AngleType = None

    @field_validator("radius")
    @classmethod
    def _radius_not_negative(cls, value):
        if value is not None and value.to_value("deg") < 0:
            raise ValueError(f"must not be negative, got {value}")
        return value


def _validate_exclusion(value):
    """A FITS exclusion-mask file, or a list of circles (dicts) / DS9 region strings to exclude."""
    if value is None:
        return None
    if isinstance(value, (str, Path)):
        if str(value).strip() == "":
            return None
        return Path(value)
    if isinstance(value, SpatialCircleConfig):
        value = [value]
    if isinstance(value, (list, tuple)):
        regions = []
        for idx, item in enumerate(value):
            if isinstance(item, SpatialCircleConfig):
                regions.append(item)
            elif isinstance(item, dict):
                try:
                    circle = SpatialCircleConfig(**item)
                except (ValidationError, ConfigError) as exc:
                    text = exc if isinstance(exc, ConfigError) else format_validation_error(
                        exc, SpatialCircleConfig)
                    raise ValueError(f"region {idx}: {text}") from None
                if None in (circle.lon, circle.lat, circle.radius):
                    raise ValueError(f"region {idx}: give frame, lon, lat and radius")
                regions.append(circle)
            elif isinstance(item, str):
                regions.append(item)
            else:
                raise ValueError(f"region {idx}: expected a mapping (frame, lon, lat, radius) or a "
                                 f"DS9 region string, got {item!r}")
        return regions
    raise ValueError(f"expected a mask file name or a list of regions, got {value!r}")


def _dump_exclusion(value):
    if value is None:
        return None
    if isinstance(value, Path):
        return str(value)
    return [item.model_dump(mode="json") if isinstance(item, BaseModel) else item for item in value]


ExclusionType = Annotated[Any, PlainValidator(_validate_exclusion),
                          PlainSerializer(_dump_exclusion, return_type=Any)]


class TimeRangeConfig(GammaBaseModel):
    start: TimeType = None
    stop: TimeType = None


class EnergyAxisConfig(GammaBaseModel):
    min: EnergyType = None
    max: EnergyType = None
    nbins: Optional[Annotated[int, Field(gt=0)]] = None


class EnergyRangeConfig(GammaBaseModel):
    min: EnergyType = None
    max: EnergyType = None


class EnergyAxesConfig(GammaBaseModel):
    energy: EnergyAxisConfig = EnergyAxisConfig(min="1 TeV", max="10 TeV", nbins=5)
    energy_true: EnergyAxisConfig = EnergyAxisConfig(min="0.5 TeV", max="20 TeV", nbins=16)


class WidthConfig(GammaBaseModel):
    width: PositiveAngleType = "5 deg"
    height: PositiveAngleType = "5 deg"


class WcsConfig(GammaBaseModel):
    skydir: SkyCoordConfig = SkyCoordConfig()
    binsize: PositiveAngleType = "0.02 deg"
    width: WidthConfig = WidthConfig()
    binsize_irf: PositiveAngleType = "0.2 deg"


class SelectionConfig(GammaBaseModel):
    offset_max: PositiveAngleType = "2.5 deg"


class GeomConfig(GammaBaseModel):
    wcs: WcsConfig = WcsConfig()
    selection: SelectionConfig = SelectionConfig()
    axes: EnergyAxesConfig = EnergyAxesConfig()


class BackgroundConfig(GammaBaseModel):
    method: BackgroundMethod = None
    exclusion: ExclusionType = None
    parameters: ParametersType = {}


class SafeMaskConfig(GammaBaseModel):
    methods: List[SafeMaskMethod] = ["aeff-default"]
    parameters: ParametersType = {}


class LogConfig(GammaBaseModel):
    level: str = "info"
    filename: PathType = None
    filemode: Optional[str] = None
    format: Optional[str] = None
    datefmt: Optional[str] = None

    @field_validator("level")
    @classmethod
    def _known_level(cls, value):
        value = str(value).lower()
        if value.upper() not in ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "NOTSET"):
            raise ValueError(f"unknown log level {value!r}, expected debug, info, warning, error or critical")
        return value


class GeneralConfig(GammaBaseModel):
    log: LogConfig = LogConfig()
    outdir: str = "."
    n_jobs: Annotated[int, Field(ge=1)] = 1
    datasets_file: PathType = None
    models_file: PathType = None


def _validate_required_irf(value):
    if isinstance(value, str):
        if value in _REQUIRED_IRF_ALIASES:
            return list(_REQUIRED_IRF_ALIASES[value])
        return [value]
    return value


class ObservationsConfig(GammaBaseModel):
    datastore: PathType = Path("$GAMMAPY_DATA/hess-dl3-dr1")
    obs_ids: List[int] = []
    obs_file: PathType = None
    obs_cone: SpatialCircleConfig = SpatialCircleConfig()
    obs_time: TimeRangeConfig = TimeRangeConfig()
    required_irf: List[IRFName] = ["aeff", "edisp", "psf", "bkg"]

    @field_validator("required_irf", mode="before")
    @classmethod
    def _irf_aliases(cls, value):
        return _validate_required_irf(value)

    @field_validator("obs_ids", mode="before")
    @classmethod
    def _single_id(cls, value):
        if value is None:
            return []
        if isinstance(value, (int, str)):
            return [value]
        return value


class DatasetsConfig(GammaBaseModel):
    type: Literal["1d", "3d"] = "1d"
    stack: bool = True
    geom: GeomConfig = GeomConfig()
    map_selection: List[MapSelection] = ["counts", "exposure", "background", "psf", "edisp"]
    background: BackgroundConfig = BackgroundConfig()
    safe_mask: SafeMaskConfig = SafeMaskConfig()
    on_region: SpatialCircleConfig = SpatialCircleConfig()
    containment_correction: bool = True


class FitConfig(GammaBaseModel):
    fit_range: EnergyRangeConfig = EnergyRangeConfig()


class FluxPointsConfig(GammaBaseModel):
    energy: EnergyAxisConfig = EnergyAxisConfig()
    source: str = "source"
    parameters: ParametersType = {"selection_optional": "all"}


class ExcessMapConfig(GammaBaseModel):
    correlation_radius: PositiveAngleType = "0.1 deg"
    parameters: ParametersType = {}
    energy_edges: EnergyAxisConfig = EnergyAxisConfig()


class LightCurveConfig(GammaBaseModel):
    time_intervals: TimeRangeConfig = TimeRangeConfig()
    energy_edges: EnergyAxisConfig = EnergyAxisConfig()
    source: str = "source"
    parameters: ParametersType = {"selection_optional": "all"}


# ---------------------------------------------------------------------------- the configuration
def _deep_update(base, other):
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict) and value:
            _deep_update(base[key], value)
        else:
            base[key] = value
    return base


class AnalysisConfig(GammaBaseModel):
    """Configuration of a config-driven `~gammalike.analysis.Analysis`.

    Examples
    --------
    >>> from gammalike.analysis import AnalysisConfig
    >>> config = AnalysisConfig()
    >>> config.datasets.type = "3d"
    >>> config.datasets.geom.wcs.binsize = "0.02 deg"
    >>> config.datasets.geom.axes.energy.min = "0.1 TeV"
    >>> config.datasets.geom.wcs.binsize.to_value("deg")
    0.02
    """

    general: GeneralConfig = GeneralConfig()
    observations: ObservationsConfig = ObservationsConfig()
    datasets: DatasetsConfig = DatasetsConfig()
    fit: FitConfig = FitConfig()
    flux_points: FluxPointsConfig = FluxPointsConfig()
    excess_map: ExcessMapConfig = ExcessMapConfig()
    light_curve: LightCurveConfig = LightCurveConfig()

    def __init__(self, **data):
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ConfigError(f"AnalysisConfig: {format_validation_error(exc, AnalysisConfig)}") from None
        self._set_paths("")

    def model_post_init(self, context):
        # the class-level defaults are shared instances: give every config its own sections
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, BaseModel):
                object.__setattr__(self, name, value.model_copy(deep=True))
        # fill __pydantic_fields_set__ unchanged; paths are set by __init__

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_yaml(cls, config_str, filename=None):
        """Configuration from a YAML string (``filename`` only for messages)."""
        where = f"{filename}: " if filename else ""
        try:
            data = yaml.safe_load(config_str)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" at line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ConfigError(f"{where}invalid YAML{line}: {problem}") from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{where}the configuration must be a YAML mapping, got {type(data).__name__}")
        try:
            return cls(**data)
        except ConfigError as exc:
            raise ConfigError(f"{where}{exc}") from None

    @classmethod
    def read(cls, path):
        """Read a YAML configuration file (``$GAMMAPY_DATA`` is expanded)."""
        path = make_path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: configuration file not found")
        return cls.from_yaml(path.read_text(), filename=path)

    @classmethod
    def template(cls, kind="1d"):
        """A filled-in example configuration for a 1D (spectral) or 3D (map) analysis."""
        from .template import template_config

        return template_config(kind)

    # ------------------------------------------------------------------ output
    def to_dict(self):
        """Plain dictionary (quantities as ``"0.1 TeV"`` strings)."""
        return self.model_dump(mode="json")

    def to_yaml(self):
        """YAML text in the layout of the configuration files (flow style for leaf sections)."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, indent=4, default_flow_style=None,
                              width=10_000)

    def write(self, path, overwrite=False):
        """Write the YAML configuration (refuses to replace a file unless ``overwrite``)."""
        path = make_path(path)
        with write_atomic(path, overwrite=overwrite) as tmp:
            tmp.write_text(self.to_yaml())

    def __str__(self):
        return "AnalysisConfig\n\n" + textwrap.indent(self.to_yaml(), "    ")

    def __repr__(self):
        return f"AnalysisConfig(type={self.datasets.type!r}, datastore={str(self.observations.datastore)!r})"

    # ------------------------------------------------------------------ updates and logging
    def update(self, config=None):
        """New configuration: this one updated with ``config`` (dict, YAML string or AnalysisConfig).

        Only the keys given in ``config`` change (for an `AnalysisConfig`, the
        fields that were set explicitly).
        """
        if config is None:
            return self.copy()
        if isinstance(config, AnalysisConfig):
            other = config.model_dump(mode="json", exclude_unset=True)
        elif isinstance(config, str):
            other = yaml.safe_load(config) or {}
        elif isinstance(config, dict):
            other = copy.deepcopy(config)
            other = AnalysisConfig(**other).model_dump(mode="json", exclude_unset=True)
        else:
            raise TypeError(f"AnalysisConfig.update: expected a dict, YAML string or AnalysisConfig, "
                            f"got {type(config).__name__}")
        data = _deep_update(self.to_dict(), other)
        return AnalysisConfig(**data)

    def copy(self):
        """Independent copy."""
        return AnalysisConfig(**self.to_dict())

    def set_logging(self):
        """Configure logging from ``general.log`` (level, file, format) and log what was set.

        The ``gammalike`` logger gets the level even when the root logger was
        configured before (by an application or a notebook).
        """
        settings = self.general.log.model_dump(mode="json")
        settings["level"] = settings["level"].upper()
        kwargs = {k: v for k, v in settings.items() if v is not None}
        root_configured = bool(logging.getLogger().handlers)
        logging.basicConfig(**kwargs)
        logger = logging.getLogger("gammalike")
        logger.setLevel(settings["level"])
        if root_configured and settings["filename"] is not None:
            # basicConfig does nothing once the root logger has handlers: add the file explicitly
            path = str(make_path(settings["filename"]))
            known = [h for h in logger.handlers if isinstance(h, logging.FileHandler)
                     and h.baseFilename == str(Path(path).resolve())]
            if not known:
                handler = logging.FileHandler(path, mode=settings["filemode"] or "a")
                handler.setFormatter(logging.Formatter(settings["format"], settings["datefmt"]))
                logger.addHandler(handler)
        log.info(f"Setting logging config: {settings}")
