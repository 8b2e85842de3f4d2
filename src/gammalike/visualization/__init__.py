"""Plots and reports shared by several packages."""
from .datasets import plot_spectrum_datasets_off_regions
from .report import write_analysis_report, write_report

__all__ = ["plot_spectrum_datasets_off_regions", "write_analysis_report", "write_report"]
