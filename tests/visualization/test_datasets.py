"""Tests of `plot_spectrum_datasets_off_regions`."""
import matplotlib.pyplot as plt
import numpy as np
import astropy.units as u
import pytest
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gammalike.datasets import SpectrumDatasetOnOff
from gammalike.maps import Map, MapAxis, RegionGeom, WcsGeom
from gammalike.visualization import plot_spectrum_datasets_off_regions

CENTER = SkyCoord(83.63, 22.01, unit="deg")


def _dataset(name, n_off):
    axis = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=2, name="energy")
    on = CircleSkyRegion(CENTER, 0.1 * u.deg)
    geom = RegionGeom.create(on, axes=[axis])
    off = [
        CircleSkyRegion(CENTER.directional_offset_by(a * u.deg, 0.5 * u.deg), 0.1 * u.deg)
        for a in np.linspace(0, 360, n_off, endpoint=False)
    ]
    geom_off = RegionGeom.from_regions(off, axes=[axis])
    return SpectrumDatasetOnOff(
        counts=Map.from_geom(geom), counts_off=Map.from_geom(geom_off), acceptance=1, acceptance_off=n_off,
        name=name,
    )


@pytest.fixture
def wcs_ax():
    geom = WcsGeom.create(npix=(50, 50), binsz=0.04, skydir=CENTER, proj="TAN", frame="icrs")
    fig = plt.figure()
    ax = fig.add_subplot(projection=geom.wcs)
    yield ax
    plt.close(fig)


def test_one_colour_per_dataset(wcs_ax):
    datasets = [_dataset("a", 3), _dataset("b", 4)]
    ax = plot_spectrum_datasets_off_regions(datasets, ax=wcs_ax, lw=2)
    artists = list(ax.patches)
    edge = [tuple(a.get_edgecolor()) for a in artists]
    # 3 + 4 OFF circles drawn, two colours (the first two of the colour cycle)
    assert len(artists) == 7
    assert len(set(edge[:3])) == 1 and len(set(edge[3:])) == 1 and edge[0] != edge[3]
    assert all(a.get_linewidth() == 2 for a in artists)
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["a", "b"]


def test_prop_cycle_and_no_legend(wcs_ax):
    from cycler import cycler

    ax = plot_spectrum_datasets_off_regions(
        [_dataset("a", 2)], ax=wcs_ax, prop_cycle=cycler(color=["red"]), legend=False
    )
    assert ax.get_legend() is None
    assert all(tuple(a.get_edgecolor()[:3]) == (1.0, 0.0, 0.0) for a in ax.patches)


def test_needs_wcs_axes():
    fig, ax = plt.subplots()
    with pytest.raises(TypeError, match="WCSAxes"):
        plot_spectrum_datasets_off_regions([_dataset("a", 2)], ax=ax)
    plt.close(fig)
