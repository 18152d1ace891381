# moving white vehicle (refav_parity program p45)
description = 'moving white vehicle'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
moving_vehicles = scenario_not(stationary)(vehicles, log_dir)
white_moving_vehicles = is_color(moving_vehicles, log_dir, color='white')
output_scenario(white_moving_vehicles, description, log_dir, output_dir)
