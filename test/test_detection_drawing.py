"""How detections are drawn and outlined for rviz, without ROS."""
import numpy as np
import pytest

from mmchat_ros.detection import drawing
from mmchat_ros.detection.drawing import ShownBox


def test_labels_name_the_class_track_and_score():
    assert ShownBox(0, 0, 1, 1, 'person', 0.876, 3).label == 'person #3 0.88'
    assert ShownBox(0, 0, 1, 1, 'person', 0.876, 3, lost=True).label == 'person #3 lost'
    assert ShownBox(0, 0, 1, 1, 'vehicle', 0.5).label == 'vehicle 0.50'


def test_each_track_keeps_a_distinct_colour_and_untracked_boxes_are_grey():
    colours = [drawing.track_colour(i) for i in range(8)]
    assert len(set(colours)) == 8
    assert drawing.track_colour(5) == colours[5]
    assert drawing.track_colour(-1) == (200, 200, 200)


def test_annotate_draws_on_a_copy():
    image = np.zeros((60, 80, 3), np.uint8)
    drawn = drawing.annotate(image, [ShownBox(10, 20, 50, 50, 'person', 0.9, 1)])
    assert not image.any()
    assert (drawn[20, 10:51] == drawing.track_colour(1)).all()          # the top edge


def test_intrinsics_from_the_camera_matrix_or_a_90_degree_pinhole():
    k = [300.0, 0, 160, 0, 310.0, 120, 0, 0, 1]
    assert drawing.intrinsics(320, 240, k) == (300.0, 310.0, 160, 120)
    assert drawing.intrinsics(320, 240) == pytest.approx((160.0, 160.0, 160.0, 120.0))


def test_outlines_back_project_the_box_corners_to_the_marker_depth():
    box = ShownBox(60, 20, 260, 220, 'person', 0.9, 2, lost=True)
    outline, = drawing.outlines([box], (100.0, 100.0, 160.0, 120.0), 3.0)
    assert outline.corners.tolist() == [[-3.0, -3.0, 3.0], [3.0, -3.0, 3.0], [3.0, 3.0, 3.0],
                                        [-3.0, 3.0, 3.0], [-3.0, -3.0, 3.0]]
    assert outline.rgba[3] == 0.5 and outline.name == 'person #2'
