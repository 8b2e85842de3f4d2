"""Tests of gammalike.maps.region_ndmap (RegionNDMap)."""
import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from numpy.testing import assert_allclose

from gammalike.maps import Map, MapAxis, RegionGeom, RegionNDMap


@pytest.fixture
def energy_axis():
    return MapAxis.from_energy_bounds(0.1, 100, nbin=6, unit="TeV")


@pytest.fixture
def spectrum(energy_axis):
    m = RegionNDMap.create("icrs;circle(83.63, 22.01, 0.11)", axes=[energy_axis], unit="cm-2 s-1")
    m.data = np.arange(1, 7, dtype=float)
    return m


def test_create_shapes(spectrum):
    assert spectrum.data.shape == (6, 1, 1)
    assert spectrum.unit == u.Unit("cm-2 s-1")
    assert spectrum.quantity.unit == u.Unit("cm-2 s-1")
    assert isinstance(Map.from_geom(spectrum.geom), RegionNDMap)
    assert "RegionNDMap" in str(spectrum)


def test_arithmetics(spectrum):
    total = spectrum + spectrum
    assert_allclose(total.data.ravel(), 2 * np.arange(1, 7))
    scaled = spectrum * (2 * u.s)
    assert scaled.unit == u.Unit("cm-2")
    assert_allclose(scaled.data.ravel(), 2 * np.arange(1, 7))
    # unit-aware addition converts the other operand
    other = spectrum.to_unit("m-2 s-1")
    assert_allclose((spectrum + other).data.ravel(), 2 * np.arange(1, 7), rtol=1e-6)
    ratio = spectrum / spectrum
    assert ratio.unit == u.dimensionless_unscaled
    mask = spectrum > 3 * u.Unit("cm-2 s-1")
    assert mask.data.dtype == bool and mask.data.sum() == 3
    assert (~mask).data.sum() == 3
    inplace = spectrum.copy()
    inplace *= 2
    assert_allclose(inplace.data.ravel(), 2 * np.arange(1, 7))
    assert_allclose(np.asarray(spectrum).ravel(), np.arange(1, 7))


def test_sum_over_axes(spectrum):
    summed = spectrum.sum_over_axes()
    assert summed.data.shape == (1, 1, 1)
    assert_allclose(summed.data.sum(), 21)
    reduced = spectrum.reduce_over_axes()
    assert reduced.data.shape == (1, 1)
    assert_allclose(reduced.data, 21)


def test_resample_axis_preserves_sum(spectrum, energy_axis):
    coarse = MapAxis.from_energy_edges(energy_axis.edges[[0, 2, 3, 6]])
    resampled = spectrum.resample_axis(coarse)
    assert resampled.geom.axes["energy"].nbin == 3
    assert_allclose(resampled.data.ravel(), [1 + 2, 3, 4 + 5 + 6])
    assert_allclose(resampled.data.sum(), spectrum.data.sum())
    # weights act as a mask before summing
    weights = np.array([1, 0, 1, 1, 0, 1]).reshape(6, 1, 1)
    masked = spectrum.resample_axis(coarse, weights=weights)
    assert_allclose(masked.data.ravel(), [1, 3, 4 + 6])
    mask = spectrum > 2 * u.Unit("cm-2 s-1")
    any_mask = mask.resample_axis(coarse, ufunc=np.logical_or)
    assert list(any_mask.data.ravel()) == [False, True, True]
    with pytest.raises(ValueError):
        spectrum.resample_axis(MapAxis.from_energy_bounds(0.15, 100, 2, unit="TeV"))


def test_downsample(spectrum):
    down = spectrum.downsample(2, axis_name="energy")
    assert_allclose(down.data.ravel(), [3, 7, 11])
    mean = spectrum.downsample(2, preserve_counts=False, axis_name="energy")
    assert_allclose(mean.data.ravel(), [1.5, 3.5, 5.5])
    up = spectrum.upsample(2, axis_name="energy")
    assert_allclose(up.data.sum(), spectrum.data.sum())


