"""`SpectrumDatasetOnOff`: ON/OFF spectrum with the background profiled (wstat).

The background is measured by ``counts_off`` in an OFF region with
``acceptance_off / acceptance`` times the ON acceptance, ``alpha =
acceptance / acceptance_off``.  The fit statistic is `~gammalike.stats.wstat`:
the mean background of each bin is profiled analytically for the current
signal prediction, and `npred_background` is that profiled mean.
"""
import warnings

import numpy as np
from astropy import units as u
from astropy.io import fits

from ..data import GTI
from ..maps import RegionGeom, RegionNDMap
from ..stats import WStatCountsStatistic, cash, get_wstat_mu_bkg, wstat
from .ogip import OGIPReader, OGIPWriter, gti_to_hdu
from .evaluation import to_map as _to_map
from .evaluation import values as _values
from ..utils.random import get_random_state
from .spectrum import SpectrumDataset

__all__ = ["SpectrumDatasetOnOff"]


class SpectrumDatasetOnOff(SpectrumDataset):
    """Spectrum with ON and OFF counts (W statistic).

    Parameters
    ----------
    models : `~gammalike.modeling.models.SkyModel`, list or `Models`, optional
        Models.
    counts : `~gammalike.maps.RegionNDMap`
        ON counts per reco-energy bin.
    counts_off : `~gammalike.maps.RegionNDMap`
        OFF counts per reco-energy bin.
    exposure : `~gammalike.maps.RegionNDMap`
        Exposure per true-energy bin.
    edisp : `~gammalike.irf.EDispKernel`, optional
        Energy dispersion.
    mask_safe, mask_fit : `~gammalike.maps.RegionNDMap` of bool, optional
        Bins used in the statistic.
    acceptance, acceptance_off : `~gammalike.maps.RegionNDMap`, float or array, optional
        Relative ON and OFF acceptances (default 1): ``alpha = acceptance / acceptance_off``.
    name : str, optional
        Name (random if None).
    meta_table, gti, meta :
        See `SpectrumDataset`.
    """

    tag = "SpectrumDatasetOnOff"
    stat_type = "wstat"
    _cache_inputs = SpectrumDataset._cache_inputs + ("counts_off", "acceptance", "acceptance_off")
    _has_off = True
    _reco_maps = ("counts", "counts_off", "acceptance", "acceptance_off", "mask_safe", "mask_fit")

    def __init__(self, models=None, counts=None, counts_off=None, exposure=None, edisp=None,
                 mask_safe=None, mask_fit=None, acceptance=None, acceptance_off=None,
                 name=None, meta_table=None, gti=None, meta=None):
        self.__dict__["counts_off"] = None
        super().__init__(
            models=models, counts=counts, exposure=exposure, background=None, edisp=edisp,
            mask_safe=mask_safe, mask_fit=mask_fit, name=name, meta_table=meta_table, gti=gti,
            meta=meta,
        )
        self.counts_off = counts_off
        self.acceptance = acceptance
        self.acceptance_off = acceptance_off

    def __setattr__(self, key, value):
        if key in ("acceptance", "acceptance_off", "counts_off") and value is not None:
            value = self._as_map(value, key)
        elif key in ("acceptance", "acceptance_off") and value is None and self._geom is not None:
            value = self._as_map(1.0, key)
        super().__setattr__(key, value)

    def _as_map(self, value, what):
        if isinstance(value, RegionNDMap):
            return value
        geom = self._geom
        if geom is None:
            raise ValueError(f"{self.name}: set counts before {what} given as a number or array")
        values = np.broadcast_to(np.asarray(u.Quantity(value).to_value(""), dtype=float), geom.data_shape)
        return _to_map(geom, values.copy())

    # -- background -----------------------------------------------------
    @property
    def background(self):
        """Background estimate ``alpha * counts_off`` (`~gammalike.maps.RegionNDMap`, or None)."""
        if self.counts_off is None:
            return None
        return _to_map(self._geom, self._alpha_array() * _values(self.counts_off))

    @background.setter
    def background(self, value):
        if value is not None:
            raise AttributeError(
                f"{self.name}: the background of an ON/OFF dataset is alpha * counts_off; "
                "set counts_off, acceptance and acceptance_off instead"
            )

    @property
    def alpha(self):
        """Exposure ratio ``acceptance / acceptance_off`` (`~gammalike.maps.RegionNDMap`)."""
        return _to_map(self._geom, self._alpha_array())

    def _alpha_array(self):
        prep = self._prepare()
        alpha = prep.get("alpha")
        if alpha is None:
            acceptance = _values(self.acceptance).astype(np.float64)
            acceptance_off = _values(self.acceptance_off).astype(np.float64)
            alpha = np.zeros(acceptance.shape)
            # alpha = 0 where the OFF acceptance is zero or infinite
            np.divide(acceptance, acceptance_off, out=alpha,
                      where=(acceptance_off > 0) & np.isfinite(acceptance_off))
            prep["alpha"] = alpha
        return alpha

    # -- statistic ------------------------------------------------------
    def _npred_background_array(self):
        if self.counts_off is None:
            return np.zeros(int(np.prod(self._geom.data_shape)))
        return get_wstat_mu_bkg(
            _values(self.counts), _values(self.counts_off), self._alpha_array(),
            self._npred_signal_array(),
        )

    def _stat_array(self):
        mu_sig = self._npred_signal_array()
        if self.counts_off is None:
            return cash(_values(self.counts), mu_sig)
        return wstat(_values(self.counts), _values(self.counts_off), self._alpha_array(), mu_sig)

    def stat_sum(self):
        """Total W statistic over the bins in `mask` (the fit's hot path)."""
        mu_sig = self._npred_signal_array()
        n_on = _values(self.counts)
        mask = self._mask_array()
        if self.counts_off is None:
            if mask is not None:
                n_on, mu_sig = n_on[mask], mu_sig[mask]
            return float(cash(n_on, mu_sig).sum())
        n_off, alpha = _values(self.counts_off), self._alpha_array()
        if mask is not None:
            n_on, n_off, alpha, mu_sig = n_on[mask], n_off[mask], alpha[mask], mu_sig[mask]
        return float(wstat(n_on, n_off, alpha, mu_sig).sum())

    # -- info -----------------------------------------------------------
    def _info_background(self):
        if self.counts_off is None:
            return np.zeros(int(np.prod(self._geom.data_shape)))
        return self._alpha_array() * _values(self.counts_off)

    def _info_counts_statistic(self, mask):
        n_on = _values(self.counts)[mask].sum()
        if self.counts_off is None:
            return WStatCountsStatistic(n_on, 0.0, 0.0)
        n_off = _values(self.counts_off)[mask].sum()
        background = self._info_background()[mask].sum()
        alpha = background / n_off if n_off > 0 else 0.0
        return WStatCountsStatistic(n_on, n_off, alpha)

    def info_dict(self, in_safe_data_range=True):
        """`SpectrumDataset.info_dict` plus counts_off, acceptance, acceptance_off, alpha.

        Summed over the safe bins, the acceptance is 1 and ``acceptance_off =
        counts_off / background`` (the OFF-count weighted mean alpha).
        """
        info = super().info_dict(in_safe_data_range=in_safe_data_range)
        size = int(np.prod(self._geom.data_shape))
        mask = _values(self.mask_safe) if (in_safe_data_range and self.mask_safe is not None) else np.ones(size, bool)
        counts_off = float(_values(self.counts_off)[mask].sum()) if self.counts_off is not None else np.nan
        info["counts_off"] = counts_off
        info["acceptance"] = 1.0
        background = info["background"]
        info["acceptance_off"] = counts_off / background if background > 0 else np.nan
        info["alpha"] = background / counts_off if counts_off > 0 else np.nan
        return info

    def _str_extra(self, info):
        return [
            "",
            f"{'Total counts_off':<32}: {info['counts_off']:.0f}",
            f"{'Acceptance':<32}: {info['acceptance']:.0f}",
            f"{'Acceptance off':<32}: {info['acceptance_off']:.0f}",
        ]

    # -- stacking -------------------------------------------------------
    def _empty_like(self, name=None):
        base = super()._empty_like(name=name)
        geom = self._geom
        zeros = np.zeros(geom.data_shape)
        return SpectrumDatasetOnOff(
            counts=base.counts, counts_off=_to_map(geom, zeros) if self.counts_off is not None else None,
            exposure=base.exposure, edisp=base.edisp, mask_safe=base.mask_safe,
            acceptance=1.0, acceptance_off=1.0, name=base.name,
        )

    def _stack_extra(self, other, mask_self, mask_other):
        """OFF counts summed; ``alpha = sum(alpha_i n_off_i) / sum(n_off_i)`` per bin.

        The stacked acceptance is 1 and ``acceptance_off = 1 / alpha``, so the
        stacked background ``alpha * n_off`` is the sum of the backgrounds.
        Bins without OFF counts take the OFF-count weighted alpha of the whole
        spectrum, ``sum(background) / sum(n_off)``.
        """
        if not isinstance(other, SpectrumDatasetOnOff):
            raise TypeError(f"{self.name}: cannot stack a {type(other).__name__} into an ON/OFF dataset")
        if self.counts_off is None or other.counts_off is None:
            raise ValueError(f"Cannot stack {other.name!r} into {self.name!r}: counts_off missing")
        alpha_self, alpha_other = self._alpha_array(), other._alpha_array()
        off_self = _values(self.counts_off) * mask_self
        off_other = _values(other.counts_off) * mask_other
        n_off = off_self + off_other
        background = alpha_self * off_self + alpha_other * off_other
        # bins without OFF counts: the OFF-count weighted alpha of the whole spectrum
        fallback = background.sum() / n_off.sum() if n_off.sum() > 0 else 1.0
        with np.errstate(invalid="ignore", divide="ignore"):
            alpha = np.where(n_off > 0, background / n_off, fallback)
            acceptance_off = np.where(alpha > 0, 1 / alpha, np.inf)
        geom = self._geom
        self.counts_off = _to_map(geom, n_off, unit=self.counts_off.unit)
        self.acceptance = _to_map(geom, np.ones(n_off.shape))
        self.acceptance_off = _to_map(geom, acceptance_off)

    # -- conversions ----------------------------------------------------
    @classmethod
    def from_spectrum_dataset(cls, dataset, acceptance, acceptance_off, counts_off=None, name=None):
        """ON/OFF dataset from a `SpectrumDataset`.

        Without ``counts_off`` they are computed from the dataset's background as
        ``background * acceptance_off / acceptance``.
        """
        new = cls(
            counts=dataset.counts, exposure=dataset.exposure, edisp=dataset.edisp,
            mask_safe=dataset.mask_safe, mask_fit=dataset.mask_fit, name=name or dataset.name,
            meta_table=dataset.meta_table, gti=dataset.gti, meta=dict(dataset.meta),
        )
        new.acceptance = acceptance
        new.acceptance_off = acceptance_off
        if counts_off is None:
            if dataset.background is None:
                raise ValueError(
                    f"{dataset.name}: give counts_off or a dataset with a background"
                )
            with np.errstate(invalid="ignore", divide="ignore"):
                values = _values(dataset.background) / new._alpha_array()
            counts_off = _to_map(new._geom, np.nan_to_num(values))
        new.counts_off = counts_off
        if dataset.models is not None:
            new.models = dataset.models
        return new

    def fake(self, npred_background, random_state="random-seed"):
        """Replace ON and OFF counts by Poisson realisations.

        ON counts are drawn from ``npred_signal + npred_background`` and OFF
        counts from ``npred_background / alpha``: the OFF measurement sees the
        same background rate over ``1 / alpha`` times the acceptance.

        Parameters
        ----------
        npred_background : `~gammalike.maps.RegionNDMap` or array
            Expected background counts in the ON region.
        random_state : int, `~numpy.random.Generator` or "random-seed"
            Seed or generator (see `~gammalike.utils.random.get_random_state`).
        """
        rng = get_random_state(random_state)
        mu_bkg = np.asarray(_values(npred_background) if isinstance(npred_background, RegionNDMap)
                            else npred_background, dtype=float).reshape(-1)
        alpha = self._alpha_array()
        if np.any(alpha <= 0):
            raise ValueError(f"{self.name}: fake needs alpha > 0 in every bin (acceptance_off set?)")
        mu_on = np.clip(self._npred_signal_array() + mu_bkg, 0, None)
        counts = rng.poisson(mu_on).astype(float)
        counts_off = rng.poisson(np.clip(mu_bkg / alpha, 0, None)).astype(float)
        self.counts = _to_map(self._geom, counts)
        self.counts_off = _to_map(self._geom, counts_off)

    def to_spectrum_dataset(self, name=None):
        """`SpectrumDataset` with ``background = alpha * counts_off``."""
        return SpectrumDataset(
            counts=self.counts, exposure=self.exposure, background=self.background,
            edisp=self.edisp, mask_safe=self.mask_safe, mask_fit=self.mask_fit,
            name=name or self.name, meta_table=self.meta_table, gti=self.gti, meta=dict(self.meta),
        )

    # -- I/O ------------------------------------------------------------
    def _yaml_filename(self):
        return f"pha_obs{self.name}.fits"

    @classmethod
    def read(cls, filename, format="ogip", name=None, **kwargs):
        """Read from OGIP files (PHA naming its ARF, RMF and BKG files).

        Parameters
        ----------
        filename : str or `~pathlib.Path`
            PHA file.
        format : {"ogip", "ogip-sherpa", "gadf"}
            OGIP files, or the single-file layout of `SpectrumDataset.write`.
        name : str, optional
            Dataset name (default: the PHA's OBS_ID).
        """
        if format == "gadf":
            return super().read(filename, format="gadf", name=name)
        if format not in ("ogip", "ogip-sherpa"):
            raise ValueError(
                f"SpectrumDatasetOnOff.read: unknown format {format!r}, expected 'ogip' or 'gadf'"
            )
        return cls._from_ogip_data(OGIPReader(filename).read(), name=name)

    @classmethod
    def from_ogip_files(cls, filename, name=None):
        """Alias of ``read(filename, format="ogip")``."""
        return cls.read(filename, format="ogip", name=name)

    @classmethod
    def _from_ogip_data(cls, data, name=None):
        """Dataset from the dictionary returned by `OGIPReader.read`."""
        energy_axis = data["energy_axis"]
        geom = _region_geom(data.get("region_hdu"), energy_axis, data.get("filename", ""))
        geom_true = geom.to_image().to_cube([data["energy_axis_true"]])
        livetime = data["livetime"]
        exposure = data.get("exposure")
        if exposure is None:
            exposure = data["aeff"] * livetime
        exposure = _to_map(geom_true, exposure, unit="cm2 s", meta={"livetime": livetime * u.s})
        counts = _to_map(geom, data["counts"])
        dataset = cls(
            counts=counts,
            exposure=exposure,
            edisp=data["edisp"],
            mask_safe=_to_map(geom, data["mask_safe"], dtype=bool),
            name=name if name is not None else data["name"],
            gti=GTI(data["gti"]) if data.get("gti") is not None else None,
            meta=data.get("meta"),
        )
        dataset.acceptance = _to_map(geom, data["acceptance"])
        if data["counts_off"] is not None:
            dataset.counts_off = _to_map(geom, data["counts_off"])
            dataset.acceptance_off = _to_map(geom, data["acceptance_off"])
        return dataset

    def write(self, filename, overwrite=False, format="ogip", checksum=False):
        """Write OGIP files: the PHA and ``<stem>_arf``, ``_rmf``, ``_bkg`` next to it.

        ``obs_1.fits.gz`` is written with ``obs_1_arf.fits.gz`` etc.; the PHA
        header keywords ANCRFILE, RESPFILE and BACKFILE name them.
        """
        if format == "gadf":
            return super().write(filename, overwrite=overwrite, format="gadf", checksum=checksum)
        if format not in ("ogip", "ogip-sherpa"):
            raise ValueError(
                f"SpectrumDatasetOnOff.write: unknown format {format!r}, expected 'ogip' or 'gadf'"
            )
        livetime = self.livetime.to_value("s")
        if not np.isfinite(livetime) or livetime <= 0:
            raise ValueError(
                f"{self.name}: cannot write OGIP files without a livetime (exposure.meta['livetime'])"
            )
        exposure = _values(self.exposure) * u.Unit(self.exposure.unit).to("cm2 s")
        writer = OGIPWriter(filename, overwrite=overwrite)
        region_hdu = _region_hdu(self._geom)
        writer.write(
            name=self.name,
            counts=_values(self.counts),
            mask_safe=_values(self.mask_safe) if self.mask_safe is not None else np.ones(_values(self.counts).size, bool),
            acceptance=_values(self.acceptance),
            livetime=livetime,
            energy_axis=self.energy_axis,
            aeff=exposure / livetime,
            exposure=exposure,
            energy_axis_true=self.energy_axis_true,
            edisp=self.edisp,
            counts_off=_values(self.counts_off) if self.counts_off is not None else None,
            acceptance_off=_values(self.acceptance_off),
            gti_hdu=gti_to_hdu(self.gti),
            region_hdu=region_hdu,
            meta=self.meta,
        )

    def to_hdulist(self, format="ogip"):
        """OGIP PHA `~astropy.io.fits.HDUList` of the ON spectrum (companions: `write`),
        or the single-file "gadf" layout."""
        if format == "gadf":
            return super().to_hdulist(format="gadf")
        if format not in ("ogip", "ogip-sherpa"):
            raise ValueError(f"SpectrumDatasetOnOff.to_hdulist: unknown format {format!r}")
        livetime = self.livetime.to_value("s")
        writer = OGIPWriter(f"pha_obs{self.name}.fits")
        return writer.pha_hdulist(
            self.name, _values(self.counts),
            _values(self.mask_safe) if self.mask_safe is not None else np.ones(_values(self.counts).size, bool),
            _values(self.acceptance), livetime, self.energy_axis, has_rmf=self.edisp is not None,
            has_bkg=self.counts_off is not None, gti_hdu=gti_to_hdu(self.gti),
            region_hdu=_region_hdu(self._geom), meta=self.meta,
        )


def _region_geom(region_hdu, energy_axis, filename=""):
    """Region geometry of an OGIP file (from its REGION HDU, if any)."""
    if region_hdu is not None:
        hdulist = fits.HDUList([fits.PrimaryHDU(), region_hdu, energy_axis.to_table_hdu(format="ogip")])
        try:
            geom = RegionGeom.from_hdulist(hdulist, format="ogip")
        except (KeyError, ValueError, TypeError) as exc:
            # the spectrum is usable without its region: say so and carry on
            warnings.warn(f"{filename}: REGION HDU not readable ({exc}); the dataset has no region")
        else:
            return geom.to_image().to_cube([energy_axis])
    return RegionGeom.create(region=None, axes=[energy_axis])


def _region_hdu(geom):
    """REGION HDU of a region geometry (None when it has no region)."""
    if getattr(geom, "region", None) is None:
        return None
    hdulist = geom.to_hdulist(format="ogip")
    names = [h.name for h in hdulist]
    return hdulist["REGION"] if "REGION" in names else None
