"""`MapDataset.peek` figure (`gammalike.datasets.map_plots`), issue 7 figure review."""
import matplotlib.pyplot as plt
import numpy as np
from astropy.coordinates import SkyCoord

from gammalike.datasets.map import MapDataset
from gammalike.maps import Map, MapAxis, WcsGeom


def _dataset():
    axis = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=2)
    geom = WcsGeom.create(skydir=SkyCoord(0, 0, unit="deg", frame="galactic"), binsz=0.1,
                          width=(4.0, 3.0), frame="galactic", axes=[axis])
    geom_true = geom.to_image().to_cube([axis.copy(name="energy_true")])
    lon = (np.asarray(geom.get_coord().lon) + 180) % 360 - 180  # -2 .. 2 deg
    rng = np.random.default_rng(1)
    # background with a gradient between 1 and 2 counts inside the safe region
    background = np.broadcast_to(1.5 + 0.25 * lon, geom.data_shape)
    mask = np.ones(geom.data_shape, dtype=bool)
    mask[..., :5] = False  # unsafe border (e.g. Fermi-LAT's) where the masked maps are 0
    return MapDataset(
        counts=Map.from_geom(geom, data=rng.poisson(background).astype(float)),
        background=Map.from_geom(geom, data=background.copy()),
        exposure=Map.from_geom(geom_true, data=np.full(geom_true.data_shape, 1e10), unit="m2 s"),
        mask_safe=Map.from_geom(geom, data=mask, dtype=bool),
        name="test",
    )


def test_peek_colourbars_labelled_scaled_and_clear_of_neighbours():
    axes = _dataset().peek()
    fig = axes[0].figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    image_axes = [ax for ax in fig.axes if ax.images]
    assert len(image_axes) == 4
    colorbars = [im.colorbar for ax in image_axes for im in ax.images]
    labels = [cbar.ax.get_ylabel() for cbar in colorbars]
    assert all(labels) and "exposure" in labels[2] and "m^{2}" in labels[2]
    # background: the colour scale spans the safe pixels (1.0 .. 2.0 summed over 2 bins),
    # not the zeros of the unsafe border that made the panel look flat
    background_norm = image_axes[3].images[0].norm
    assert background_norm.vmin > 1.0
    # left colour bars (with their labels) end before the right panels' axis labels begin
    for left, right in ((0, 1), (2, 3)):
        cbar_box = colorbars[left].ax.get_tightbbox(renderer)
        right_box = image_axes[right].get_tightbbox(renderer)
        assert cbar_box.x1 < right_box.x0
    plt.close(fig)
