import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits
from numpy.testing import assert_allclose

from gammalike.irf import EDispKernel
from gammalike.maps import MapAxis


@pytest.fixture
def axes():
    energy_axis_true = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=30, name="energy_true")
    energy_axis = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=15)
    return energy_axis_true, energy_axis


def test_diagonal_response_identity():
    axis = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=4, name="energy_true")
    edisp = EDispKernel.from_diagonal_response(axis)
    # same binning: the identity matrix
    assert_allclose(edisp.pdf_matrix, np.eye(4))
    assert edisp.energy_axis.name == "energy"


def test_diagonal_response_coarser_reco(axes):
    energy_axis_true, energy_axis = axes
    edisp = EDispKernel.from_diagonal_response(energy_axis_true, energy_axis)
    # two true bins per reco bin, each fully inside one reco bin
    assert edisp.pdf_matrix.shape == (30, 15)
    assert_allclose(edisp.pdf_matrix.sum(axis=1), 1)
    assert_allclose(edisp.pdf_matrix[:2, 0], 1)
    assert_allclose(edisp.pdf_matrix[2, 0], 0)


def test_diagonal_response_split_bins():
    # a true bin [1, 4] TeV over reco bins [1, 2], [2, 4]: half each in log energy
    e_true = MapAxis.from_energy_edges([1, 4] * u.TeV, name="energy_true")
    e_reco = MapAxis.from_energy_edges([1, 2, 4] * u.TeV)
    edisp = EDispKernel.from_diagonal_response(e_true, e_reco)
    assert_allclose(edisp.pdf_matrix, [[0.5, 0.5]])


def test_from_gauss_bias_resolution():
    energy_axis_true = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=5, name="energy_true")
    energy_axis = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=600)
    edisp = EDispKernel.from_gauss(energy_axis_true, energy_axis, sigma=0.1, bias=0.05)
    # fine reco bins and the full Gaussian inside: moments are those of N(1.05, 0.1)
    assert_allclose(edisp.pdf_matrix.sum(axis=1), 1, atol=1e-5)
    assert_allclose(edisp.get_bias([1.5, 5] * u.TeV), 0.05, atol=1e-3)
    assert_allclose(edisp.get_resolution([1.5, 5] * u.TeV), 0.1, rtol=5e-3)


def test_from_gauss_array_bias():
    energy_axis_true = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=3, name="energy_true")
    energy_axis = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=600)
    edisp = EDispKernel.from_gauss(energy_axis_true, energy_axis, sigma=0.1, bias=[0, 0.1, -0.1])
    assert_allclose(edisp.get_bias(energy_axis_true.center), [0, 0.1, -0.1], atol=2e-3)


def test_axes_validation(axes):
    energy_axis_true, energy_axis = axes
    with pytest.raises(ValueError, match="energy_true"):
        EDispKernel(axes=[energy_axis, energy_axis_true], data=0)
    with pytest.raises(ValueError, match="shape"):
        edisp = EDispKernel(axes=[energy_axis_true, energy_axis], data=0)
        edisp.data = np.zeros((3, 3))


def test_rmf_round_trip(axes, tmp_path):
    energy_axis_true, energy_axis = axes
    edisp = EDispKernel.from_gauss(energy_axis_true, energy_axis, sigma=0.2, bias=0.1)
    # rows without any entry must survive too
    edisp.data[:3] = 0
    filename = tmp_path / "rmf.fits"
    edisp.write(filename)
    edisp2 = EDispKernel.read(filename)
    # MATRIX is written as float64 ("PD" column): the round trip is exact
    assert np.array_equal(edisp2.pdf_matrix, edisp.pdf_matrix)
    assert_allclose(edisp2.energy_axis_true.edges, energy_axis_true.edges, rtol=1e-12)
    assert_allclose(edisp2.energy_axis.edges, energy_axis.edges, rtol=1e-12)
    assert edisp2 == edisp


def test_write_refuses_overwrite(axes, tmp_path):
    edisp = EDispKernel.from_diagonal_response(*axes)
    filename = tmp_path / "rmf.fits"
    filename.write_text("old")
    with pytest.raises(FileExistsError):
        edisp.write(filename)
    assert filename.read_text() == "old"
    edisp.write(filename, overwrite=True)
    assert EDispKernel.read(filename) == edisp


