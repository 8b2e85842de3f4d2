"""Plots shared by several packages."""
from .datasets import plot_spectrum_datasets_off_regions

__all__ = ["plot_spectrum_datasets_off_regions"]
