# moving vehicle approaching a stop sign (refav_parity program p34)
description = 'moving vehicle approaching a stop sign'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
moving_vehicles = has_velocity(vehicles, log_dir, min_velocity=1)
approaching_stop_sign = at_stop_sign(moving_vehicles, log_dir, forward_thresh=20)
output_scenario(approaching_stop_sign, description, log_dir, output_dir)
