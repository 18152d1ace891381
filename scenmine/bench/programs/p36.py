# moving vehicle near a construction cone (refav_parity program p36)
description = 'moving vehicle near a construction cone'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
moving_vehicles = has_velocity(vehicles, log_dir, min_velocity=2)
cones = get_objects_of_category(log_dir, category='CONSTRUCTION_CONE')
vehicles_near_cones = near_objects(moving_vehicles, cones, log_dir, distance_thresh=5, min_objects=1)
output_scenario(vehicles_near_cones, description, log_dir, output_dir)
