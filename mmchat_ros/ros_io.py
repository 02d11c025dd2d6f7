"""Conversions between ROS messages and the package's plain data, and the QoS of camera streams.

Images, camera info, stamps, commands, points and poses; the QoS every node uses for camera streams.
"""
from __future__ import annotations

import copy
import math
from typing import Iterable

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point, Pose, Quaternion, Vector3
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from mmchat_ros import image_codec
from mmchat_ros.calibration import CameraCalibration
from mmchat_ros.geometry import quaternion_from_matrix
from mmchat_ros.control.commands import CommandRequest
from mmchat_ros.msg import Command, Detection

#: QoS for camera images and camera info: best effort, keep last 5 (REP-2003 sensor data).
SENSOR_QOS: QoSProfile = qos_profile_sensor_data
#: Sensor-data QoS keeping one frame, for nodes slower than the camera: a frame that arrives while
#: one is processed replaces the waiting one, so the node always works on the latest frame.
LATEST_FRAME_QOS: QoSProfile = copy.copy(SENSOR_QOS)
LATEST_FRAME_QOS.depth = 1
#: The colour and grey encodings the camera publishes and SLAM reads.
ENCODINGS = ('bgr8', 'rgb8', 'mono8')


def image_msg(image: np.ndarray, encoding: str, header: Header) -> Image:
    """A sensor_msgs/Image holding `image` (see image_codec.encode for the checks)."""
    fields = image_codec.encode(image, encoding)
    msg = Image(header=header, height=fields.height, width=fields.width, encoding=fields.encoding,
                is_bigendian=fields.is_bigendian, step=fields.step)
    msg.data = fields.data          # assigned after construction: the constructor would copy it
    return msg


def image_array(msg: Image, expected: tuple[str, ...] | None = None) -> np.ndarray:
    """The pixels of `msg` as an array; raises image_codec.ImageFormatError for malformed images."""
    return image_codec.decode(msg, expected)


def bgr_array(msg: Image) -> np.ndarray:
    """The pixels of a colour or grey image as BGR uint8 (converting rgb8 / mono8 / *a8)."""
    import cv2  # imported here: only image consumers need OpenCV

    pixels = image_codec.decode(msg, ('bgr8', 'rgb8', 'bgra8', 'rgba8', 'mono8'))
    conversions = {'rgb8': cv2.COLOR_RGB2BGR, 'bgra8': cv2.COLOR_BGRA2BGR,
                   'rgba8': cv2.COLOR_RGBA2BGR, 'mono8': cv2.COLOR_GRAY2BGR}
    if msg.encoding in conversions:
        return cv2.cvtColor(pixels, conversions[msg.encoding])
    return pixels


def camera_info_msg(calibration: CameraCalibration, header: Header) -> CameraInfo:
    """A sensor_msgs/CameraInfo for `calibration`, stamped with `header`."""
    return CameraInfo(header=header, width=calibration.width, height=calibration.height,
                      distortion_model=calibration.distortion_model, d=list(calibration.d),
                      k=list(calibration.k), r=list(calibration.r), p=list(calibration.p))


def seconds(stamp: Time) -> float:
    """A builtin_interfaces/Time as float seconds."""
    return stamp.sec + stamp.nanosec * 1e-9


def request_from_msg(msg: Command, request_id: str | None = None) -> CommandRequest:
    """A CommandRequest from an mmchat_ros/Command (`request_id` replaces the message's)."""
    return CommandRequest(
        request_id=msg.request_id if request_id is None else request_id, verb=int(msg.verb),
        frame_id=msg.header.frame_id, x_m=float(msg.x_m), y_m=float(msg.y_m), z_m=float(msg.z_m),
        yaw_rad=float(msg.yaw_rad), altitude_m=float(msg.altitude_m),
        speed_mps=float(msg.speed_mps), track_id=int(msg.track_id),
        standoff_m=float(msg.standoff_m), source=int(msg.source), operator_id=msg.operator_id)


def command_msg(request: CommandRequest, stamp: Time) -> Command:
    """An mmchat_ros/Command carrying `request`, stamped `stamp` in the request's frame."""
    return Command(
        header=Header(stamp=stamp, frame_id=request.frame_id), request_id=request.request_id,
        verb=int(request.verb), x_m=request.x_m, y_m=request.y_m, z_m=request.z_m,
        yaw_rad=request.yaw_rad, altitude_m=request.altitude_m, speed_mps=request.speed_mps,
        track_id=request.track_id, standoff_m=request.standoff_m, source=int(request.source),
        operator_id=request.operator_id)


def point(xyz: Iterable[float]) -> Point:
    """A geometry_msgs/Point from three numbers (a numpy array, a tuple)."""
    x, y, z = (float(v) for v in xyz)
    return Point(x=x, y=y, z=z)


def vector3(xyz: Iterable[float]) -> Vector3:
    """A geometry_msgs/Vector3 from three numbers."""
    x, y, z = (float(v) for v in xyz)
    return Vector3(x=x, y=y, z=z)


def quaternion(xyzw: Iterable[float]) -> Quaternion:
    """A geometry_msgs/Quaternion from x, y, z, w."""
    x, y, z, w = (float(v) for v in xyzw)
    return Quaternion(x=x, y=y, z=z, w=w)


def pose(position: Iterable[float], orientation_xyzw: Iterable[float]) -> Pose:
    """A geometry_msgs/Pose from a position and an x, y, z, w quaternion."""
    return Pose(position=point(position), orientation=quaternion(orientation_xyzw))


def pose_from_matrix(matrix: np.ndarray) -> Pose:
    """A geometry_msgs/Pose from a 4x4 homogeneous transform."""
    return pose(matrix[:3, 3], quaternion_from_matrix(matrix[:3, :3]))


#: A pose whose every number is NaN: "no valid pose" for consumers that check finiteness.
NAN_POSE = pose([math.nan] * 3, [math.nan] * 4)


def shown_box(detection: Detection):
    """A detection as mmchat_ros.detection.drawing draws it (a ShownBox)."""
    from mmchat_ros.detection.drawing import ShownBox  # here: only the detector needs OpenCV

    d = detection
    return ShownBox(d.center_x_px - d.size_x_px / 2, d.center_y_px - d.size_y_px / 2,
                    d.center_x_px + d.size_x_px / 2, d.center_y_px + d.size_y_px / 2,
                    d.class_name, d.score, d.track_id, d.track_state == Detection.TRACK_LOST)


def outline_markers(header: Header, outlines: Iterable) -> MarkerArray:
    """Rviz markers for drawing.Outline boxes: a line strip and a name each, after a DELETEALL."""
    markers = [Marker(header=header, ns='detections', action=Marker.DELETEALL)]
    for i, outline in enumerate(outlines):
        colour = ColorRGBA(r=outline.rgba[0], g=outline.rgba[1], b=outline.rgba[2],
                           a=outline.rgba[3])
        box = Marker(header=header, ns='detections', id=2 * i, type=Marker.LINE_STRIP,
                     action=Marker.ADD, points=[point(c) for c in outline.corners], color=colour)
        box.pose.orientation.w = 1.0
        box.scale.x = 0.02
        label = Marker(header=header, ns='detections', id=2 * i + 1,
                       type=Marker.TEXT_VIEW_FACING, action=Marker.ADD, color=colour,
                       text=outline.name)
        x, y, z = outline.corners[0]
        label.pose.position = point((x, y - 0.1, z))
        label.pose.orientation.w = 1.0
        label.scale.z = 0.15
        markers += [box, label]
    return MarkerArray(markers=markers)
