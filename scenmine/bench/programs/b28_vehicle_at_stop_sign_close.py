description = 'vehicle stopped at a stop sign'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
stopped = has_velocity(vehicles, log_dir, min_velocity=0, max_velocity=0.5)
result = at_stop_sign(stopped, log_dir, forward_thresh=5)
output_scenario(result, description, log_dir, output_dir)
