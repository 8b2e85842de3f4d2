"""A self-contained demonstration: simulate an ON/OFF spectrum, fit it, print the result.

Nothing is downloaded: the instrument is a CTA-like parametrisation built here
(effective area rising to a few 10^5 m2, 10 % Gaussian energy resolution,
a power-law background rate), the source a Crab-like power law.
"""
import logging
import time

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from ..datasets import SpectrumDatasetOnOff
from ..irf import EDispKernel
from ..maps import MapAxis, RegionGeom
from ..modeling import Fit
from ..modeling.models import PowerLawSpectralModel, SkyModel

log = logging.getLogger(__name__)

__all__ = ["simulate_spectrum_dataset", "run_demo"]

#: Simulated truth of the demo source (about half the Crab flux).
TRUE_INDEX = 2.5
TRUE_AMPLITUDE = 2e-11 * u.Unit("cm-2 s-1 TeV-1")


def _effective_area(energy_true):
    """CTA-like effective area in m2: threshold near 50 GeV, plateau ~ 4e5 m2."""
    energy = energy_true.to_value("TeV")
    return 4e5 * np.exp(-((0.05 / energy) ** 1.5)) * energy ** 0.1 / (1 + (energy / 100) ** 0.5)


def simulate_spectrum_dataset(livetime=2 * u.h, alpha=0.2, random_state=0):
    """Simulate a CTA-like ON/OFF spectrum of a power-law source.

    Parameters
    ----------
    livetime : `~astropy.units.Quantity`
        Observation live time.
    alpha : float
        ON/OFF acceptance ratio.
    random_state : int or `~numpy.random.Generator`
        Seed of the Poisson draws.

    Returns
    -------
    dataset : `~gammalike.datasets.SpectrumDatasetOnOff`
        The simulated dataset (no models attached).
    """
    energy_axis = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=6, per_decade=True)
    energy_axis_true = MapAxis.from_energy_bounds(
        "0.03 TeV", "300 TeV", nbin=10, per_decade=True, name="energy_true"
    )
    region = CircleSkyRegion(SkyCoord(83.63, 22.01, unit="deg"), radius=0.1 * u.deg)
    geom = RegionGeom.create(region=region, axes=[energy_axis])
    dataset = SpectrumDatasetOnOff.create(geom=geom, energy_axis_true=energy_axis_true, name="demo")

    aeff = _effective_area(energy_axis_true.center) * u.m**2
    dataset.exposure = dataset.exposure.copy(data=(aeff * livetime).to_value("m2 s").reshape(-1, 1, 1))
    dataset.edisp = EDispKernel.from_gauss(
        energy_axis_true=energy_axis_true, energy_axis=energy_axis, sigma=0.1, bias=0
    )
    dataset.mask_safe = np.ones(geom.data_shape, dtype=bool)
    dataset.acceptance = 1
    dataset.acceptance_off = 1 / alpha

    # Background rate in the ON region: a steep power law in reco energy.
    edges = energy_axis.edges.to_value("TeV")
    rate = 2e-3 * (edges[:-1] ** -1.7 - edges[1:] ** -1.7) / 1.7  # counts per second
    npred_background = rate * livetime.to_value("s")

    truth = SkyModel(
        spectral_model=PowerLawSpectralModel(index=TRUE_INDEX, amplitude=TRUE_AMPLITUDE), name="source"
    )
    dataset.models = truth
    dataset.fake(npred_background=npred_background, random_state=random_state)
    dataset.models = None
    return dataset


def run_demo(random_state=0):
    """Simulate, fit and return (dataset, fit result, elapsed seconds)."""
    start = time.perf_counter()
    log.info("Simulating a 2 h CTA-like ON/OFF observation of a power-law source.")
    dataset = simulate_spectrum_dataset(random_state=random_state)
    log.info("Fitting a power law (wstat).")
    model = SkyModel(spectral_model=PowerLawSpectralModel(index=2, amplitude="1e-12 cm-2 s-1 TeV-1"),
                     name="source")
    dataset.models = model
    result = Fit().run(dataset)
    return dataset, result, time.perf_counter() - start
