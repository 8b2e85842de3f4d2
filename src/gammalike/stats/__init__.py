"""Fit statistics and counts statistics as pure numpy functions.

`cash`, `cstat`, `wstat` and the chi-square variants return per-bin
``-2 log L`` contributions; `CashCountsStatistic` and `WStatCountsStatistic`
give the significance, errors and limits of a counts excess.
"""
from .counts_statistic import CashCountsStatistic, WStatCountsStatistic
from .fit_statistics import (
    TRUNCATION_VALUE,
    cash,
    chi2,
    chi2_flux_points,
    chi2_flux_points_ul,
    cstat,
    get_wstat_gof_terms,
    get_wstat_mu_bkg,
    get_wstat_mu_bkg_off,
    wstat,
)

__all__ = [
    "TRUNCATION_VALUE",
    "CashCountsStatistic",
    "WStatCountsStatistic",
    "cash",
    "chi2",
    "chi2_flux_points",
    "chi2_flux_points_ul",
    "cstat",
    "get_wstat_gof_terms",
    "get_wstat_mu_bkg",
    "get_wstat_mu_bkg_off",
    "wstat",
]
