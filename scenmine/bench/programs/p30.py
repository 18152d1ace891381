# vehicle crossing the path of the ego vehicle at an intersection (refav_parity program p30)
description = 'vehicle crossing the path of the ego vehicle at an intersection'
ego_vehicle = get_objects_of_category(log_dir, category='EGO_VEHICLE')
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
perpendicular_vehicles = heading_in_relative_direction_to(vehicles, ego_vehicle, log_dir, direction='perpendicular')
perpendicular_on_intersection = scenario_and([perpendicular_vehicles, on_intersection(vehicles, log_dir)])
output_scenario(perpendicular_on_intersection, description, log_dir, output_dir)
