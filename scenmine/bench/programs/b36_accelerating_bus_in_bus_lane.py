description = 'bus accelerating away'
buses = scenario_or([get_objects_of_category(log_dir, category='BUS'), get_objects_of_category(log_dir, category='SCHOOL_BUS')])
fast = accelerating(buses, log_dir, min_accel=0.3, max_accel=3)
result = scenario_or([on_lane_type(fast, log_dir, lane_type='BUS'), is_category(fast, log_dir, category='SCHOOL_BUS')])
output_scenario(result, description, log_dir, output_dir)
