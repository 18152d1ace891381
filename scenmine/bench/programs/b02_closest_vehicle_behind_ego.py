description = 'the vehicle directly behind the ego vehicle'
ego = get_objects_of_category(log_dir, category='EGO_VEHICLE')
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
result = get_objects_in_relative_direction(ego, vehicles, log_dir, direction='backward', max_number=1, within_distance=30, lateral_thresh=1.5)
output_scenario(result, description, log_dir, output_dir)
