description = 'vehicle following another vehicle'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
moving = has_velocity(vehicles, log_dir, min_velocity=1)
result = following(moving, moving, log_dir)
output_scenario(result, description, log_dir, output_dir)
