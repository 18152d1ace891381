description = 'car to the left of a bus'
cars = get_objects_of_category(log_dir, category='REGULAR_VEHICLE')
buses = scenario_or([get_objects_of_category(log_dir, category='BUS'), get_objects_of_category(log_dir, category='ARTICULATED_BUS')])
result = get_objects_in_relative_direction(buses, cars, log_dir, direction='left', min_number=1, within_distance=15)
output_scenario(result, description, log_dir, output_dir)
