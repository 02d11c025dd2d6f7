"""The twist (cmd_vel) interface driving a small kinematic ground robot written here."""
import math

from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
import pytest
from rclpy.node import Node
from rclpy.parameter import Parameter

from mmchat_ros.mission_api import Drone
from mmchat_ros.msg import VehicleState
from mmchat_ros.nodes.flight_controller_node import FlightControllerNode


class GroundRobot(Node):
    """Integrates body-frame cmd_vel (x, y, yaw rate; z ignored) at 50 Hz, publishes odometry."""

    def __init__(self, context):
        super().__init__('ground_robot', context=context)
        self.x = self.y = self.yaw = 0.0
        self.command = Twist()
        self.commands = 0
        self.create_subscription(Twist, '/cmd_vel', self._on_cmd, 10)
        self._odom = self.create_publisher(Odometry, '/robot/odom', 10)
        self.create_timer(0.02, self._step)

    def _on_cmd(self, msg):
        self.command = msg
        self.commands += 1

    def _step(self):
        c, dt = self.command, 0.02
        self.x += (c.linear.x * math.cos(self.yaw) - c.linear.y * math.sin(self.yaw)) * dt
        self.y += (c.linear.x * math.sin(self.yaw) + c.linear.y * math.cos(self.yaw)) * dt
        self.yaw += c.angular.z * dt
        odom = Odometry(child_frame_id='base_link')
        odom.header.frame_id = 'odom'
        odom.header.stamp = self.get_clock().now().to_msg()
        odom.pose.pose.position.x, odom.pose.pose.position.y = self.x, self.y
        odom.pose.pose.orientation.z = math.sin(self.yaw / 2)
        odom.pose.pose.orientation.w = math.cos(self.yaw / 2)
        odom.twist.twist = c                          # body frame, as REP-105 odometry says
        self._odom.publish(odom)


def test_a_ground_robot_drives_the_mission_through_cmd_vel(ros_context, executor):
    robot = GroundRobot(ros_context)
    controller = FlightControllerNode(context=ros_context, parameter_overrides=[
        Parameter('vehicle_interface', value='twist'), Parameter('twist.planar', value=True),
        Parameter('state_topic', value='/robot/odom'), Parameter('setpoint_hz', value=20.0),
        Parameter('mission.takeoff_speed_mps', value=1.5),
        Parameter('mission.land_speed_mps', value=1.5),
        Parameter('geofence.min_altitude_m', value=0.1),
        Parameter('failsafe.state_timeout_s', value=5.0)])     # wall clock, loaded 2-core machine
    executor.add_node(robot)
    executor.add_node(controller)
    with Drone(context=ros_context, executor=executor, timeout_s=30.0) as drone:
        assert drone.takeoff(0.5).success                      # a virtual height: start driving
        result = drone.go_to(2.0, 1.0, 0.5, yaw=math.pi / 2, speed=1.0)
        assert result.success, result.reason
        assert (robot.x, robot.y) == pytest.approx((2.0, 1.0), abs=0.15)
        assert robot.yaw == pytest.approx(math.pi / 2, abs=0.1)
        assert drone.move_by(1.0, 0.0, 0.0).success            # forward = +y now
        assert (robot.x, robot.y) == pytest.approx((2.0, 2.0), abs=0.15)
        assert drone.land().success                            # stop driving
        assert drone.state.mode in (VehicleState.MODE_LANDING, VehicleState.MODE_LANDED)
        stopped = robot.commands
        drone.wait(0.3)
        assert robot.commands > stopped
        assert robot.command.linear.x == 0.0 and robot.command.angular.z == 0.0
    controller.destroy_node()
    robot.destroy_node()
