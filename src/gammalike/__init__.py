"""gammalike: gamma-ray astronomy data analysis.

One joint likelihood over 3D map datasets (cash), 1D ON/OFF spectra (wstat)
and flux points (chi2), with the concepts and names of gammapy.
"""
import logging

__version__ = "0.1.0.dev0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["__version__"]
