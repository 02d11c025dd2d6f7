"""What a recording says about detections: targets seen, their track IDs, the annotated stream.

    from mmchat_ros.detection_summary import summarise_detections
    summarise_detections('demo_output/demo.mcap')

Reads an MCAP written by the runner's recorder (no ROS graph needed).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from mmchat_ros.mcap_recorder import read_messages
from mmchat_ros.msg import Detection

TRACK_STATE_NAMES = {Detection.TRACK_NONE: 'untracked', Detection.TRACK_TENTATIVE: 'tentative',
                     Detection.TRACK_CONFIRMED: 'confirmed', Detection.TRACK_LOST: 'lost'}


def _seconds(stamp) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def summarise_detections(mcap_path: str | Path, topic: str = '/detections',
                         annotated_topic: str = '/detections/image_annotated') -> dict[str, Any]:
    """A summary of the DetectionArray `topic` and the frame count of `annotated_topic`.

    Frames, detections per class, and every confirmed track (class, first/last seen, frames, mean
    score, longest age).
    """
    frames = frames_with_detections = annotated = 0
    per_class: Counter = Counter()
    states: Counter = Counter()
    tracks: dict[int, dict[str, Any]] = {}
    scores: dict[int, list[float]] = defaultdict(list)
    first_stamp = last_stamp = None
    for name, _, message in read_messages(mcap_path, [topic, annotated_topic]):
        if name == annotated_topic:
            annotated += 1
            continue
        frames += 1
        stamp = _seconds(message.header.stamp)
        first_stamp = stamp if first_stamp is None else first_stamp
        last_stamp = stamp
        frames_with_detections += bool(message.detections)
        for d in message.detections:
            states[TRACK_STATE_NAMES.get(d.track_state, str(d.track_state))] += 1
            if d.track_state == Detection.TRACK_LOST:
                continue                               # a lost track's box is a prediction
            per_class[d.class_name] += 1
            if d.track_state != Detection.TRACK_CONFIRMED:
                continue
            track = tracks.setdefault(d.track_id, {'class': d.class_name, 'first_seen_s': stamp,
                                                   'frames': 0, 'max_age_s': 0.0})
            track['last_seen_s'] = stamp
            track['frames'] += 1
            track['max_age_s'] = max(track['max_age_s'], round(float(d.track_age_s), 2))
            scores[d.track_id].append(float(d.score))
    for track_id, track in tracks.items():
        track['mean_score'] = round(sum(scores[track_id]) / len(scores[track_id]), 3)
        track['first_seen_s'] = round(track['first_seen_s'] - (first_stamp or 0.0), 2)
        track['last_seen_s'] = round(track['last_seen_s'] - (first_stamp or 0.0), 2)
    targets = Counter(t['class'] for t in tracks.values())
    return {'topic': topic, 'frames': frames, 'frames_with_detections': frames_with_detections,
            'span_s': round((last_stamp - first_stamp), 2) if frames else 0.0,
            'detections_per_class': dict(per_class), 'detections_per_track_state': dict(states),
            'targets_seen': dict(targets),
            'tracks': {str(k): v for k, v in sorted(tracks.items())},
            'annotated_frames': annotated}
