# vehicle turning right near an intersection (refav_parity program p18)
description = 'vehicle turning right near an intersection'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
right_turning = turning(vehicles, log_dir, direction='right')
right_turning_near_intersection = near_intersection(right_turning, log_dir, threshold=10)
output_scenario(right_turning_near_intersection, description, log_dir, output_dir)
