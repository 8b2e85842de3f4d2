"""Synthetic observations for the maker tests (no data files needed)."""
import numpy as np
import astropy.units as u
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table
from regions import CircleSkyRegion

from gammalike.data import EventList, Observation
from gammalike.datasets import SpectrumDataset
from gammalike.irf import Background2D, EffectiveAreaTable2D, EnergyDispersion2D, PSF3D
from gammalike.maps import MapAxis, RegionGeom

POINTING = SkyCoord(83.63, 22.01, unit="deg", frame="icrs")
TARGET = SkyCoord(83.63, 22.51, unit="deg", frame="icrs")  # 0.5 deg north of the pointing
LIVETIME = 1000.0  # s
BKG_RATE = 1e-6  # s-1 MeV-1 sr-1, constant


def make_irfs(lo_thres=1.0):
    energy_true = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=30, name="energy_true")
    offset = MapAxis.from_edges([0, 1, 2, 3], unit="deg", name="offset")
    aeff = EffectiveAreaTable2D.from_parametrization(energy_true, instrument="HESS")
    aeff.meta.update(LO_THRES=lo_thres, HI_THRES=50.0)
    migra = MapAxis.from_bounds(0.2, 5, nbin=200, name="migra", node_type="edges")
    edisp = EnergyDispersion2D.from_gauss(energy_true, migra, offset, bias=0.0, sigma=0.1)
    psf = PSF3D.from_gauss(energy_true, offset, sigma=0.1 * u.deg)
    energy = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=10, name="energy")
    bkg = Background2D(axes=[energy, offset], data=np.full((10, 3), BKG_RATE), unit="s-1 MeV-1 sr-1")
    return dict(aeff=aeff, edisp=edisp, psf=psf, bkg=bkg)


def make_events(positions, energies):
    """Event list with the given positions (SkyCoord) and energies (TeV)."""
    table = Table()
    table["RA"] = positions.icrs.ra.deg * u.deg
    table["DEC"] = positions.icrs.dec.deg * u.deg
    table["ENERGY"] = np.asarray(energies, float) * u.TeV
    table["TIME"] = np.linspace(0, LIVETIME, len(table)) * u.s
    table.meta.update(RA_PNT=POINTING.ra.deg, DEC_PNT=POINTING.dec.deg, LIVETIME=LIVETIME,
                      TSTART=0.0, TSTOP=LIVETIME, DEADC=1.0, OBS_ID=1, MJDREFI=51544, MJDREFF=0.5)
    return EventList(table)


@pytest.fixture
def observation():
    """Observation at POINTING with Gaussian IRFs and a few events at known places.

    Events: 3 at the target (1.5, 2, 5 TeV, within 0.02 deg), 2 outside the ON
    circle (0.12 and 0.2 deg from the target), 4 at the reflected position
    (0.5 deg south of the pointing: 0.5, 1.5, 2.5, 5 TeV).
    """
    obs = Observation.create(POINTING, obs_id=1, livetime=LIVETIME * u.s, irfs=make_irfs())
    pos_on = TARGET.directional_offset_by(0 * u.deg, [0.0, 0.01, 0.02] * u.deg)
    pos_out = TARGET.directional_offset_by(90 * u.deg, [0.12, 0.2] * u.deg)
    pos_reflected = POINTING.directional_offset_by(180 * u.deg, [0.5, 0.5, 0.5, 0.5] * u.deg)
    positions = SkyCoord(
        np.concatenate([pos_on.ra.deg, pos_out.ra.deg, pos_reflected.ra.deg]),
        np.concatenate([pos_on.dec.deg, pos_out.dec.deg, pos_reflected.dec.deg]), unit="deg",
    )
    energies = [1.5, 2.0, 5.0, 1.5, 1.5, 0.5, 1.5, 2.5, 5.0]
    obs.events = make_events(positions, energies)
    return obs


@pytest.fixture
def on_region():
    return CircleSkyRegion(TARGET, 0.1 * u.deg)


@pytest.fixture
def dataset_empty(on_region):
    energy = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=6, name="energy")
    energy_true = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=30, name="energy_true")
    geom = RegionGeom.create(region=on_region, axes=[energy])
    return SpectrumDataset.create(geom=geom, energy_axis_true=energy_true, name="empty")
