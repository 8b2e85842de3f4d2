"""Small helpers shared by all gammalike packages."""
from .paths import data_folder, make_path
from .io import write_atomic

__all__ = ["data_folder", "make_path", "write_atomic"]
