"""Spectral, spatial and temporal models, `SkyModel`, `FoVBackgroundModel` and `Models`."""
from .core import MODEL_REGISTRY, ModelBase, Registry
from .cube import FoVBackgroundModel, SkyModel
from .models import DatasetModels, Models
from .spatial import (
    ConstantSpatialModel,
    DiskSpatialModel,
    GaussianSpatialModel,
    GeneralizedGaussianSpatialModel,
    PointSpatialModel,
    SpatialModel,
)
from .spatial_shell import Shell2SpatialModel, ShellSpatialModel
from .spatial_template import TemplateSpatialModel
from .spectral import (
    BrokenPowerLawSpectralModel,
    ConstantSpectralModel,
    GaussianSpectralModel,
    LogParabolaSpectralModel,
    PowerLaw2SpectralModel,
    PowerLawSpectralModel,
    SmoothBrokenPowerLawSpectralModel,
)
from .spectral_core import CompoundSpectralModel, ScaleSpectralModel, SpectralModel, integrate_log
from .spectral_crab import MeyerCrabSpectralModel, create_crab_spectral_model
from .spectral_cutoff import (
    ExpCutoffPowerLaw3FGLSpectralModel,
    ExpCutoffPowerLawSpectralModel,
    SuperExpCutoffPowerLaw4FGLDR3SpectralModel,
    SuperExpCutoffPowerLaw4FGLSpectralModel,
)
from .spectral_ebl import EBL_DATA_BUILTIN, EBLAbsorptionNormSpectralModel
from .spectral_naima import NaimaSpectralModel
from .spectral_norm import (
    LogParabolaNormSpectralModel,
    PiecewiseNormSpectralModel,
    PowerLawNormSpectralModel,
)
from .spectral_template import TemplateSpectralModel
from .temporal import (
    ConstantTemporalModel,
    ExpDecayTemporalModel,
    GaussianTemporalModel,
    LightCurveTemplateTemporalModel,
    LinearTemporalModel,
    PowerLawTemporalModel,
    SineTemporalModel,
    TemporalModel,
)

SPECTRAL_MODEL_REGISTRY = MODEL_REGISTRY["spectral"]
SPATIAL_MODEL_REGISTRY = MODEL_REGISTRY["spatial"]
TEMPORAL_MODEL_REGISTRY = MODEL_REGISTRY["temporal"]

__all__ = [
    "BrokenPowerLawSpectralModel",
    "CompoundSpectralModel",
    "ConstantSpatialModel",
    "ConstantSpectralModel",
    "ConstantTemporalModel",
    "DatasetModels",
    "DiskSpatialModel",
    "EBL_DATA_BUILTIN",
    "EBLAbsorptionNormSpectralModel",
    "ExpCutoffPowerLaw3FGLSpectralModel",
    "ExpCutoffPowerLawSpectralModel",
    "ExpDecayTemporalModel",
    "FoVBackgroundModel",
    "GaussianSpatialModel",
    "GaussianSpectralModel",
    "GaussianTemporalModel",
    "GeneralizedGaussianSpatialModel",
    "LightCurveTemplateTemporalModel",
    "LinearTemporalModel",
    "LogParabolaNormSpectralModel",
    "LogParabolaSpectralModel",
    "MeyerCrabSpectralModel",
    "MODEL_REGISTRY",
    "NaimaSpectralModel",
    "ModelBase",
    "Models",
    "PiecewiseNormSpectralModel",
    "PointSpatialModel",
    "PowerLaw2SpectralModel",
    "PowerLawNormSpectralModel",
    "PowerLawSpectralModel",
    "PowerLawTemporalModel",
    "Registry",
    "ScaleSpectralModel",
    "Shell2SpatialModel",
    "ShellSpatialModel",
    "SineTemporalModel",
    "SkyModel",
    "SmoothBrokenPowerLawSpectralModel",
    "SpatialModel",
    "SpectralModel",
    "SPATIAL_MODEL_REGISTRY",
    "SPECTRAL_MODEL_REGISTRY",
    "SuperExpCutoffPowerLaw4FGLDR3SpectralModel",
    "SuperExpCutoffPowerLaw4FGLSpectralModel",
    "TEMPORAL_MODEL_REGISTRY",
    "TemplateSpatialModel",
    "TemplateSpectralModel",
    "TemporalModel",
    "create_crab_spectral_model",
    "integrate_log",
]
