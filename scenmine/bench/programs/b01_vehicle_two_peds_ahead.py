description = 'vehicle with at least two pedestrians ahead of it'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
result = has_objects_in_relative_direction(vehicles, peds, log_dir, direction='forward', min_number=2, within_distance=30)
output_scenario(result, description, log_dir, output_dir)
