"""`make demo`: run the replay profile in one process, record it, and summarise what was published.

At this stage the camera node plays a generated test video; the results land in demo_output/:
demo.mcap (every topic), summary.json (per-topic counts and rates) and frames.png (recorded frames).
"""
from __future__ import annotations

import argparse
from collections import defaultdict
import json
from pathlib import Path
import sys

import numpy as np

from mmchat_ros import graph, image_codec, ros_io, synthetic_media
from mmchat_ros.bringup import GraphRunner
from mmchat_ros.mcap_recorder import read_messages


def run(out: Path, seconds: float) -> dict:
    """Record the sim profile with the camera on a test video; return the summary."""
    out.mkdir(parents=True, exist_ok=True)
    fps = 30.0
    video = synthetic_media.write_video(out / 'test_video.avi', int(seconds * fps))
    recording = out / 'demo.mcap'
    overrides = {'camera': {'source': 'video', 'path': str(video), 'loop': False, 'fps': fps}}
    runner = GraphRunner(graph.load_profile('replay'), overrides, record_path=recording)
    try:
        runner.start()
        print(f'[demo] recording {seconds:.0f} s of the replay profile to {recording}', flush=True)
        runner.spin(seconds + 1.0)
    finally:
        runner.shutdown()
    return summarise(recording, out)


def summarise(recording: Path, out: Path) -> dict:
    """Per-topic counts, rates and stamps of a recording, and a contact sheet of its images."""
    per_topic: dict[str, list] = defaultdict(list)
    images = []
    for topic, log_time, message in read_messages(recording):
        per_topic[topic].append(log_time)
        if topic.endswith('image_raw'):
            images.append(message)
    topics = {}
    for topic, times in sorted(per_topic.items()):
        span = (times[-1] - times[0]) * 1e-9
        topics[topic] = {'messages': len(times),
                         'rate_hz': round((len(times) - 1) / span, 2) if span > 0 else None}
    summary = {'recording': str(recording), 'topics': topics}
    if images:
        latencies = [(t - _stamp_ns(m)) * 1e-6 for t, m in zip(per_topic[_image_topic(per_topic)],
                                                              images)]
        summary['camera'] = {
            'frames': len(images), 'size': [images[0].width, images[0].height],
            'encoding': images[0].encoding, 'frame_id': images[0].header.frame_id,
            'stamp_to_record_ms_p50': round(float(np.percentile(latencies, 50)), 3),
            'video_frames_in_order': _frames_in_order(images)}
        summary['contact_sheet'] = str(_contact_sheet(images, out / 'frames.png'))
    (out / 'summary.json').write_text(json.dumps(summary, indent=2))
    return summary


def _image_topic(per_topic: dict) -> str:
    return next(t for t in per_topic if t.endswith('image_raw'))


def _stamp_ns(message) -> int:
    return message.header.stamp.sec * 1_000_000_000 + message.header.stamp.nanosec


def _frames_in_order(images: list) -> bool:
    indices = [synthetic_media.frame_index_from_brightness(image_codec.decode(m)) % 50 for m in images]
    return all((b - a) % 50 == 1 for a, b in zip(indices, indices[1:]))


def _contact_sheet(images: list, path: Path, count: int = 8) -> Path:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    picks = np.linspace(0, len(images) - 1, min(count, len(images))).astype(int)
    fig, axes = plt.subplots(2, (len(picks) + 1) // 2, figsize=(12, 4.5), squeeze=False)
    for ax in axes.flat:
        ax.axis('off')
    for ax, i in zip(axes.flat, picks):
        message = images[i]
        ax.imshow(image_codec.decode(message)[:, :, ::-1])
        ax.set_title(f'#{i}  t={ros_io.seconds(message.header.stamp) % 100:.2f} s', fontsize=8)
    fig.suptitle(f'{len(images)} frames recorded from /camera/image_raw')
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m mmchat_ros.demo`."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', type=Path, default=Path('demo_output'))
    parser.add_argument('--seconds', type=float, default=5.0)
    args = parser.parse_args(argv)
    summary = run(args.out, args.seconds)
    for topic, stats in summary['topics'].items():
        print(f"[demo] {topic:28s} {stats['messages']:5d} messages  {stats['rate_hz'] or 0:6.2f} Hz")
    camera = summary.get('camera')
    if not camera:
        print('[demo] no camera images were recorded', file=sys.stderr)
        return 1
    print(f"[demo] camera: {camera['frames']} frames {camera['size'][0]}x{camera['size'][1]} "
          f"{camera['encoding']} in {camera['frame_id']}, in order: {camera['video_frames_in_order']}")
    print(f'[demo] results: {args.out / "summary.json"}, {summary["contact_sheet"]}, '
          f'{summary["recording"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
