"""Reduced datasets and their likelihoods: spectra (ON/OFF), flux points, `Datasets`."""
from importlib.util import find_spec

from .core import DATASET_REGISTRY, Dataset, Datasets
from .spectrum import SpectrumDataset
from .spectrum_onoff import SpectrumDatasetOnOff

__all__ = [
    "DATASET_REGISTRY",
    "Dataset",
    "Datasets",
    "SpectrumDataset",
    "SpectrumDatasetOnOff",
]

# FluxPointsDataset lives in its own module (owned by the flux points work);
# export it once it exists.
if find_spec(f"{__name__}.flux_points") is not None:
    from .flux_points import FluxPointsDataset  # noqa: E402

    __all__.append("FluxPointsDataset")

# MapDataset (3D counts cubes with reduced IRFs) and its per-model evaluator.
from .evaluator import MapEvaluator  # noqa: E402
from .map import MapDataset  # noqa: E402

__all__ += ["MapDataset", "MapEvaluator"]

# Event sampling from a MapDataset (simulations).
from .simulate import MapDatasetEventSampler  # noqa: E402

__all__ += ["MapDatasetEventSampler"]

# ON/OFF counts cubes (ring background).
from .map_onoff import MapDatasetOnOff  # noqa: E402

__all__ += ["MapDatasetOnOff"]
