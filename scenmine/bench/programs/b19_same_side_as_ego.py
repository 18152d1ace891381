description = 'moving vehicle on the same side of the road as the ego vehicle'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
moving = has_velocity(vehicles, log_dir, min_velocity=2, max_velocity=20)
ego = get_objects_of_category(log_dir, category='EGO_VEHICLE')
result = on_relative_side_of_road(moving, ego, log_dir, side='same')
output_scenario(result, description, log_dir, output_dir)
