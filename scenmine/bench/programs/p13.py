# vehicle with a bicycle to its right (refav_parity program p13)
description = 'vehicle with a bicycle to its right'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
bicycles = get_objects_of_category(log_dir, category='BICYCLE')
vehicles_with_bicycle_right = has_objects_in_relative_direction(vehicles, bicycles, log_dir, direction='right', min_number=1, within_distance=10)
output_scenario(vehicles_with_bicycle_right, description, log_dir, output_dir)
