"""Layout of the spectrum-dataset plots (`gammalike.datasets.plots`), issue 7 figure review."""
import matplotlib.pyplot as plt

from gammalike.modeling.models import PowerLawSpectralModel, SkyModel


def test_plot_fit_energy_label_only_under_residuals(make_onoff_dataset):
    dataset = make_onoff_dataset()
    dataset.models = [SkyModel(PowerLawSpectralModel(), name="source")]
    ax_spectrum, ax_residuals = dataset.plot_fit()
    # seed 003 adds the masks to the top panel afterwards; that must not bring the label back
    dataset.plot_masks(ax=ax_spectrum)
    ax_spectrum.figure.canvas.draw()
    assert not ax_spectrum.xaxis.label.get_visible()
    assert not any(tick.label1.get_visible() for tick in ax_spectrum.xaxis.get_major_ticks())
    assert ax_residuals.xaxis.label.get_visible() and "Energy" in ax_residuals.get_xlabel()
    assert any(tick.label1.get_visible() for tick in ax_residuals.xaxis.get_major_ticks())
    plt.close("all")
