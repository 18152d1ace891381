description = 'vehicle swerving left'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
result = has_lateral_acceleration(vehicles, log_dir, min_accel=1.5)
output_scenario(result, description, log_dir, output_dir)
