"""Analysis tests configure logging (AnalysisConfig.set_logging): restore the gammalike logger after each."""
import logging

import pytest


@pytest.fixture(autouse=True)
def _restore_gammalike_logger():
    logger = logging.getLogger("gammalike")
    level, handlers = logger.level, list(logger.handlers)
    yield
    logger.setLevel(level)
    for handler in logger.handlers[:]:
        if handler not in handlers:
            logger.removeHandler(handler)
