"""ParameterEstimator (gammalike.estimators.parameter).

Expected values: for an amplitude with everything else frozen the likelihood
is the norm kernel's (the amplitude is ``norm * amplitude_0``), so the
kernel's best fit, crossings and TS are the reference; with ``reoptimize``
the profile likelihood is checked against its definition.
"""
import numpy as np
import pytest
from astropy import units as u

from gammalike.estimators.norm_kernel import cash_term, estimate_norm
from gammalike.estimators.parameter import ParameterEstimator
from gammalike.modeling import Fit

from .test_flux_points_estimator import make_cash


@pytest.fixture
def dataset():
    return make_cash(seed=4)


def test_amplitude_matches_norm_kernel(dataset):
    spectral = dataset.models["src"].spectral_model
    spectral.index.frozen = True
    amplitude0 = spectral.amplitude.value
    template = dataset.npred_signal().data.ravel()
    term = cash_term(dataset.counts.data.ravel()[None], template[None], dataset.background.data.ravel()[None])
    kernel = estimate_norm(term, selection_optional=["errn-errp", "ul"])

    estimator = ParameterEstimator(selection_optional="all", null_value=0, n_scan_values=7,
                                   reoptimize=False)
    result = estimator.run([dataset], spectral.amplitude)
    err = kernel["norm_err"][0] * amplitude0
    assert result["amplitude"] == pytest.approx(kernel["norm"][0] * amplitude0, abs=1e-2 * err)
    assert result["amplitude_err"] == pytest.approx(err, rel=1e-2, abs=0)
    assert result["amplitude_errn"] == pytest.approx(kernel["norm_errn"][0] * amplitude0, rel=1e-2, abs=0)
    assert result["amplitude_errp"] == pytest.approx(kernel["norm_errp"][0] * amplitude0, rel=1e-2, abs=0)
    assert result["amplitude_ul"] == pytest.approx(kernel["norm_ul"][0] * amplitude0, rel=1e-2, abs=0)
    assert result["ts"] == pytest.approx(kernel["ts"][0], rel=1e-3, abs=0)
    assert result["success"]
    assert result["amplitude_scan"].shape == (7,) and result["stat_scan"].shape == (7,)
    # the scan is centred on the best fit: its minimum is the middle value
    assert np.argmin(result["stat_scan"]) == 3
    assert result["npred"].shape == (1,)
    # frozen states restored, model left at the best fit
    assert spectral.index.frozen and not spectral.amplitude.frozen
    assert spectral.amplitude.value == pytest.approx(result["amplitude"], rel=1e-6, abs=0)


def test_reoptimize_ts_is_profile(dataset):
    spectral = dataset.models["src"].spectral_model
    result = ParameterEstimator(null_value=0.5e-11).run([dataset], "amplitude")
    # TS against amplitude = 0.5e-11 with the index re-optimised, by hand
    stat_best = Fit().optimize([dataset]).total_stat
    spectral.amplitude.value = 0.5e-11
    spectral.amplitude.frozen = True
    stat_null = Fit().optimize([dataset]).total_stat
    assert result["ts"] == pytest.approx(stat_null - stat_best, abs=2e-3)
    assert result["stat"] == pytest.approx(stat_best, abs=1e-3)


def test_options_validated():
    with pytest.raises(ValueError, match="selection_optional"):
        ParameterEstimator(selection_optional=["foo"])
    with pytest.raises(ValueError, match="n_sigma"):
        ParameterEstimator(n_sigma=-1)


def test_unknown_parameter(dataset):
    with pytest.raises(ValueError, match="parameters named"):
        ParameterEstimator().run([dataset], "nope")
