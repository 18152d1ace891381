description = 'braking vehicle in front of the ego vehicle'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
braking = accelerating(vehicles, log_dir, min_accel=-np.inf, max_accel=-1)
ego = get_objects_of_category(log_dir, category='EGO_VEHICLE')
result = get_objects_in_relative_direction(ego, braking, log_dir, direction='forward', max_number=1, within_distance=40, lateral_thresh=2)
output_scenario(result, description, log_dir, output_dir)
