"""Multi-object tracking with persistent identities (ROS-free).

`ReidTracker` (the default) keeps one identity per target through crossings, short occlusions and
exit / re-entry:
  1. every track's box is predicted to the frame time by a constant-velocity Kalman filter (time
     in seconds, so skipped frames and varying rates are handled);
  2. detections are matched to recently seen tracks by motion and appearance together: cost =
     (1 - IoU with the prediction) + appearance distance, gated by both, solved as one assignment
     (so two people crossing are told apart by their colours, not only by their boxes); a track
     may stay unmatched at a cost, so one whose detection fails the gates does not push the others
     into swapping detections;
  3. left-over detections, and detections that only started a tentative track, are compared with
     lost tracks (unseen for up to `memory_s`) by appearance alone, with a loose size gate: a
     close enough match takes the old identity back (re-identification after occlusion or exit);
  4. other detections of at least `new_track_score` start tentative tracks (weaker ones only
     continue tracks, as in ByteTrack, so feed the tracker detections down to a low confidence),
     confirmed after `confirm_hits` frames of which one is a clean view (clear of the image
     border and of other detections): a target entering the image shows a
     sliver whose colours say little, so its track stays open to re-identification (step 3) until
     the whole target is seen. Appearance is learnt from clean, uncrowded views only.
Lost tracks are reported with their predicted box for `report_lost_s` while it is in the image.

`UltralyticsTracker` wraps Ultralytics' ByteTrack and BoT-SORT (short-term association only,
identities end when a track is lost for longer than their buffer) for comparison.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Protocol, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from mmchat_ros.detection import appearance
from mmchat_ros.detection.yolo import Box

INFEASIBLE = 1e6


class TrackState(IntEnum):
    """Track states, numbered as in mmchat_ros/Detection."""

    NONE = 0                # no tracker ran (a detection only)
    TENTATIVE = 1
    CONFIRMED = 2
    LOST = 3


@dataclass(frozen=True)
class TrackedObject:
    """One track as reported for a frame."""

    track_id: int
    state: TrackState
    box_xyxy: tuple[float, float, float, float]
    score: float                  # detector confidence; 0 for a lost track's predicted box
    class_id: int
    age_s: float                  # time since the track was confirmed (0 while tentative)
    detection_index: int | None   # which input detection it is (None for a lost track)


class Tracker(Protocol):
    """What the detector node needs from a tracker."""

    def update(self, detections: Sequence[Box], image: np.ndarray,
               time_s: float) -> list[TrackedObject]:
        """Tracks for one frame (detections of `image`, taken at `time_s`)."""


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes a (N, 4) and b (M, 4), xyxy."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


class BoxKalman:
    """Constant-velocity Kalman filter on (cx, cy, w, h); noise scales with the box height."""

    POSITION_STD = 0.05           # measurement noise, fraction of the box height
    ACCELERATION_STD = 1.5        # process noise, box heights per s^2

    def __init__(self, box_xyxy: np.ndarray) -> None:
        self.x = np.concatenate([_cxcywh(box_xyxy), np.zeros(4)])
        h = max(self.x[3], 1.0)
        self.P = np.diag(np.r_[np.full(4, (0.1 * h) ** 2), np.full(4, (1.0 * h) ** 2)])

    def predict(self, dt: float) -> None:
        """Advance the state by dt seconds."""
        if dt <= 0:
            return
        F = np.eye(8)
        F[:4, 4:] = dt * np.eye(4)
        h = max(self.x[3], 1.0)
        q = (self.ACCELERATION_STD * h) ** 2
        G = np.r_[np.full(4, dt * dt / 2), np.full(4, dt)]
        Q = np.diag(G * G * q)
        self.x = F @ self.x
        self.x[2:4] = np.maximum(self.x[2:4], 1.0)
        self.P = F @ self.P @ F.T + Q

    def update(self, box_xyxy: np.ndarray) -> None:
        """Correct with a measured box."""
        H = np.eye(4, 8)
        R = np.eye(4) * (self.POSITION_STD * max(self.x[3], 1.0)) ** 2
        S = H @ self.P @ H.T + R
        K = self.P @ H.T @ np.linalg.inv(S)
        self.x = self.x + K @ (_cxcywh(box_xyxy) - H @ self.x)
        self.P = (np.eye(8) - K @ H) @ self.P

    def stop(self) -> None:
        """Forget the velocity (a lost target is not assumed to keep moving for long)."""
        self.x[4:] = 0.0

    @property
    def box(self) -> np.ndarray:
        """The current box, xyxy."""
        cx, cy, w, h = self.x[:4]
        return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def _cxcywh(box: np.ndarray) -> np.ndarray:
    x1, y1, x2, y2 = box
    return np.array([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dtype=float)


@dataclass(eq=False)
class _Track:
    track_id: int
    class_id: int
    filter: BoxKalman
    first_seen_s: float
    last_seen_s: float
    hits: int = 1
    clean_views: int = 0          # detections clear of the image border and of other detections
    confirmed_s: float | None = None
    feature: np.ndarray | None = None
    score: float = 0.0
    detection_index: int | None = None
    last_box: np.ndarray = field(default_factory=lambda: np.zeros(4))
    # the last clean view's box (its height gates re-identification)
    clean_box: np.ndarray | None = None

    def learn(self, feature: np.ndarray | None, rate: float) -> None:
        if feature is None:
            return
        self.feature = (feature if self.feature is None
                        else (1 - rate) * self.feature + rate * feature)


@dataclass(frozen=True)
class ReidConfig:
    """Parameters of ReidTracker."""

    confirm_hits: int = 3            # detections before a track is confirmed (one a clean view) ...
    border_confirm_hits: int = 10    # ... or this many, for a target that stays at the image border
    border_px: float = 2.0           # boxes closer than this to the image edge are not clean views
    new_track_score: float = 0.35    # lowest confidence that starts a track
    min_iou: float = 0.1             # motion gate of step 2 (IoU with the prediction)
    max_centre_jump: float = 1.0     # ... or centre distance below this many box heights
    max_appearance: float = 0.55     # appearance gate of step 2 ...
    sure_iou: float = 0.6            # ... not applied above this IoU (partly occluded, at the
                                     # border)
    unmatched_cost: float = 2.0      # cost of leaving a recent track unmatched in step 2 (about the
                                     # dearest feasible match, so no swap is forced on the others)
    reid_appearance: float = 0.45    # appearance distance below which a lost identity is taken
                                     # back
    reid_size_ratio: float = 3.0     # ... if the box height changed by less than this factor
    recent_s: float = 0.5            # tracks unseen this long go to re-identification instead of
                                     # step 2
    memory_s: float = 15.0           # lost tracks are forgotten after this
    report_lost_s: float = 1.0       # lost tracks are reported (predicted box) this long
    feature_rate: float = 0.15       # appearance update rate
    crowd_iou: float = 0.3           # no appearance update while overlapping another detection
                                     # this much


class ReidTracker:
    """Motion + appearance tracking with re-identification of lost tracks (see the module doc)."""

    def __init__(self, config: ReidConfig = ReidConfig()) -> None:
        self.config = config
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._last_time: float | None = None

    def update(self, detections: Sequence[Box], image: np.ndarray,
               time_s: float) -> list[TrackedObject]:
        """Associate `detections` (of `image`, taken at `time_s`) and report every live track."""
        c = self.config
        dt = 0.0 if self._last_time is None else max(0.0, time_s - self._last_time)
        self._last_time = time_s
        for track in self._tracks:
            track.filter.predict(dt)
            track.detection_index = None
        boxes = np.array([d.xyxy for d in detections]).reshape(-1, 4)
        features = [appearance.descriptor(image, b) for b in boxes]
        partial = self._crowded(boxes) | self._at_border(boxes, image.shape)

        recent = [t for t in self._tracks if time_s - t.last_seen_s <= c.recent_s]
        matches = self._associate(recent, detections, boxes, features)
        unmatched = [j for j in range(len(detections)) if j not in matches.values()]
        missing = [t for t in self._tracks if t not in matches and t.confirmed_s is not None]
        tentative_matches = {j: t for t, j in matches.items() if t.confirmed_s is None}
        candidates = unmatched + list(tentative_matches)
        for track, j in self._reidentify(missing, detections, candidates, boxes, features):
            if j in tentative_matches:
                self._tracks.remove(tentative_matches[j])
                del matches[tentative_matches[j]]
            else:
                unmatched.remove(j)
            track.filter = BoxKalman(boxes[j])
            matches[track] = j

        for track, j in matches.items():
            self._observe(track, detections[j], j, features[j], partial[j], time_s)
        for j in unmatched:
            if detections[j].score >= c.new_track_score:
                self._start(detections[j], j, features[j], partial[j], time_s)
        self._forget(time_s, image.shape)
        return self._report(time_s, image.shape)

    def _crowded(self, boxes: np.ndarray) -> np.ndarray:
        overlap = iou_matrix(boxes, boxes)
        np.fill_diagonal(overlap, 0.0)
        return (overlap > self.config.crowd_iou).any(axis=1) if len(boxes) else np.zeros(0, bool)

    def _at_border(self, boxes: np.ndarray, shape: tuple) -> np.ndarray:
        height, width = shape[:2]
        margin = self.config.border_px
        return (boxes[:, 0] < margin) | (boxes[:, 1] < margin) | \
            (boxes[:, 2] > width - margin) | (boxes[:, 3] > height - margin)

    def _associate(self, tracks: list[_Track], detections: Sequence[Box], boxes: np.ndarray,
                   features: list) -> dict[_Track, int]:
        c = self.config
        if not tracks or not len(boxes):
            return {}
        predicted = np.array([t.filter.box for t in tracks])
        iou = iou_matrix(predicted, boxes)
        looks = appearance.distance_matrix([t.feature for t in tracks], features)
        centres_t = (predicted[:, :2] + predicted[:, 2:]) / 2
        centres_d = (boxes[:, :2] + boxes[:, 2:]) / 2
        heights = np.maximum(predicted[:, 3] - predicted[:, 1], 1.0)
        jump = np.linalg.norm(centres_t[:, None] - centres_d[None], axis=2) / heights[:, None]
        same_class = np.array([[t.class_id == d.class_id for d in detections] for t in tracks])
        has_look = np.array([[t.feature is not None and f is not None for f in features]
                             for t in tracks])
        feasible = same_class & ((iou >= c.min_iou) | (jump <= c.max_centre_jump)) & \
            (~has_look | (looks <= c.max_appearance) | (iou >= c.sure_iou))
        cost = np.where(feasible,
                        (1.0 - iou) + np.minimum(jump, 1.0) * 0.5 + np.where(has_look, looks, 0.3),
                        INFEASIBLE)
        # one more column per track: leaving it unmatched, at a finite cost
        unmatched = np.full((len(tracks), len(tracks)), INFEASIBLE)
        np.fill_diagonal(unmatched, c.unmatched_cost)
        rows, cols = linear_sum_assignment(np.hstack([cost, unmatched]))
        return {tracks[r]: int(k) for r, k in zip(rows, cols)
                if k < len(boxes) and cost[r, k] < INFEASIBLE}

    def _reidentify(self, lost: list[_Track], detections: Sequence[Box], candidates: list[int],
                    boxes: np.ndarray, features: list) -> list[tuple[_Track, int]]:
        c = self.config
        lost = [t for t in lost if t.feature is not None]
        candidates = [j for j in candidates if features[j] is not None]
        if not lost or not candidates:
            return []
        cost = np.full((len(lost), len(candidates)), INFEASIBLE)
        for r, track in enumerate(lost):
            for k, j in enumerate(candidates):
                height = max(boxes[j, 3] - boxes[j, 1], 1.0)
                seen = track.last_box if track.clean_box is None else track.clean_box
                last_height = max(seen[3] - seen[1], 1.0)
                ratio = max(height / last_height, last_height / height)
                d = appearance.distance(track.feature, features[j])
                if track.class_id == detections[j].class_id and d <= c.reid_appearance and \
                        ratio <= c.reid_size_ratio:
                    cost[r, k] = d
        rows, cols = linear_sum_assignment(cost)
        return [(lost[r], candidates[k]) for r, k in zip(rows, cols) if cost[r, k] < INFEASIBLE]

    def _observe(self, track: _Track, detection: Box, j: int, feature, partial: bool,
                 time_s: float) -> None:
        """Update `track` with detection j; `partial`: the view is crowded or cut by the border."""
        c = self.config
        track.filter.update(detection.xyxy)
        track.last_seen_s = time_s
        track.hits += 1
        track.score = detection.score
        track.detection_index = j
        track.last_box = detection.xyxy
        if not partial:
            first_clean = track.clean_views == 0
            track.clean_views += 1
            track.clean_box = detection.xyxy
            track.learn(feature, 1.0 if first_clean or track.feature is None else c.feature_rate)
        elif track.feature is None:
            track.learn(feature, 1.0)
        if track.confirmed_s is None and (
                (track.hits >= c.confirm_hits and track.clean_views > 0)
                or track.hits >= c.border_confirm_hits):
            track.confirmed_s = time_s

    def _start(self, detection: Box, j: int, feature, partial: bool, time_s: float) -> None:
        track = _Track(self._next_id, detection.class_id, BoxKalman(detection.xyxy), time_s, time_s,
                       clean_views=int(not partial), feature=feature, score=detection.score,
                       detection_index=j, last_box=detection.xyxy,
                       clean_box=None if partial else detection.xyxy)
        if self.config.confirm_hits <= 1:
            track.confirmed_s = time_s
        self._next_id += 1
        self._tracks.append(track)

    def _forget(self, time_s: float, shape: tuple) -> None:
        kept = []
        for track in self._tracks:
            unseen = time_s - track.last_seen_s
            if track.confirmed_s is None and unseen > 0:
                continue                            # a tentative track must not miss a frame
            if unseen > self.config.memory_s:
                continue
            if unseen > self.config.recent_s:
                track.filter.stop()
            kept.append(track)
        self._tracks = kept

    def _report(self, time_s: float, shape: tuple) -> list[TrackedObject]:
        height, width = shape[:2]
        out = []
        for t in self._tracks:
            box = t.last_box if t.detection_index is not None else t.filter.box
            if t.detection_index is not None:
                state = TrackState.CONFIRMED if t.confirmed_s is not None else TrackState.TENTATIVE
            elif (time_s - t.last_seen_s <= self.config.report_lost_s
                  and _inside(box, width, height)):
                state = TrackState.LOST
            else:
                continue
            age = 0.0 if t.confirmed_s is None else time_s - t.confirmed_s
            out.append(TrackedObject(t.track_id, state, tuple(float(v) for v in box),
                                     t.score if t.detection_index is not None else 0.0, t.class_id,
                                     age, t.detection_index))
        return out


def _inside(box: np.ndarray, width: int, height: int) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return 0 <= cx < width and 0 <= cy < height


class UltralyticsTracker:
    """Ultralytics' ByteTrack or BoT-SORT behind the Tracker interface (active tracks only)."""

    KINDS = ('bytetrack', 'botsort')

    def __init__(self, kind: str, frame_rate_hz: float = 10.0, buffer_s: float = 3.0,
                 new_track_score: float = 0.25, low_score: float = 0.1) -> None:
        from types import SimpleNamespace

        from mmchat_ros.detection.yolo import ultralytics
        ultralytics()
        import yaml
        from ultralytics.engine.results import Boxes
        from ultralytics.trackers import BOTSORT, BYTETracker
        from ultralytics.utils import ROOT

        if kind not in self.KINDS:
            raise ValueError(f"tracker '{kind}' is not one of {self.KINDS}")
        settings = yaml.safe_load((ROOT / 'cfg' / 'trackers' / f'{kind}.yaml').read_text())
        settings['track_buffer'] = max(1, int(round(buffer_s * frame_rate_hz)))
        settings.update(track_high_thresh=new_track_score, new_track_thresh=new_track_score,
                        track_low_thresh=low_score)
        args = SimpleNamespace(**settings)
        self._tracker = BYTETracker(args) if kind == 'bytetrack' else BOTSORT(args)
        self._boxes = Boxes
        self._confirmed_at: dict[int, float] = {}

    def update(self, detections: Sequence[Box], image: np.ndarray,
               time_s: float) -> list[TrackedObject]:
        """Run the wrapped tracker on one frame."""
        rows = np.array([[d.x1, d.y1, d.x2, d.y2, d.score, d.class_id] for d in detections],
                        dtype=np.float32).reshape(-1, 6)
        output = self._tracker.update(self._boxes(rows, image.shape[:2]), image)
        tracks = []
        for x1, y1, x2, y2, track_id, score, class_id, index in output:
            track_id = int(track_id)
            confirmed = self._confirmed_at.setdefault(track_id, time_s)
            tracks.append(TrackedObject(track_id, TrackState.CONFIRMED, (x1, y1, x2, y2),
                                        float(score), int(class_id), time_s - confirmed,
                                        int(index)))
        return tracks


TRACKERS = ('reid', *UltralyticsTracker.KINDS, 'none')


def detection_conf(kind: str, conf: float, low_conf: float) -> float:
    """The detector's threshold for tracker `kind`.

    `conf` without a tracker; with one, down to `low_conf`, since weak detections continue tracks
    (they never start one).
    """
    return conf if kind == 'none' else min(conf, low_conf)


def make_tracker(kind: str, frame_rate_hz: float = 10.0,
                 new_track_score: float = ReidConfig.new_track_score,
                 low_score: float = 0.1) -> Tracker | None:
    """A tracker by name (see TRACKERS); None for 'none'.

    Detections of at least `new_track_score` start tracks; ByteTrack and BoT-SORT also keep a
    second, low-confidence association down to `low_score` (the reid tracker continues tracks on
    whatever it is given).
    """
    if kind == 'reid':
        return ReidTracker(ReidConfig(new_track_score=new_track_score))
    if kind == 'none':
        return None
    if kind in UltralyticsTracker.KINDS:
        return UltralyticsTracker(kind, frame_rate_hz, new_track_score=new_track_score,
                                  low_score=low_score)
    raise ValueError(f"unknown tracker '{kind}' (one of {', '.join(TRACKERS)})")
