description = 'vehicle turning right at a crosswalk'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
right = turning(vehicles, log_dir, direction='right')
result = scenario_and([right, at_pedestrian_crossing(vehicles, log_dir, within_distance=2), is_category(vehicles, log_dir, category='REGULAR_VEHICLE')])
output_scenario(result, description, log_dir, output_dir)
