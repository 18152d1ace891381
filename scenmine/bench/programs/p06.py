# pedestrian crossing in front of vehicles (refav_parity program p06)
description='pedestrian crossing in front of vehicles'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
stationary_vehicles = stationary(vehicles, log_dir)
peds = reverse_relationship(being_crossed_by)(stationary_vehicles, peds, log_dir)
output_scenario(peds, description, log_dir, output_dir)