def test_get_interp_fill_by_coord(spectrum, energy_axis):
    center = spectrum.geom.center_skydir
    coords = {"skycoord": center, "energy": energy_axis.center[[1, 4]]}
    assert_allclose(spectrum.get_by_coord(coords), [2, 5])
    # at bin centres the interpolation gives the bin values
    assert_allclose(spectrum.interp_by_coord(coords), [2, 5])
    # halfway in log energy between centres 1 and 2 -> average of the values
    mid = np.sqrt(energy_axis.center[1] * energy_axis.center[2])
    assert_allclose(spectrum.interp_by_coord({"skycoord": center, "energy": mid}), 2.5)
    outside = spectrum.get_by_coord({"skycoord": center, "energy": 1000 * u.TeV})
    assert np.isnan(outside)
    counts = RegionNDMap.from_geom(spectrum.geom)
    events = SkyCoord([83.63, 83.63, 90.0], [22.01, 22.0, 22.0], unit="deg")
    counts.fill_by_coord({"skycoord": events, "energy": [0.2, 0.2, 0.2] * u.TeV})
    # the event at ra=90 is outside the region
    assert_allclose(counts.data.ravel(), [2, 0, 0, 0, 0, 0])
    assert counts.get_by_idx((0, 0, 0)) == 2


def test_write_read_gadf(spectrum, tmp_path):
    path = tmp_path / "spectrum.fits"
    spectrum.write(path)
    read = RegionNDMap.read(path)
    assert read.geom == spectrum.geom
    assert read.unit == spectrum.unit
    assert_allclose(read.data, spectrum.data)
    with pytest.raises(FileExistsError):
        spectrum.write(path)
    spectrum.write(path, overwrite=True)
    # Map.read dispatches table maps to RegionNDMap
    assert isinstance(Map.read(path), RegionNDMap)


def test_write_read_ogip(energy_axis, tmp_path):
    counts = RegionNDMap.create("icrs;circle(83.63, 22.01, 0.11)", axes=[energy_axis])
    counts.data = np.arange(6)
    path = tmp_path / "pha.fits"
    counts.write(path, format="ogip")
    read = RegionNDMap.read(path, format="ogip")
    assert read.geom == counts.geom
    assert_allclose(read.data, counts.data)


def test_write_read_multi_axis(energy_axis, tmp_path):
    rad = MapAxis.from_edges([0, 0.1, 0.2], unit="deg", name="rad")
    m = RegionNDMap.create("galactic;circle(0, 0, 1)", axes=[energy_axis, rad])
    m.data = np.arange(12).reshape(2, 6, 1, 1)
    path = tmp_path / "multi.fits"
    m.write(path)
    read = RegionNDMap.read(path)
    assert read.geom.axes.names == ["energy", "rad"]
    assert_allclose(read.data, m.data)


def test_table_round_trip(spectrum):
    table = spectrum.to_table()
    assert "DATA" in table.colnames and "E_MIN" in table.colnames
    read = RegionNDMap.from_table(table)
    assert read.geom.axes == spectrum.geom.axes
    assert_allclose(read.data, spectrum.data)


@pytest.mark.requires_data
def test_read_ogip_pha_with_region(data_path):
    m = RegionNDMap.read(data_path / "PKS2155-steady/pks2155-304_steady.fits.gz", format="ogip")
    # REGION HDU: circle at (329.72, -30.22), radius 0.11 deg
    assert_allclose(m.geom.center_skydir.ra.deg, 329.72, atol=1e-6)
    assert_allclose(m.geom.region.radius.to_value("deg"), 0.11, rtol=1e-5)
    assert m.geom.axes["energy"].nbin == m.data.shape[0]


def test_plots(spectrum):
    import matplotlib.pyplot as plt

    ax = spectrum.plot()
    assert ax.get_xscale() == "log"
    ax = spectrum.plot_hist()
    assert len(ax.patches) >= 1
    mask = spectrum > 2 * u.Unit("cm-2 s-1")
    fig, ax = plt.subplots()
    mask.plot_mask(ax=ax)
    assert len(ax.patches) == 1  # one contiguous True range
    plt.close("all")


def test_stack_and_copy(spectrum):
    stacked = spectrum.copy()
    stacked.stack(spectrum, weights=np.ones((6, 1, 1)))
    assert_allclose(stacked.data, 2 * spectrum.data)
    copied = spectrum.copy(unit="TeV")
    assert copied.unit == u.TeV
    assert copied.data is not spectrum.data


def test_slice_by_idx(spectrum):
    sliced = spectrum.slice_by_idx({"energy": slice(1, 3)})
    assert sliced.data.shape == (2, 1, 1)
    assert_allclose(sliced.data.ravel(), [2, 3])
    image = spectrum.get_image_by_idx((2,))
    assert image.data.shape == (1, 1)
    assert isinstance(image.geom, RegionGeom)
