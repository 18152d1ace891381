description = 'pedestrian walking the same way as the ego vehicle'
peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
ego = get_objects_of_category(log_dir, category='EGO_VEHICLE')
result = heading_in_relative_direction_to(peds, ego, log_dir, direction='same')
output_scenario(result, description, log_dir, output_dir)
