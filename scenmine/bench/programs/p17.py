# vehicle turning left at an intersection (refav_parity program p17)
description = 'vehicle turning left at an intersection'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
left_turning = turning(vehicles, log_dir, direction='left')
vehicles_on_intersection = on_intersection(vehicles, log_dir)
left_turn_at_intersection = scenario_and([left_turning, vehicles_on_intersection])
output_scenario(left_turn_at_intersection, description, log_dir, output_dir)