def test_read_tlmin_and_fixed_columns(tmp_path):
    """Channels numbered from 1 (TLMIN4 = 1), fixed-length F_CHAN/N_CHAN columns, two groups."""
    e_true = np.array([1.0, 2.0, 4.0]) * 1e9  # keV
    e_reco = np.array([1.0, 2.0, 4.0, 8.0]) * 1e9
    matrix = fits.Column("MATRIX", "PE()", array=[np.array([0.5, 0.3], "f4"), np.array([0.2, 0.7], "f4")])
    cols = [
        fits.Column("ENERG_LO", "E", unit="keV", array=e_true[:-1]),
        fits.Column("ENERG_HI", "E", unit="keV", array=e_true[1:]),
        fits.Column("N_GRP", "I", array=[1, 2]),
        fits.Column("F_CHAN", "2I", array=[[1, 0], [1, 3]]),
        fits.Column("N_CHAN", "2I", array=[[2, 0], [1, 1]]),
        matrix,
    ]
    hdu = fits.BinTableHDU.from_columns(cols, name="MATRIX")
    hdu.header["TLMIN4"] = 1
    ebounds = fits.BinTableHDU.from_columns(
        [
            fits.Column("CHANNEL", "I", array=[1, 2, 3]),
            fits.Column("E_MIN", "E", unit="keV", array=e_reco[:-1]),
            fits.Column("E_MAX", "E", unit="keV", array=e_reco[1:]),
        ],
        name="EBOUNDS",
    )
    filename = tmp_path / "rmf.fits"
    fits.HDUList([fits.PrimaryHDU(), hdu, ebounds]).writeto(filename)
    edisp = EDispKernel.read(filename)
    # row 0: channels 1-2 -> bins 0, 1; row 1: channel 1 -> bin 0, channel 3 -> bin 2
    assert_allclose(edisp.pdf_matrix, [[0.5, 0.3, 0], [0.2, 0, 0.7]], rtol=1e-6)
    # keV converted to TeV
    assert_allclose(edisp.energy_axis.edges.to_value("TeV"), [1, 2, 4, 8])


def test_read_missing_hdu(tmp_path):
    filename = tmp_path / "bad.fits"
    fits.HDUList([fits.PrimaryHDU()]).writeto(filename)
    with pytest.raises(KeyError, match="MATRIX"):
        EDispKernel.read(filename)
    with pytest.raises(FileNotFoundError, match="nothere"):
        EDispKernel.read(tmp_path / "nothere.fits")


def test_to_image_and_slice(axes):
    edisp = EDispKernel.from_diagonal_response(*axes)
    image = edisp.to_image()
    assert image.pdf_matrix.shape == (30, 1)
    assert_allclose(image.pdf_matrix, 1)
    sliced = edisp.slice_by_idx({"energy": slice(0, 5)})
    assert sliced.pdf_matrix.shape == (30, 5)
    assert sliced.energy_axis.nbin == 5


def test_plots(axes):
    import matplotlib.pyplot as plt

    edisp = EDispKernel.from_gauss(*axes, sigma=0.1, bias=0)
    ax = edisp.plot_matrix(add_cbar=True)
    assert ax.get_xscale() == "log"
    edisp.plot_bias()
    axes_peek = edisp.peek()
    assert len(axes_peek) == 3
    plt.close("all")


@pytest.mark.requires_data
def test_read_hess_rmf(data_path):
    edisp = EDispKernel.read(data_path / "joint-crab/spectra/hess/rmf_obs23523.fits")
    assert edisp.pdf_matrix.shape == (80, 80)
    # header: NUMELT = 1257 non-zero elements
    assert np.count_nonzero(edisp.pdf_matrix) <= 1257
    # below threshold rows are empty, above they are normalised probabilities
    assert_allclose(edisp.pdf_matrix.sum(axis=1)[:20], 0)
    assert_allclose(edisp.pdf_matrix.sum(axis=1)[25:60], 1, atol=1e-4)
    assert_allclose(edisp.energy_axis.edges[[0, -1]].to_value("TeV"), [0.01, 100])
