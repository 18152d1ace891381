description = 'pedestrian facing a nearby vehicle'
peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
result = facing_toward(peds, vehicles, log_dir, within_angle=15, max_distance=8)
output_scenario(result, description, log_dir, output_dir)
