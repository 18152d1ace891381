description = 'two vehicles in the same lane'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
result = in_same_lane(vehicles, vehicles, log_dir)
output_scenario(result, description, log_dir, output_dir)
