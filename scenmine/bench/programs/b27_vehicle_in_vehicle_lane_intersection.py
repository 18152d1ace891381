description = 'vehicle on an intersection in a vehicle lane'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
on_int = on_intersection(vehicles, log_dir)
result = on_lane_type(on_int, log_dir, lane_type='VEHICLE')
output_scenario(result, description, log_dir, output_dir)
