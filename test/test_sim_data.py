"""The detector's training-data generator: random scenes, distractors, rendered labelled images."""
from __future__ import annotations

import cv2
import numpy as np

from mmchat_ros import graph
from mmchat_ros.simulation import World
from mmchat_tools.detection import sim_data

SHARE = graph.share_dir()


def _yard() -> World:
    return World.from_yaml(SHARE / 'sim' / 'worlds' / 'outdoor_yard.yaml')


def test_random_colours_include_neutral_greys():
    rng = np.random.default_rng(1)
    colours = np.array([sim_data._random_colour(rng)[:3] for _ in range(2000)])
    spread = colours.max(axis=1) - colours.min(axis=1)
    neutral = spread <= 0.08
    assert abs(neutral.mean() - sim_data.NEUTRAL_COLOUR_SHARE) < 0.05
    greys = colours[neutral].mean(axis=1)
    assert greys.min() < 0.15 and greys.max() > 0.8          # from near black to near white
    assert np.all((colours >= 0.0) & (colours <= 1.0))


def test_distractors_stay_inside_the_arena_and_some_are_person_sized():
    base = _yard()
    rng = np.random.default_rng(2)
    obstacles = [sim_data.random_obstacle(base, rng) for _ in range(1000)]
    sx, sy, _ = base.size_m
    for o in obstacles:
        assert abs(o.position_m[0]) < sx / 2 and abs(o.position_m[1]) < sy / 2
        assert o.position_m[2] == o.size_m[2] / 2                  # standing on the ground
    person_sized = [o for o in obstacles if 0.3 <= o.size_m[0] <= 0.8 and 0.3 <= o.size_m[1] <= 0.8
                    and 1.4 <= o.size_m[2] <= 2.2]
    assert len(person_sized) / len(obstacles) > sim_data.PERSON_SIZED_SHARE * 0.9


def test_written_dataset_has_a_label_file_per_image_with_boxes_inside_it(tmp_path):
    worlds = sorted((SHARE / 'sim' / 'worlds').glob('*.yaml'))
    stats = sim_data.write_dataset(tmp_path, 'train', 6, seed=7, worlds=worlds,
                                   vehicle=SHARE / 'sim' / 'vehicles' / 'quadrotor.yaml',
                                   images_per_scene=3, max_distractors=4)
    images = sorted((tmp_path / 'images' / 'train').glob('*.jpg'))
    assert stats['images'] == len(images) == 6
    boxes_written = 0
    for image in images:
        height, width = cv2.imread(str(image)).shape[:2]
        assert (width, height) in ((320, 240), (480, 360))
        boxes, classes = sim_data.read_yolo_labels(
            tmp_path / 'labels' / 'train' / f'{image.stem}.txt', width, height)
        assert set(classes.tolist()) <= {0, 1}
        assert np.all(boxes[:, 2] > boxes[:, 0]) and np.all(boxes[:, 3] > boxes[:, 1])
        assert np.all(boxes >= -0.5)
        assert np.all(boxes[:, [0, 2]] <= width + 0.5) and np.all(boxes[:, [1, 3]] <= height + 0.5)
        boxes_written += len(boxes)
    assert boxes_written == stats['boxes_person'] + stats['boxes_vehicle'] > 0
