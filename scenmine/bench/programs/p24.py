# vehicle traveling faster than 10 meters per second (refav_parity program p24)
description = 'vehicle traveling faster than 10 meters per second'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
fast_vehicles = has_velocity(vehicles, log_dir, min_velocity=10)
output_scenario(fast_vehicles, description, log_dir, output_dir)
