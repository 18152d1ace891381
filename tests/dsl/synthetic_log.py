"""Hand-built logs for the DSL tests: identity ego poses, a map of the test's own, boxes by hand."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scenmine.data.logs import LogData, frame_from_table


def write_log(folder: Path, timestamps: np.ndarray, boxes, write_map) -> LogData:
    """A log in ``folder`` (created): the ego at the city origin at every timestamp, the map
    ``write_map(folder)`` writes, and one 1.5 m high box per ``(frame index, uuid, category,
    x, y, yaw, (length, width))`` in ``boxes``."""
    folder.mkdir()
    pd.DataFrame({"timestamp_ns": timestamps, "qw": 1.0, "qx": 0.0, "qy": 0.0, "qz": 0.0,
                  "tx_m": 0.0, "ty_m": 0.0, "tz_m": 0.0}).to_feather(folder / "city_SE3_egovehicle.feather")
    write_map(folder)
    rows = [{"timestamp_ns": timestamps[j], "track_uuid": uuid, "category": cat,
             "length_m": length, "width_m": width, "height_m": 1.5,
             "qw": np.cos(yaw / 2), "qx": 0.0, "qy": 0.0, "qz": np.sin(yaw / 2),
             "tx_m": x, "ty_m": y, "tz_m": 0.0}
            for j, uuid, cat, x, y, yaw, (length, width) in boxes]
    return frame_from_table(folder, pd.DataFrame(rows))
