# accelerating to the side (refav_parity program p03)
description = 'accelerating to the side'
all_objects = get_objects_of_category(log_dir, category="ANY")
accel = scenario_not(has_lateral_acceleration)(all_objects, log_dir, min_accel=-1, max_accel=1)
output_scenario(accel, description, log_dir, output_dir)
