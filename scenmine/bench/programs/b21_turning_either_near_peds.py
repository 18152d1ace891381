description = 'turning vehicle near pedestrians'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
turns = turning(vehicles, log_dir)
peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
result = near_objects(turns, peds, log_dir, distance_thresh=15, min_objects=2)
output_scenario(result, description, log_dir, output_dir)
