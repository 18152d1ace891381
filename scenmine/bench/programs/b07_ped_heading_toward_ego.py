description = 'pedestrian walking toward the ego vehicle'
peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
ego = get_objects_of_category(log_dir, category='EGO_VEHICLE')
result = heading_toward(peds, ego, log_dir, angle_threshold=30, minimum_speed=0.05, max_distance=30)
output_scenario(result, description, log_dir, output_dir)
