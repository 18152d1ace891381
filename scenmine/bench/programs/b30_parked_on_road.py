description = 'parked vehicle on the road'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
parked = stationary(vehicles, log_dir)
result = on_road(parked, log_dir)
output_scenario(result, description, log_dir, output_dir)
