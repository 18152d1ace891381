# accelerating vehicle (refav_parity program p22)
description = 'accelerating vehicle'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
accelerating_vehicles = accelerating(vehicles, log_dir, min_accel=1.0)
output_scenario(accelerating_vehicles, description, log_dir, output_dir)
