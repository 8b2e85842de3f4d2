"""DL3 data access: data stores, observations, events, GTIs and pointing."""
from .datastore import DataStore, MissingHDUError
from .event_list import EventList
from .gti import GTI
from .hdu_index_table import HDUIndexTable, HDULocation
from .obs_table import ObservationTable
from .observations import Observation, Observations
from .pointing import FixedPointingInfo, PointingInfo, PointingMode

__all__ = [
    "DataStore", "MissingHDUError", "EventList", "GTI", "HDUIndexTable", "HDULocation",
    "ObservationTable", "Observation", "Observations", "FixedPointingInfo", "PointingInfo",
    "PointingMode",
]
