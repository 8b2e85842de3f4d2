"""Tests of the demo simulation: the fitted index is unbiased with correct errors."""
import numpy as np
import pytest

from gammalike.cli.demo import TRUE_INDEX, simulate_spectrum_dataset
from gammalike.modeling import Fit
from gammalike.modeling.models import PowerLawSpectralModel, SkyModel


def test_simulation_is_reproducible():
    a = simulate_spectrum_dataset(random_state=3)
    b = simulate_spectrum_dataset(random_state=3)
    assert np.array_equal(a.counts.data, b.counts.data)
    assert np.array_equal(a.counts_off.data, b.counts_off.data)
    c = simulate_spectrum_dataset(random_state=4)
    assert not np.array_equal(a.counts.data, c.counts.data)


@pytest.mark.slow
def test_index_pull_distribution():
    # 200 fake realisations (issue 6 check): the pull of the fitted index has
    # mean within 0.1 of 0 and width within 10 % of 1.
    rng = np.random.default_rng(42)
    pulls = []
    for _ in range(200):
        dataset = simulate_spectrum_dataset(random_state=rng)
        model = SkyModel(spectral_model=PowerLawSpectralModel(index=2.3, amplitude="1e-11 cm-2 s-1 TeV-1"),
                         name="source")
        dataset.models = model
        result = Fit().run(dataset)
        assert result.success
        index = model.spectral_model.index
        pulls.append((index.value - TRUE_INDEX) / index.error)
    pulls = np.array(pulls)
    assert abs(pulls.mean()) < 0.1
    assert abs(pulls.std(ddof=1) - 1) < 0.1


def test_pulls_table_against_truth():
    # pull = (fitted - true) / error, by hand for two parameters of the demo's truth models
    from gammalike.cli.demo import pulls_table, truth_models
    from gammalike.modeling.models import FoVBackgroundModel, Models

    truth = truth_models()
    fitted = Models([m.copy(name=m.name) for m in truth] + [FoVBackgroundModel(dataset_name="d")])
    fitted["point"].spectral_model.alpha.value = 2.57
    fitted["point"].spectral_model.alpha.error = 0.05
    fitted["d-bkg"].spectral_model.norm.value = 0.98
    fitted["d-bkg"].spectral_model.norm.error = 0.01
    table = pulls_table(fitted, truth)
    row = table[(table["model"] == "point") & (table["parameter"] == "alpha")][0]
    assert row["true"] == pytest.approx(2.47)
    assert row["pull"] == pytest.approx((2.57 - 2.47) / 0.05)
    row = table[table["model"] == "d-bkg"][0]
    assert row["pull"] == pytest.approx((0.98 - 1) / 0.01)
    # frozen parameters (reference, tilt) are not listed
    assert "reference" not in list(table["parameter"]) and "tilt" not in list(table["parameter"])
