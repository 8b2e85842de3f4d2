"""Tests of `NaimaSpectralModel` (skipped when naima is not installed)."""
import sys

import matplotlib
import numpy as np
import pytest
from astropy import units as u
from astropy.constants import c

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

naima = pytest.importorskip("naima")
from naima.models import (  # noqa: E402
    ExponentialCutoffBrokenPowerLaw,
    InverseCompton,
    PionDecay,
    PowerLaw,
    Synchrotron,
)

from gammalike.modeling.models import NaimaSpectralModel, SkyModel  # noqa: E402


def _synchrotron():
    return Synchrotron(PowerLaw(amplitude=2e33 / u.eV, e_0=10 * u.TeV, alpha=2.5), B=100 * u.uG)


def test_synchrotron_matches_naima():
    radiative = _synchrotron()
    model = NaimaSpectralModel(radiative, distance=2 * u.kpc)
    assert model.parameters.names == ["amplitude", "e_0", "alpha", "B"]
    assert model.amplitude.is_norm and model.e_0.frozen and not model.B.frozen
    energy = np.logspace(-6, -2, 7) * u.TeV  # 1 eV ... 10 keV
    # the model's dnde equals naima's own flux call, in cm-2 s-1 TeV-1
    expected = radiative.flux(energy, distance=2 * u.kpc).to("cm-2 s-1 TeV-1")
    value = model(energy)
    assert value.unit == u.Unit("cm-2 s-1 TeV-1")
    assert np.allclose(value.value, expected.value, rtol=1e-10, atol=0)
    # 2D energies (integration nodes) keep their shape
    assert model.dnde_float(energy.value.reshape(7, 1)).shape == (7, 1)


def test_parameters_are_applied():
    model = NaimaSpectralModel(_synchrotron(), distance=1 * u.kpc)
    energy = np.array([1e-5, 1e-4]) * u.TeV
    reference = model(energy)
    # amplitude is linear
    model.amplitude.value *= 3
    assert np.allclose(model(energy) / reference, 3, rtol=1e-10, atol=0)
    model.amplitude.value /= 3
    # the magnetic field is the radiative model's parameter: naima with B = 200 uG agrees
    model.B.value = 200
    other = Synchrotron(PowerLaw(amplitude=2e33 / u.eV, e_0=10 * u.TeV, alpha=2.5), B=200 * u.uG)
    assert np.allclose(model(energy).value, other.flux(energy, distance=1 * u.kpc).to_value("cm-2 s-1 TeV-1"), atol=0)
    # distance: inverse square
    far = NaimaSpectralModel(_synchrotron(), distance=2 * u.kpc)
    model.B.value = 100
    assert np.allclose(model(energy) / far(energy), 4, rtol=1e-10, atol=0)


def test_pion_decay_parameters():
    model = NaimaSpectralModel(PionDecay(PowerLaw(1e46 / u.eV, 1 * u.TeV, 2.2), nh=1 * u.cm ** -3))
    assert "nh" in model.parameters.names and "Epmin" not in model.parameters.names
    assert model(1 * u.TeV).value > 0


def test_use_cache():
    model = NaimaSpectralModel(_synchrotron(), use_cache=True)
    energy = np.array([1e-5, 1e-4]) * u.TeV
    a = model(energy)
    assert np.array_equal(model(energy), a)
    model.alpha.value = 2.6
    assert not np.allclose(model(energy), a, atol=0)


def _seed_000_ic():
    # seed 000's construction: ECBPL electrons, IC on CMB + SSC + FIR
    ecbpl = ExponentialCutoffBrokenPowerLaw(
        amplitude=5.5e35 / u.eV, e_0=1 * u.TeV, e_break=2.5 * u.TeV, alpha_1=2.2, alpha_2=3.7,
        e_cutoff=34.97 * u.PeV, beta=2.017,
    )
    syn = Synchrotron(ecbpl, B=125 * u.uG, Eemax=50 * u.PeV, Eemin=0.1 * u.GeV)
    radius = 2.1 * u.pc
    esy = np.logspace(-7, 9, 100) * u.eV
    lsy = syn.flux(esy, distance=0 * u.cm)
    phn_sy = lsy / (4 * np.pi * radius ** 2 * c) * 2.24
    ic = InverseCompton(
        ecbpl,
        seed_photon_fields=["CMB", ["SSC", esy, phn_sy], ["FIR", 2.5 * u.K, 0.15 * u.eV / u.cm ** 3]],
        Eemax=50 * u.PeV, Eemin=0.1 * u.GeV,
    )
    return ic, syn, radius


def test_seed_000_inverse_compton_ssc():
    ic, syn, radius = _seed_000_ic()
    energy = np.logspace(-1, 2, 6) * u.TeV
    expected = ic.flux(energy, distance=2 * u.kpc).to_value("cm-2 s-1 TeV-1")
    model = NaimaSpectralModel(radiative_model=ic, distance=2 * u.kpc,
                               nested_models={"SSC": {"B": syn.B, "radius": radius}})
    assert model.parameters.names == ["amplitude", "e_0", "e_break", "alpha_1", "alpha_2", "e_cutoff", "beta",
                                      "B", "radius"]
    # the SSC field recomputed from B and radius reproduces the seed's own field
    assert np.allclose(model(energy).value, expected, rtol=1e-6, atol=0)
    # a stronger field gives more synchrotron photons, hence more SSC emission
    ssc = NaimaSpectralModel(radiative_model=ic, seed="SSC", distance=2 * u.kpc,
                             nested_models={"SSC": {"B": syn.B, "radius": radius}})
    before = ssc(energy)
    b_value = ssc.B.value
    ssc.B.value = 2 * b_value
    assert np.all(ssc(energy) > before)
    # per-seed contributions add up to the total (the seed's plotting loop)
    ssc.B.value = b_value
    total = sum(
        (ssc if seed == "SSC" else NaimaSpectralModel(radiative_model=ic, seed=seed, distance=2 * u.kpc))(energy).value
        for seed in ic.seed_photon_fields.keys()
    )
    assert np.allclose(total, expected, rtol=1e-6, atol=0)
    # the seed's plot calls
    kwargs = {"energy_bounds": [0.1, 100] * u.TeV, "energy_power": 2}
    ax = model.plot(label="Naima", n_points=10, **kwargs)
    assert len(ax.lines) == 1 and np.all(np.isfinite(ax.lines[0].get_ydata()))
    plt.close("all")
    # usable in a SkyModel; integral by quadrature is positive
    sky = SkyModel(spectral_model=model, name="crab")
    assert sky.spectral_model.integral(1 * u.TeV, 10 * u.TeV).value > 0


def test_errors():
    model = NaimaSpectralModel(_synchrotron())
    with pytest.raises(NotImplementedError, match="YAML"):
        model.to_dict()
    with pytest.raises(ValueError, match="seed"):
        NaimaSpectralModel(_synchrotron(), seed="CMB")
    with pytest.raises(ValueError, match="SSC"):
        NaimaSpectralModel(_synchrotron(), nested_models={"SSC": {"B": 1 * u.uG, "radius": 1 * u.pc}})
    with pytest.raises(TypeError, match="naima"):
        NaimaSpectralModel("not a model")


def test_missing_naima_message(monkeypatch):
    # without naima the constructor says how to install it
    monkeypatch.setitem(sys.modules, "naima", None)
    with pytest.raises(ImportError, match="pip install naima"):
        NaimaSpectralModel(object())
