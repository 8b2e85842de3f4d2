"""Config-driven analysis: `AnalysisConfig` (YAML) and the `Analysis` workflow."""
from .config import AnalysisConfig, ConfigError
from .core import Analysis

__all__ = ["Analysis", "AnalysisConfig", "ConfigError"]
