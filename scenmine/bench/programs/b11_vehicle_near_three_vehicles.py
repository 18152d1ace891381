description = 'vehicle in dense traffic'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
result = near_objects(vehicles, vehicles, log_dir, distance_thresh=8, min_objects=3)
output_scenario(result, description, log_dir, output_dir)
