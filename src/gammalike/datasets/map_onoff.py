"""`MapDatasetOnOff`: counts cube with OFF counts measuring the background (W statistic).

Each bin has ON counts ``n_on`` and OFF counts ``n_off`` (e.g. the counts in
a ring around it, see `~gammalike.makers.RingBackgroundMaker`), with
``alpha = acceptance / acceptance_off`` the ratio of the ON and OFF
background acceptances.  The background is ``alpha * n_off``; in a fit the
mean background of every bin is profiled (`~gammalike.stats.wstat`) and
`npred_background` is that profiled mean.

FITS layout: the `MapDataset` HDUs (without BACKGROUND) plus COUNTS_OFF,
ACCEPTANCE and ACCEPTANCE_OFF with their BANDS tables.
"""
import numpy as np

from ..maps import Map
from ..stats import WStatCountsStatistic, get_wstat_mu_bkg, wstat
from .map import MapDataset, _float

__all__ = ["MapDatasetOnOff"]

_OFF_KEYS = ("counts_off", "acceptance", "acceptance_off")
_OFF_HDUS = {"COUNTS_OFF": "counts_off", "ACCEPTANCE": "acceptance", "ACCEPTANCE_OFF": "acceptance_off"}


class MapDatasetOnOff(MapDataset):
    """Map dataset with ON and OFF counts (W statistic).

    Parameters
    ----------
    models : `~gammalike.modeling.models.Models`, optional
        Sky models (a background model is not used: the background is profiled).
    counts, counts_off : `~gammalike.maps.WcsNDMap`
        ON and OFF counts (axis "energy").
    acceptance, acceptance_off : `~gammalike.maps.WcsNDMap`, optional
        ON and OFF acceptances (default 1 everywhere).
    exposure, psf, edisp, mask_safe, mask_fit, gti, meta_table, name, meta :
        See `MapDataset`.
    """

    tag = "MapDatasetOnOff"
    stat_type = "wstat"

    def __init__(self, models=None, counts=None, counts_off=None, acceptance=None, acceptance_off=None,
                 exposure=None, mask_fit=None, psf=None, edisp=None, name=None, mask_safe=None, gti=None,
                 meta_table=None, meta=None):
        super().__init__(models=models, counts=counts, exposure=exposure, background=None, psf=psf,
                         edisp=edisp, mask_safe=mask_safe, mask_fit=mask_fit, gti=gti, meta_table=meta_table,
                         name=name, meta=meta)
        self.counts_off = self._as_map(counts_off, "counts_off")
        self.acceptance = self._as_map(1.0 if acceptance is None else acceptance, "acceptance")
        self.acceptance_off = self._as_map(1.0 if acceptance_off is None else acceptance_off, "acceptance_off")

    def _as_map(self, value, what):
        if value is None or isinstance(value, Map):
            return value
        geom = self._geom
        if geom is None:
            raise ValueError(f"{self.name}: set counts before {what} given as a number or array")
        data = np.broadcast_to(np.asarray(value, dtype=float), geom.data_shape).copy()
        return Map.from_geom(geom, data=data, dtype=float)

    # ------------------------------------------------------------------ background
    @property
    def background(self):
        """``alpha * counts_off`` (map), or None without OFF counts."""
        if self.__dict__.get("counts_off") is None:
            return None
        return self._to_map(self._alpha_array() * _float(self.counts_off))

    @background.setter
    def background(self, value):
        if value is not None:
            raise AttributeError(
                f"{self.name}: the background of a MapDatasetOnOff is alpha * counts_off; set counts_off, "
                "acceptance and acceptance_off instead"
            )

    def _alpha_array(self):
        acceptance = _float(self.acceptance)
        acceptance_off = _float(self.acceptance_off)
        alpha = np.zeros(np.broadcast(acceptance, acceptance_off).shape)
        np.divide(acceptance, acceptance_off, out=alpha, where=(acceptance_off > 0) & np.isfinite(acceptance_off))
        return alpha

    @property
    def alpha(self):
        """Exposure ratio ``acceptance / acceptance_off`` (0 where acceptance_off is 0)."""
        return self._to_map(self._alpha_array())

    def _npred_background_array(self):
        if self.counts_off is None:
            return np.zeros(self._geom.data_shape)
        return get_wstat_mu_bkg(_float(self.counts), _float(self.counts_off), self._alpha_array(),
                                self._npred_signal_array())

    # ------------------------------------------------------------------ statistic
    def stat_sum(self):
        """W statistic summed over ``mask_safe & mask_fit``."""
        n_on = np.asarray(self.counts.data, dtype=float)
        mu_sig = self._npred_signal_array()
        if self.counts_off is None:
            return super().stat_sum()
        n_off, alpha = _float(self.counts_off), self._alpha_array()
        mask = self._mask_array()
        if mask is not None:
            n_on, n_off, alpha, mu_sig = n_on[mask], n_off[mask], alpha[mask], mu_sig[mask]
        return float(np.sum(wstat(n_on, n_off, alpha, mu_sig)))

    def stat_array(self):
        """Per-bin W statistic."""
        return wstat(_float(self.counts), _float(self.counts_off), self._alpha_array(), self._npred_signal_array())

    # ------------------------------------------------------------------ info
    def info_dict(self, in_safe_data_range=True):
        """`MapDataset.info_dict` plus counts_off, acceptance, acceptance_off, alpha (summed over safe bins).

        ``alpha = background / counts_off`` and ``acceptance_off = acceptance / alpha``.
        """
        info = super().info_dict(in_safe_data_range=in_safe_data_range)
        mask = np.ones(self._geom.data_shape, dtype=bool)
        if in_safe_data_range and self.mask_safe is not None:
            mask = np.asarray(self.mask_safe.data, dtype=bool)
        counts_off = float(_float(self.counts_off)[mask].sum()) if self.counts_off is not None else np.nan
        acceptance = float(_float(self.acceptance)[mask].sum())
        background = info["background"]
        info["counts_off"] = counts_off
        info["acceptance"] = acceptance
        info["alpha"] = background / counts_off if counts_off > 0 else np.nan
        info["acceptance_off"] = acceptance * counts_off / background if background > 0 else np.nan
        counts = info["counts"]
        alpha = info["alpha"] if np.isfinite(info["alpha"]) else 0.0
        info["sqrt_ts"] = float(WStatCountsStatistic(counts, counts_off if np.isfinite(counts_off) else 0.0,
                                                     alpha).sqrt_ts)
        return info

    def __str__(self):
        text = super().__str__()
        info = self.info_dict()
        extra = [
            f"  {'Total counts_off':<32}: {info['counts_off']:.0f}",
            f"  {'Acceptance':<32}: {info['acceptance']:.0f}",
            f"  {'Acceptance off':<32}: {info['acceptance_off']:.0f}",
            "",
        ]
        lines = text.split("\n")
        idx = next((i for i, line in enumerate(lines) if "Predicted counts" in line), len(lines))
        return "\n".join(lines[:idx] + extra + lines[idx:])

    # ------------------------------------------------------------------ constructors
    @classmethod
    def create(cls, geom, energy_axis_true=None, migra_axis=None, rad_axis=None, binsz_irf=None,
               reference_time="2000-01-01", name=None, meta_table=None, **kwargs):
        """Empty dataset (see `MapDataset.create`) with zero OFF counts and unit acceptances."""
        base = MapDataset.create(geom, energy_axis_true=energy_axis_true, migra_axis=migra_axis,
                                 rad_axis=rad_axis, binsz_irf=binsz_irf, reference_time=reference_time,
                                 name=name, meta_table=meta_table)
        return cls.from_map_dataset(base, acceptance=1.0, acceptance_off=1.0,
                                    counts_off=Map.from_geom(geom, unit=""), name=base.name)

    @classmethod
    def from_geoms(cls, geom, geom_exposure=None, geom_psf=None, geom_edisp=None, reference_time="2000-01-01",
                   name=None, **kwargs):
        """Empty dataset on given geometries (counts, exposure, PSF and energy-dispersion maps)."""
        from .map_io import irf_map_classes

        PSFMap, EDispKernelMap, EDispMap = irf_map_classes()
        init = dict(counts=Map.from_geom(geom, unit=""), counts_off=Map.from_geom(geom, unit=""),
                    mask_safe=Map.from_geom(geom, dtype=bool), name=name)
        if geom_exposure is not None:
            init["exposure"] = Map.from_geom(geom_exposure, unit="m2 s")
        if geom_psf is not None:
            init["psf"] = PSFMap.from_geom(geom_psf)
        if geom_edisp is not None:
            names = geom_edisp.axes.names
            init["edisp"] = (EDispMap if "migra" in names else EDispKernelMap).from_geom(geom_edisp)
        init.update(kwargs)
        return cls(**init)

    @classmethod
    def from_map_dataset(cls, dataset, acceptance, acceptance_off, counts_off=None, name=None):
        """ON/OFF dataset from a `MapDataset`; without ``counts_off`` they are ``background / alpha``."""
        new = cls(counts=dataset.counts, exposure=dataset.exposure, psf=dataset.psf, edisp=dataset.edisp,
                  mask_safe=dataset.mask_safe, mask_fit=dataset.mask_fit, gti=dataset.gti,
                  meta_table=dataset.meta_table, name=name or dataset.name, meta=dict(dataset.meta),
                  acceptance=acceptance, acceptance_off=acceptance_off)
        if counts_off is None:
            if dataset.background is None:
                raise ValueError(f"{dataset.name}: give counts_off or a dataset with a background")
            alpha = new._alpha_array()
            with np.errstate(invalid="ignore", divide="ignore"):
                values = np.where(alpha > 0, _float(dataset.background) / np.where(alpha > 0, alpha, 1), 0.0)
            counts_off = new._to_map(values)
        new.counts_off = new._as_map(counts_off, "counts_off")
        return new

    def to_map_dataset(self, name=None):
        """`MapDataset` with ``background = alpha * counts_off``."""
        return MapDataset(counts=self.counts, exposure=self.exposure, background=self.background, psf=self.psf,
                          edisp=self.edisp, mask_safe=self.mask_safe, mask_fit=self.mask_fit, gti=self.gti,
                          meta_table=self.meta_table, name=name, meta=dict(self.meta))

    def _plain(self, name=None):
        """`MapDataset` view without background (for the operations shared with MapDataset)."""
        return MapDataset(counts=self.counts, exposure=self.exposure, psf=self.psf, edisp=self.edisp,
                          mask_safe=self.mask_safe, mask_fit=self.mask_fit, gti=self.gti,
                          meta_table=self.meta_table, name=name or self.name, meta=dict(self.meta))

    def _from_plain(self, plain, name, **off_maps):
        return self.__class__(counts=plain.counts, exposure=plain.exposure, psf=plain.psf, edisp=plain.edisp,
                              mask_safe=plain.mask_safe, mask_fit=plain.mask_fit, gti=plain.gti,
                              meta_table=plain.meta_table, name=name, meta=dict(plain.meta), **off_maps)

    def _new(self, name=None, **kwargs):
        kwargs.pop("background", None)
        init = dict(counts=self.counts, counts_off=self.counts_off, acceptance=self.acceptance,
                    acceptance_off=self.acceptance_off, exposure=self.exposure, psf=self.psf, edisp=self.edisp,
                    mask_safe=self.mask_safe, mask_fit=self.mask_fit, gti=self.gti, meta_table=self.meta_table,
                    meta=dict(self.meta))
        init.update(kwargs)
        return self.__class__(name=name, **init)

    # ------------------------------------------------------------------ stacking
    def stack(self, other, nan_to_num=True):
        """Add ``other`` in place.

        OFF counts are summed over each dataset's safe bins and the stacked
        ``alpha = sum(alpha_i n_off_i) / sum(n_off_i)`` per bin (acceptance 1,
        ``acceptance_off = 1 / alpha``); bins without OFF counts take the
        OFF-count weighted alpha of the whole cube.  Counts, exposure, IRF
        maps, masks and GTIs stack as in `MapDataset.stack`.
        """
        if not isinstance(other, MapDatasetOnOff):
            raise TypeError(f"{self.name}: cannot stack a {type(other).__name__} into a MapDatasetOnOff")
        if self.counts_off is None or other.counts_off is None:
            raise ValueError(f"Cannot stack {other.name!r} into {self.name!r}: counts_off missing")
        geom = self._geom
        mask_self = np.ones(geom.data_shape) if self.mask_safe is None else _float(self.mask_safe)
        mask_other = None if other.mask_safe is None else other.mask_safe.copy(data=_float(other.mask_safe))
        off = Map.from_geom(geom, data=_float(self.counts_off) * mask_self, dtype=float)
        background = Map.from_geom(geom, data=self._alpha_array() * _float(self.counts_off) * mask_self, dtype=float)
        off.stack(other.counts_off.copy(data=_float(other.counts_off)), weights=mask_other, nan_to_num=nan_to_num)
        background.stack(other.counts_off.copy(data=other._alpha_array() * _float(other.counts_off)),
                         weights=mask_other, nan_to_num=nan_to_num)
        n_off, bkg = off.data, background.data
        fallback = bkg.sum() / n_off.sum() if n_off.sum() > 0 else 1.0
        with np.errstate(invalid="ignore", divide="ignore"):
            alpha = np.where(n_off > 0, bkg / n_off, fallback)
            acceptance_off = np.where(alpha > 0, 1 / alpha, np.inf)
        plain = self._plain()
        plain.stack(other._plain(), nan_to_num=nan_to_num)
        for key in ("counts", "exposure", "psf", "edisp", "mask_safe", "mask_fit", "gti", "meta_table"):
            setattr(self, key, getattr(plain, key))
        self.counts_off = off.copy(data=n_off.astype(np.float32))
        self.acceptance = self._to_map(np.ones(geom.data_shape))
        self.acceptance_off = self._to_map(acceptance_off)

    def to_masked(self, name=None, nan_to_num=True):
        """Copy with counts and OFF counts outside the safe mask set to zero (see `MapDataset.to_masked`)."""
        plain = self._plain().to_masked(name=name, nan_to_num=nan_to_num)
        off = self.counts_off
        if off is not None and self.mask_safe is not None:
            data = np.nan_to_num(off.data) if nan_to_num else off.data
            off = off.copy(data=(data * np.asarray(self.mask_safe.data, dtype=bool)).astype(off.data.dtype))
        return self._from_plain(plain, name=plain.name, counts_off=off, acceptance=self.acceptance.copy(),
                                acceptance_off=self.acceptance_off.copy())

    # ------------------------------------------------------------------ reshaping
    def cutout(self, position, width, mode="trim", name=None):
        """Dataset cut out around ``position`` (OFF maps included; outside pixels 0 for mode="partial")."""
        plain = self._plain().cutout(position=position, width=width, mode=mode, name=name)
        maps = {key: getattr(self, key).cutout(position=position, width=width, mode=mode, fill_value=0.0)
                for key in _OFF_KEYS}
        return self._from_plain(plain, name=plain.name, **maps)

    def slice_by_idx(self, slices, name=None):
        """Sub-dataset over index ranges of the non-spatial axes (see `MapDataset.slice_by_idx`)."""
        plain = self._plain().slice_by_idx(slices, name=name)
        sub = {k: v for k, v in slices.items() if k in self._geom.axes.names}
        maps = {key: (getattr(self, key).slice_by_idx(sub) if sub else getattr(self, key).copy())
                for key in _OFF_KEYS}
        return self._from_plain(plain, name=plain.name, **maps)

    def resample_energy_axis(self, energy_axis, name=None):
        """Reco-energy bins merged: counts and OFF counts summed over safe bins; the merged
        ``acceptance`` is the sum and ``acceptance_off`` keeps ``alpha * n_off`` equal to the summed background."""
        plain = self._plain().resample_energy_axis(energy_axis, name=name)
        energy_axis = energy_axis.copy(name="energy")
        weights = None if self.mask_safe is None else _float(self.mask_safe)
        off = self.counts_off.copy(data=_float(self.counts_off)).resample_axis(energy_axis, weights=weights)
        bkg = self.background.resample_axis(energy_axis, weights=weights)
        acc = self.acceptance.copy(data=_float(self.acceptance)).resample_axis(energy_axis, weights=weights)
        acc_off_fallback = self.acceptance_off.copy(data=_float(self.acceptance_off)).resample_axis(
            energy_axis, weights=weights)
        with np.errstate(invalid="ignore", divide="ignore"):
            acc_off = np.where(_float(bkg) > 0, _float(acc) * _float(off) / _float(bkg), _float(acc_off_fallback))
        return self._from_plain(plain, name=plain.name, counts_off=off, acceptance=acc,
                                acceptance_off=acc.copy(data=acc_off))

    def to_image(self, name=None):
        """Dataset with one reco-energy bin."""
        return self.resample_energy_axis(self.energy_axis.squash(), name=name)

    def downsample(self, factor, axis_name=None, name=None):
        raise NotImplementedError("MapDatasetOnOff.downsample: not supported; use to_image or cutout")

    def pad(self, pad_width, mode="constant", name=None):
        raise NotImplementedError("MapDatasetOnOff.pad: not supported")

    def to_spectrum_dataset(self, on_region, containment_correction=False, name=None):
        """`~gammalike.datasets.SpectrumDatasetOnOff` of the sums inside ``on_region``.

        Counts, OFF counts and ON acceptance are summed over the safe pixels in
        the region; ``acceptance_off = acceptance * counts_off / background``
        so that the spectrum's background is the summed ``alpha * n_off``.
        """
        from ..maps.region import parse_region
        from .spectrum_onoff import SpectrumDatasetOnOff

        region = parse_region(on_region)
        spectrum = self.to_map_dataset(name=name).to_spectrum_dataset(
            region, containment_correction=containment_correction, name=name)
        weights = self.mask_safe
        counts_off = self.counts_off.to_region_nd_map(region, func=np.sum, weights=weights)
        acceptance = self.acceptance.to_region_nd_map(region, func=np.sum, weights=weights)
        background = _float(spectrum.background)
        with np.errstate(invalid="ignore", divide="ignore"):
            acc_off = np.where(background > 0, _float(acceptance) * _float(counts_off) / background, 0.0)
        acceptance_off = acceptance.copy(data=acc_off)
        return SpectrumDatasetOnOff.from_spectrum_dataset(
            spectrum, acceptance=acceptance, acceptance_off=acceptance_off, counts_off=counts_off,
            name=spectrum.name)

    # ------------------------------------------------------------------ I/O
    def to_hdulist(self, format="gadf"):
        """FITS layout: the MapDataset HDUs (no BACKGROUND) plus COUNTS_OFF, ACCEPTANCE, ACCEPTANCE_OFF."""
        hdulist = self._plain().to_hdulist(format=format)
        for hdu, key in _OFF_HDUS.items():
            m = getattr(self, key)
            if m is not None:
                hdulist.extend(list(m.to_hdulist(hdu=hdu))[1:])
        return hdulist

    @classmethod
    def from_hdulist(cls, hdulist, name=None, format="gadf"):
        """Dataset from the FITS layout of `to_hdulist` (a BACKGROUND HDU, if any, is ignored)."""
        from .map_io import map_dataset_kwargs_from_hdulist

        if format != "gadf":
            raise ValueError(f"{cls.__name__}.from_hdulist: unknown format {format!r}, expected 'gadf'")
        filename = getattr(hdulist, "filename", lambda: "")() or ""
        names = [h.name for h in hdulist]
        if "COUNTS_OFF" not in names:
            # `read` prefixes the file name
            raise KeyError(f"no COUNTS_OFF HDU: not a MapDatasetOnOff file (HDUs: {names})")
        kwargs = map_dataset_kwargs_from_hdulist(hdulist, filename=filename)
        kwargs.pop("background", None)
        for hdu, key in _OFF_HDUS.items():
            if hdu in names:
                kwargs[key] = Map.from_hdulist(hdulist, hdu=hdu, map_type="wcs")
        if name is not None:
            kwargs["name"] = name
        return cls(**kwargs)

    def fake(self, npred_background, random_state="random-seed"):
        """Poisson ON counts from ``npred_signal + npred_background`` and OFF counts from ``npred_background / alpha``."""
        if isinstance(random_state, (int, np.integer)) or random_state is None:
            rng = np.random.default_rng(random_state)
        else:
            rng = np.random.default_rng() if random_state == "random-seed" else random_state
        bkg = _float(npred_background) if isinstance(npred_background, Map) else np.asarray(npred_background, float)
        alpha = self._alpha_array()
        self.counts = self._to_map(rng.poisson(self._npred_signal_array() + bkg).astype(np.float32))
        with np.errstate(invalid="ignore", divide="ignore"):
            mu_off = np.where(alpha > 0, bkg / np.where(alpha > 0, alpha, 1), 0.0)
        self.counts_off = self._to_map(rng.poisson(mu_off).astype(np.float32))
