description = 'white or silver vehicle in the ego lane ahead'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
light = scenario_or([is_color(vehicles, log_dir, color='white'), is_color(vehicles, log_dir, color='silver')])
ego = get_objects_of_category(log_dir, category='EGO_VEHICLE')
ahead = get_objects_in_relative_direction(ego, light, log_dir, direction='forward', within_distance=50)
result = in_same_lane(ahead, ego, log_dir)
output_scenario(result, description, log_dir, output_dir)
