description = 'oncoming traffic relative to the ego vehicle'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
ego = get_objects_of_category(log_dir, category='EGO_VEHICLE')
result = heading_in_relative_direction_to(vehicles, ego, log_dir, direction='opposite')
output_scenario(result, description, log_dir, output_dir)
