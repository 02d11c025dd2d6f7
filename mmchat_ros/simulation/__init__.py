"""The built-in simulator (ROS-free): MuJoCo worlds with a multirotor and scripted targets."""
from mmchat_ros.simulation.simulator import (BatteryReading, Disturbances, ImuSample, Simulator,
                                             TargetTruth, VehicleTruth)
from mmchat_ros.simulation.world import World, WorldError

__all__ = ['BatteryReading', 'Disturbances', 'ImuSample', 'Simulator', 'TargetTruth',
           'VehicleTruth', 'World', 'WorldError']
