description = 'vehicle crossing traffic near pedestrians, not following anyone'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
perp = heading_in_relative_direction_to(vehicles, vehicles, log_dir, direction='perpendicular')
peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
near = near_objects(perp, peds, log_dir, distance_thresh=12)
result = scenario_not(following)(near, vehicles, log_dir)
output_scenario(result, description, log_dir, output_dir)
