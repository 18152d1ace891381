description = 'moving vehicle with another vehicle alongside on its left'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
moving = has_velocity(vehicles, log_dir, min_velocity=3)
result = has_objects_in_relative_direction(moving, vehicles, log_dir, direction='left', within_distance=5, lateral_thresh=1, max_number=1)
output_scenario(result, description, log_dir, output_dir)
