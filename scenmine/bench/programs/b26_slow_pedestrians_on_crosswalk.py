description = 'slow pedestrian near a crosswalk'
peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
slow = has_velocity(peds, log_dir, min_velocity=0.2, max_velocity=1.0)
result = at_pedestrian_crossing(slow, log_dir, within_distance=3)
output_scenario(result, description, log_dir, output_dir)
