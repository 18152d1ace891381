description = 'vehicle heading toward a pedestrian'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
result = heading_toward(vehicles, peds, log_dir, angle_threshold=15, minimum_speed=0.2, max_distance=20)
output_scenario(result, description, log_dir, output_dir)
