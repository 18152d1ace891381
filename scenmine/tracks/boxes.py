"""Tracks: the city-frame boxes of a log's tracked objects, as dense (track, time) arrays.

Refinement and the noisy-track generator edit these arrays (rows are tracks, columns the log's
timestamps; NaN / False where a track has no box) and turn them back into a LogData whose
ego-frame fields agree with the city-frame ones. The ego track is never part of them: it is
carried over unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from scenmine.data.logs import EGO_CATEGORY, LogData, rotation_yaw


def wrap(angle: np.ndarray) -> np.ndarray:
    """Angles wrapped to [-pi, pi)."""
    return (np.asarray(angle) + np.pi) % (2 * np.pi) - np.pi


@dataclass
class Tracks:
    """City-frame boxes of the non-ego tracks of one log (see the module docstring)."""

    uuids: np.ndarray        # (N,) object
    categories: np.ndarray   # (N,) str
    valid: np.ndarray        # (N, T) bool
    pos: np.ndarray          # (N, T, 3) city-frame centre
    yaw: np.ndarray          # (N, T) city-frame yaw
    size: np.ndarray         # (N, T, 3) length, width, height
    score: np.ndarray        # (N, T)
    seconds: np.ndarray      # (T,) timestamps in seconds from the first

    @classmethod
    def of(cls, log: LogData) -> Tracks:
        rows = np.flatnonzero(np.asarray(log.categories) != EGO_CATEGORY)
        seconds = (log.timestamps - log.timestamps[0]).astype(np.float64) * 1e-9
        return cls(np.asarray(log.uuids, object)[rows], np.asarray(log.categories).astype(str)[rows],
                   log.valid[rows].copy(), log.translation_city[rows].copy(),
                   log.yaw_city[rows].copy(), log.size[rows].copy(), log.score[rows].copy(),
                   seconds)

    @property
    def n(self) -> int:
        return len(self.uuids)

    def take(self, rows) -> Tracks:
        """The tracks at ``rows`` (indices or a boolean mask)."""
        return replace(self, uuids=self.uuids[rows], categories=self.categories[rows],
                       valid=self.valid[rows], pos=self.pos[rows], yaw=self.yaw[rows],
                       size=self.size[rows], score=self.score[rows])

    def clear(self, mask: np.ndarray) -> None:
        """Remove the boxes where ``mask`` (N, T) is True."""
        self.valid &= ~mask
        self.pos[mask] = np.nan
        self.yaw[mask] = np.nan
        self.size[mask] = np.nan
        self.score[mask] = np.nan

    def spans(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per track: first and last valid column and the number of boxes (-1, -1, 0 if none)."""
        count = self.valid.sum(axis=1)
        t = self.valid.shape[1]
        first = np.where(count > 0, self.valid.argmax(axis=1), -1)
        last = np.where(count > 0, t - 1 - self.valid[:, ::-1].argmax(axis=1), -1)
        return first, last, count


def to_log(log: LogData, tracks: Tracks) -> LogData:
    """A LogData like ``log`` whose non-ego tracks are ``tracks`` (ego rows kept, last).

    Ego-frame boxes are derived from the city-frame ones with the log's ego poses; the yaw in
    the ego frame is the city yaw less the ego's heading (boxes rotate about z only).
    """
    ego = np.flatnonzero(np.asarray(log.categories) == EGO_CATEGORY)
    valid = np.concatenate([tracks.valid, log.valid[ego]])
    pos = np.where(valid[..., None], np.concatenate([tracks.pos, log.translation_city[ego]]), np.nan)
    ego_heading = rotation_yaw(log.ego_rotation)
    yaw_ego = np.concatenate([wrap(tracks.yaw - ego_heading[None]), log.yaw_ego[ego]])
    yaw_ego[~valid] = np.nan
    c, s = np.cos(yaw_ego), np.sin(yaw_ego)
    rot_ego = np.zeros(yaw_ego.shape + (3, 3))
    rot_ego[..., 0, 0], rot_ego[..., 0, 1], rot_ego[..., 1, 0], rot_ego[..., 1, 1] = c, -s, s, c
    rot_ego[..., 2, 2] = 1.0
    translation_ego = np.einsum("tji,ntj->nti", log.ego_rotation, pos - log.ego_translation[None])
    size = np.where(valid[..., None], np.concatenate([tracks.size, log.size[ego]]), np.nan)
    score = np.where(valid, np.concatenate([tracks.score, log.score[ego]]), np.nan)
    out = LogData(
        log_id=log.log_id, log_dir=log.log_dir, timestamps=log.timestamps,
        uuids=np.concatenate([tracks.uuids, np.asarray(log.uuids, object)[ego]]).astype(object),
        categories=np.concatenate([tracks.categories, np.asarray(log.categories)[ego]]).astype(str),
        valid=valid, translation_ego=translation_ego, translation_city=pos, yaw_ego=yaw_ego,
        yaw_city=rotation_yaw(np.einsum("tij,ntjk->ntik", log.ego_rotation, rot_ego)),
        size=size, score=score, ego_rotation=log.ego_rotation,
        ego_translation=log.ego_translation, has_ego_annotations=log.has_ego_annotations)
    if "map" in log._cache:  # same log, same map: not read again
        out._cache["map"] = log._cache["map"]
    return out
