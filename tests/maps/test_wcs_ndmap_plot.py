"""Figures of `WcsNDMap.plot` / `plot_interactive` (issue 7 figure review)."""
import sys
import types

import matplotlib.pyplot as plt
import numpy as np
from astropy.coordinates import SkyCoord

from gammalike.maps import Map, MapAxis, WcsGeom


def _geom(axes=None):
    return WcsGeom.create(skydir=SkyCoord(0, 0, unit="deg", frame="galactic"), binsz=0.05,
                          width=(4.0, 3.0), frame="galactic", axes=axes)


def _cube():
    axis = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=3)
    geom = _geom([axis])
    data = np.arange(3, dtype=float)[:, None, None] + np.ones(geom.data_shape)
    return Map.from_geom(geom, data=data, unit="cm-2 s-1")


def test_colourbar_label_clear_of_next_panel():
    # seed 002's TS-map figure (its 200 x 150 pixel CAR geometry, 15 x 3 inch figure):
    # the middle panel's colour bar label (flux, cm-2 s-1) used to touch the third
    # panel's "Galactic Latitude" (3 px apart); now it is attached to the image
    geom = WcsGeom.create(skydir=SkyCoord(0.4, 0, unit="deg", frame="galactic"), npix=(200, 150),
                          binsz=0.02, frame="galactic", proj="CAR")
    rng = np.random.default_rng(0)
    sqrt_ts = Map.from_geom(geom, data=rng.normal(size=geom.data_shape))
    flux = Map.from_geom(geom, data=rng.uniform(0, 2.2e-11, size=geom.data_shape), unit="cm-2 s-1")
    niter = Map.from_geom(geom, data=rng.integers(2, 6, size=geom.data_shape).astype(float))
    fig, axes = plt.subplots(ncols=3, figsize=(15, 3), subplot_kw={"projection": geom.wcs},
                             gridspec_kw={"left": 0.1, "right": 0.98})
    sqrt_ts.plot(ax=axes[0], vmax=7, add_cbar=True)
    flux.plot(ax=axes[1], add_cbar=True, stretch="sqrt", vmin=0)
    niter.plot(ax=axes[2], add_cbar=True)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    cbar = axes[1].images[0].colorbar
    assert "cm^{-2}" in cbar.ax.get_ylabel()
    gap = axes[2].get_tightbbox(renderer).x0 - cbar.ax.get_tightbbox(renderer).x1
    assert gap > 0.08 * fig.dpi  # pixels: at least 0.08 inch of white between them
    plt.close(fig)


def test_plot_interactive_static_has_title_and_colourbar_label():
    # no ipywidgets / no Jupyter kernel: the summed image, titled with the axis range
    ax = _cube().plot_interactive(add_cbar=True)
    assert ax.get_title() == "energy 0.1 - 100 TeV"
    label = ax.images[0].colorbar.ax.get_ylabel()
    assert "Sum over energy" in label and "cm^{-2}" in label
    # summed over the 3 bins: values 1 + 2 + 3 = 6 everywhere
    assert np.allclose(ax.images[0].get_array(), 6.0, atol=0)


class _Widget:
    def __init__(self, **kwargs):
        self.kwargs = kwargs


def test_plot_interactive_widget_controls(monkeypatch):
    # a stand-in for ipywidgets: the controls are built from the map's axes
    fake = types.ModuleType("ipywidgets")
    fake.SelectionSlider = fake.RadioButtons = fake.Layout = _Widget
    monkeypatch.setitem(sys.modules, "ipywidgets", fake)
    cube = _cube()
    function, controls = cube._interactive_controls(add_cbar=True)
    assert set(controls) == {"energy", "stretch"}
    options = controls["energy"].kwargs["options"]
    assert [value for _, value in options] == [0, 1, 2]
    assert controls["stretch"].kwargs["value"] == "sqrt"
    monkeypatch.setattr(plt, "show", lambda: None)
    ax = function(stretch="linear", energy=2)
    assert ax.get_title() == f"energy: {options[2][0]}"
    assert np.allclose(ax.images[0].get_array(), 3.0, atol=0)  # the third bin, not a sum
